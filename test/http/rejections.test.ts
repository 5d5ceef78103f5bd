import { PassThrough } from 'node:stream';
import { createLogger } from '../../src/log';
import { startDaemon, type Daemon } from '../../src/main';
import { fixture, startTestDaemon, tempDir, testConfig } from '../helpers';

// Every refused webhook request is counted with its reason, on the fast route and on Express alike:
// a wrong Alertmanager token must show on the dashboard.
let daemon: Daemon;
let cleanup: () => void;

beforeAll(async () => {
  const tmp = tempDir();
  cleanup = tmp.cleanup;
  const config = testConfig(tmp.dir);
  config.http.max_body_bytes = 2048;
  config.auth.sources.alertmanager = { bearer_token: 'am-1' };
  config.auth.sources.nagios = { bearer_token: 'ng-1' };
  daemon = await startTestDaemon(config);
});
afterAll(async () => {
  await daemon.stop();
  cleanup();
});

async function rejected(source: string, reason: string): Promise<number> {
  const text = await daemon.metrics.registry.metrics();
  const m = new RegExp(`faultdesk_payloads_rejected_total\\{source="${source}",reason="${reason}"\\} (\\d+)`).exec(text);
  return Number(m?.[1] ?? NaN);
}

async function post(path: string, body: string, headers: Record<string, string>) {
  const res = await fetch(`${daemon.url}${path}`, { method: 'POST', headers, body });
  await res.text();
  return res.status;
}

const JSON_TYPE = { 'Content-Type': 'application/json' };
const AM = { ...JSON_TYPE, Authorization: 'Bearer am-1' };

test.each([
  ['a wrong token (fast route)', 'alertmanager', '/api/v1/alerts/alertmanager', JSON.stringify(fixture('am-firing.json')), { ...JSON_TYPE, Authorization: 'Bearer wrong' }, 401, 'unauthorized'],
  ['a wrong token (Express)', 'alertmanager', '/api/v1/alerts/alertmanager?via=express', JSON.stringify(fixture('am-firing.json')), { ...JSON_TYPE, Authorization: 'Bearer wrong' }, 401, 'unauthorized'],
  ['no token (Nagios form)', 'nagios', '/api/v1/alerts/nagios', 'notification_type=PROBLEM', { 'Content-Type': 'application/x-www-form-urlencoded' }, 401, 'unauthorized'],
  ['JSON syntax (fast route)', 'alertmanager', '/api/v1/alerts/alertmanager', '{"version": ', AM, 400, 'malformed'],
  ['JSON syntax (Express)', 'alertmanager', '/api/v1/alerts/alertmanager?via=express', '{"version": ', AM, 400, 'malformed'],
  ['too large (fast route)', 'alertmanager', '/api/v1/alerts/alertmanager', JSON.stringify({ pad: 'x'.repeat(4096) }), AM, 413, 'too_large'],
  ['too large (Express)', 'alertmanager', '/api/v1/alerts/alertmanager?via=express', JSON.stringify({ pad: 'x'.repeat(4096) }), AM, 413, 'too_large'],
  ['a schema error', 'alertmanager', '/api/v1/alerts/alertmanager', JSON.stringify({ version: '4' }), AM, 400, 'invalid'],
] as const)('%s is counted', async (_what, source, path, body, headers, status, reason) => {
  const before = await rejected(source, reason);
  expect(await post(path, body, headers)).toBe(status);
  expect(await rejected(source, reason)).toBe(before + 1);
});

test('every reason is exported at zero before it happens, for every source', async () => {
  for (const reason of ['unauthorized', 'malformed', 'invalid', 'too_large', 'store_unavailable']) expect(await rejected('zabbix', reason)).toBe(0);
});

test('a rejection is logged at debug with its source and reason, never the body or the credential', async () => {
  const tmp = tempDir();
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
  const config = testConfig(tmp.dir);
  config.auth.sources.alertmanager = { bearer_token: 'am-1' };
  const d = await startDaemon({ config, logger: createLogger({ level: 'debug', stream }), startWorkers: false });
  try {
    await fetch(`${d.url}/api/v1/alerts/alertmanager`, { method: 'POST', headers: { Authorization: 'Bearer wrong-token-4711' }, body: '{}' });
    await fetch(`${d.url}/api/v1/alerts/alertmanager`, { method: 'POST', headers: { Authorization: 'Bearer am-1' }, body: '{"secret-body-text-0815' });
    await new Promise((r) => setTimeout(r, 50));
    const rejections = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.message === 'payload rejected');
    expect(rejections.map((l) => [l.level, l.source, l.reason])).toEqual([
      ['debug', 'alertmanager', 'unauthorized'],
      ['debug', 'alertmanager', 'malformed'],
    ]);
    const all = lines.join('\n');
    expect(all).not.toContain('wrong-token-4711');
    expect(all).not.toContain('secret-body-text-0815');
  } finally {
    await d.stop();
    tmp.cleanup();
  }
});
