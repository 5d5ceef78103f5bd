import { execFile } from 'node:child_process';
import { mkfifoSync } from './mkfifo';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Config } from '../../src/config';
import type { Daemon } from '../../src/main';
import { acknowledgeCommands, cleanField } from '../../src/writeback';
import { drain, getJson, postJson, REPO, startTestDaemon, tempDir, testConfig } from '../helpers';

const run = promisify(execFile);
const AGENT = path.join(REPO, 'config/integrations/nagios/faultdesk-writeback-agent.sh');
const AGENT_TOKEN = 'nagios-agent-token-1';
const ADMIN = { Authorization: 'Bearer admin-token-1' };

let daemon: Daemon;
let dir: string;
let cleanup: () => void;

async function start(nagios: NonNullable<Config['writeback']>['nagios']): Promise<void> {
  ({ dir, cleanup } = tempDir());
  const config = testConfig(dir);
  config.auth.admin = { bearer_token: 'admin-token-1' };
  config.writeback = { dry_run: false, nagios };
  daemon = await startTestDaemon(config);
}
afterEach(async () => {
  await daemon?.stop();
  cleanup?.();
});

const problem = (over: Record<string, string> = {}) =>
  new URLSearchParams({
    notification_type: 'PROBLEM',
    host_name: 'db1',
    host_state: 'UP',
    service_desc: 'Root Partition',
    service_state: 'CRITICAL',
    service_output: 'DISK CRITICAL - free space: / 312 MB',
    service_problem_id: '41',
    last_service_problem_id: '17',
    ...over,
  }).toString();

async function openFault(): Promise<string> {
  const res = await fetch(`${daemon.url}/api/v1/alerts/nagios`, { method: 'POST', headers: { ...ADMIN, 'Content-Type': 'application/x-www-form-urlencoded' }, body: problem() });
  expect(res.status).toBe(200);
  await drain(daemon);
  const { faults } = await getJson<{ faults: Array<{ id: string }> }>(`${daemon.url}/api/v1/faults`, ADMIN);
  return faults[0]!.id;
}

test('author and comment lose ; and newlines; a host or service name that could split the command is refused', () => {
  expect(cleanField('Grace; O\'Brien\r\nsecond line\tx')).toBe("Grace, O'Brien second line x");
  expect(acknowledgeCommands([{ host: 'db1', service: 'Root Partition' }, { host: 'edge-7' }], 'grace;x', 'line1\nline2; [1] SHUTDOWN_PROGRAM')).toEqual([
    'ACKNOWLEDGE_SVC_PROBLEM;db1;Root Partition;2;1;1;grace,x;line1 line2, [1] SHUTDOWN_PROGRAM',
    'ACKNOWLEDGE_HOST_PROBLEM;edge-7;2;1;1;grace,x;line1 line2, [1] SHUTDOWN_PROGRAM',
  ]);
  expect(() => acknowledgeCommands([{ host: 'db1\n[1] SHUTDOWN_PROGRAM' }], 'a', 'b')).toThrow(/cannot be written/);
});

test('command-file mode: an ack is one sticky ACKNOWLEDGE_SVC_PROBLEM line in the file; withdrawn, REMOVE_SVC_ACKNOWLEDGEMENT', async () => {
  const tmp = tempDir();
  const file = path.join(tmp.dir, 'nagios.cmd');
  writeFileSync(file, '');
  try {
    await start({ command_file: file, author: 'faultdesk' });
    const id = await openFault();
    await postJson(`${daemon.url}/api/v1/faults/${id}/ack`, { by: 'grace;ops\nteam' }, ADMIN);
    await drain(daemon);
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^\\[\\d+\\] ACKNOWLEDGE_SVC_PROBLEM;db1;Root Partition;2;1;1;grace,ops team;Acknowledged in faultdesk: fault ${id}, local ticket #\\d+$`));
    // The renewal of an ack that stands writes nothing again.
    await postJson(`${daemon.url}/api/v1/faults/${id}/unack`, {}, ADMIN);
    await drain(daemon);
    expect(readFileSync(file, 'utf8').split('\n').filter(Boolean)[1]).toMatch(/^\[\d+\] REMOVE_SVC_ACKNOWLEDGEMENT;db1;Root Partition$/);
  } finally {
    tmp.cleanup();
  }
});

test('command-file mode: a FIFO nobody reads (Nagios stopped) is retried, never blocks the worker', async () => {
  const tmp = tempDir();
  const fifo = path.join(tmp.dir, 'nagios.cmd');
  mkfifoSync(fifo);
  try {
    await start({ command_file: fifo, author: 'faultdesk' });
    const id = await openFault();
    await postJson(`${daemon.url}/api/v1/faults/${id}/ack`, {}, ADMIN);
    await daemon.outbox.runOnce();
    const { operations } = await getJson<{ operations: Array<{ state: string; lastError: string }> }>(`${daemon.url}/api/v1/outbox?system=nagios`, ADMIN);
    expect(operations).toEqual([expect.objectContaining({ state: 'pending', lastError: expect.stringContaining('ENXIO') })]);
  } finally {
    tmp.cleanup();
  }
});

test('agent mode: the agent route needs its own token; the shipped agent writes each command and confirms it', async () => {
  await start({ agent_token: AGENT_TOKEN, author: 'faultdesk' });
  const id = await openFault();
  await postJson(`${daemon.url}/api/v1/faults/${id}/ack`, { by: 'grace@acme' }, ADMIN);
  await drain(daemon);

  const route = `${daemon.url}/api/v1/writeback/nagios`;
  expect((await fetch(route)).status).toBe(401);
  expect((await fetch(route, { headers: { Authorization: 'Bearer wrong' } })).status).toBe(401);
  const listed = await getJson<{ commands: Array<{ id: number; fault: string; line: string }> }>(route, { Authorization: `Bearer ${AGENT_TOKEN}` });
  expect(listed.commands).toEqual([{ id: 1, fault: id, line: expect.stringMatching(/^\[\d+\] ACKNOWLEDGE_SVC_PROBLEM;db1;Root Partition;2;1;1;grace@acme;/), createdAt: expect.any(String) }]);
  // The agent's token is good for nothing else.
  expect((await fetch(`${daemon.url}/api/v1/faults`, { headers: { Authorization: `Bearer ${AGENT_TOKEN}` } })).status).toBe(401);
  expect((await postJson(`${route}/abc/done`, {}, { Authorization: `Bearer ${AGENT_TOKEN}` })).status).toBe(400);
  expect((await postJson(`${route}/99/done`, {}, { Authorization: `Bearer ${AGENT_TOKEN}` })).status).toBe(404);

  const metrics = () => fetch(`${daemon.url}/metrics`).then((r) => r.text());
  expect(await metrics()).toMatch(/faultdesk_writeback_agent_commands_waiting\{system="nagios"\} 1\n/);

  const cmd = path.join(dir, 'nagios.cmd');
  writeFileSync(cmd, '');
  writeFileSync(path.join(dir, 'agent-token'), `${AGENT_TOKEN}\n`);
  const env = { ...process.env, FAULTDESK_URL: daemon.url, FAULTDESK_TOKEN_FILE: path.join(dir, 'agent-token'), NAGIOS_COMMAND_FILE: cmd };
  await run('sh', [AGENT], { env });
  expect(readFileSync(cmd, 'utf8')).toBe(`${listed.commands[0]!.line}\n`);
  // Confirmed: the next run has nothing to write.
  expect((await getJson<{ commands: unknown[] }>(route, { Authorization: `Bearer ${AGENT_TOKEN}` })).commands).toEqual([]);
  await run('sh', [AGENT], { env });
  expect(readFileSync(cmd, 'utf8').split('\n').filter(Boolean)).toHaveLength(1);
  expect(await metrics()).toMatch(/faultdesk_writeback_agent_commands_waiting\{system="nagios"\} 0\n/);
  expect(await metrics()).toMatch(/faultdesk_writeback_agent_oldest_waiting_seconds\{system="nagios"\} 0\n/);
  // A confirmation sent twice is fine.
  expect((await postJson(`${route}/1/done`, {}, { Authorization: `Bearer ${AGENT_TOKEN}` })).status).toBe(200);
});

test('without agent_token the agent routes do not exist', async () => {
  await start({ command_file: '/nonexistent/nagios.cmd', author: 'faultdesk' });
  expect(daemon.routes.some((r) => r.path.startsWith('/api/v1/writeback'))).toBe(false);
});
