import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, SourceError } from '../../src/config';
import { tempDir } from '../helpers';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

function load(yaml: string) {
  const file = path.join(dir, 'faultdesk.yaml');
  writeFileSync(file, yaml);
  return loadConfig({ file });
}

function problems(yaml: string): string {
  try {
    load(yaml);
  } catch (err) {
    if (err instanceof SourceError) return err.message;
    throw err;
  }
  throw new Error('expected the config to be refused');
}

test('writeback: defaults, secrets from files, and the token counted as a secret for the logs', () => {
  writeFileSync(path.join(dir, 'zbx'), 'zbx-secret-1\n');
  writeFileSync(path.join(dir, 'agent'), 'agent-secret-1\n');
  const config = load(
    [
      'writeback:',
      '  alertmanager: { urls: [http://am-1:9093, http://am-2:9093] }',
      `  zabbix: { url: http://zabbix.example.com/, api_token_file: ${path.join(dir, 'zbx')} }`,
      `  nagios: { agent_token_file: ${path.join(dir, 'agent')} }`,
    ].join('\n'),
  );
  expect(config.writeback).toEqual({
    dry_run: false,
    alertmanager: { urls: ['http://am-1:9093', 'http://am-2:9093'], silence_for: 7_200_000, timeout: 10_000 },
    zabbix: { url: 'http://zabbix.example.com/', api_token: 'zbx-secret-1', close_on_ticket_close: false, timeout: 10_000 },
    nagios: { agent_token: 'agent-secret-1', author: 'faultdesk' },
  });
  expect(config.secrets).toEqual(expect.arrayContaining(['zbx-secret-1', 'agent-secret-1']));
  expect(config.jobs.writeback_renew).toBe('*/30 * * * * *');
  expect(load('log: { level: info }').writeback).toBeUndefined();
});

test('writeback: what is refused, with where', () => {
  expect(problems('writeback:\n  alertmanager: { urls: [] }\n')).toMatch(/writeback\.alertmanager\.urls/);
  expect(problems('writeback:\n  alertmanager: { urls: [http://am:9093], silence_for: 30s }\n')).toMatch(/silence_for.*at least 1m|at least 1m/);
  expect(problems('writeback:\n  zabbix: { url: http://z/ }\n')).toMatch(/api_token or api_token_file/);
  expect(problems('writeback:\n  nagios: { command_file: /x/nagios.cmd, agent_token: t }\n')).toMatch(/command_file .* or agent_token/);
  expect(problems('writeback:\n  nagios: {}\n')).toMatch(/command_file .* or agent_token/);
  expect(problems('writeback:\n  alertmanager: { urls: [http://am:9093], silence: 2h }\n')).toMatch(/silence/);
});
