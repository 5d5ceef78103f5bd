import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Daemon } from '../../src/main';
import { getJson as getJsonAs, postJson, REPO, startTestDaemon, tempDir, testConfig, VIEWER, VIEWER_CREDENTIALS } from '../helpers';
import { freePort } from '../process';
import { eventAcknowledges, startZabbix, ZABBIX_ADMIN, type ZabbixHarness } from './zabbix/harness';

// Write-back against a real Zabbix 6.0 (the harness of zabbix.e2e.ts): the shipped set-up script
// makes the media type, user, action, host, item and trigger through the API; zabbix_sender raises
// the problem and the real alerter opens a fault in faultdesk; an engineer acknowledges the fault
// in faultdesk, and event.get shows the Zabbix event acknowledged with faultdesk's message, by
// the user whose API token faultdesk holds; the value returns to 0 and the fault resolves.
jest.setTimeout(180_000);
const COLD_START_MS = 420_000;

const execFileAsync = promisify(execFile);
const TOKEN = 'e2e-zabbix-wb-token';
const ADMIN_TOKEN = 'e2e-zabbix-wb-admin';
const SETUP = path.join(REPO, 'config/integrations/zabbix/setup.mjs');
const getJson = <T>(url: string) => getJsonAs<T>(url, VIEWER);

let dir: string;
let cleanup: () => void;
let daemon: Daemon | undefined;
let zabbix: ZabbixHarness | undefined;

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${String(lastError ?? 'no error')})\n${zabbix?.logs() ?? ''}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

beforeAll(async () => {
  ({ dir, cleanup } = tempDir('faultdesk-zabbix-wb-'));
  mkdirSync(path.join(dir, 'zabbix'));
  // Zabbix needs faultdesk's address (the media type) and faultdesk needs Zabbix's token: the port comes first.
  const port = await freePort();
  zabbix = await startZabbix({ dir: path.join(dir, 'zabbix') });
  const [admin] = await zabbix.admin.call<Array<{ userid: string }>>('user.get', { filter: { username: ZABBIX_ADMIN.username }, output: ['userid'] });
  const { tokenids } = await zabbix.admin.call<{ tokenids: string[] }>('token.create', { name: 'faultdesk write-back', userid: admin!.userid });
  const [generated] = await zabbix.admin.call<Array<{ token: string }>>('token.generate', tokenids);
  writeFileSync(path.join(dir, 'zabbix-api-token'), `${generated!.token}\n`);

  const config = testConfig(dir, { FAULTDESK_LISTEN: `127.0.0.1:${port}` });
  config.auth.sources.zabbix = { bearer_token: TOKEN };
  config.auth.viewer = VIEWER_CREDENTIALS;
  config.auth.admin = { bearer_token: ADMIN_TOKEN };
  config.writeback = { dry_run: false, zabbix: { url: zabbix.frontendUrl, api_token: generated!.token, close_on_ticket_close: false, timeout: 10_000 } };
  daemon = await startTestDaemon(config);
  daemon.outbox.start();
}, COLD_START_MS);

afterAll(async () => {
  await zabbix?.stop();
  await daemon?.stop();
  cleanup?.();
});

test('ack in faultdesk: event.get shows the Zabbix problem acknowledged with faultdesk’s message; the value returns to 0 and the fault resolves', async () => {
  const z = zabbix!;
  const d = daemon!;
  writeFileSync(path.join(dir, 'token'), `${TOKEN}\n`);
  const { stdout } = await execFileAsync(
    process.execPath,
    [
      SETUP,
      ...['--zabbix-api', z.frontendUrl, '--zabbix-frontend-url', `${z.frontendUrl}/`],
      ...['--faultdesk-url', d.url, '--faultdesk-token-file', path.join(dir, 'token')],
      ...['--smoke-test', '--host-group', 'Linux servers'],
    ],
    { env: { ...process.env, ZABBIX_PASSWORD: ZABBIX_ADMIN.password } },
  );
  const { smokeTest } = JSON.parse(stdout) as { smokeTest: { host: string; key: string; triggerid: string } };

  await z.send(smokeTest.host, smokeTest.key, '1');
  const fault = await waitFor('a fault from the Zabbix problem', async () => {
    const { faults } = await getJson<{ faults: Array<{ id: string; state: string; ticket: { id: string } | null }> }>(`${d.url}/api/v1/faults`);
    return faults.find((f) => f.state === 'open' && f.ticket) ?? undefined;
  });
  const [problem] = await z.admin.call<Array<{ eventid: string }>>('problem.get', { objectids: [smokeTest.triggerid], output: ['eventid'] });
  const eventid = problem!.eventid;
  expect((await eventAcknowledges(z.admin, eventid)).acknowledged).toBe(false);

  const res = await postJson(`${d.url}/api/v1/faults/${fault.id}/ack`, { by: 'grace@acme' }, { Authorization: `Bearer ${ADMIN_TOKEN}` });
  expect(res.status).toBe(200);
  const expected = `Acknowledged by grace@acme in faultdesk: fault ${fault.id}, local ticket #${fault.ticket!.id}.`;
  const acked = await waitFor('the event acknowledged in Zabbix', async () => {
    const state = await eventAcknowledges(z.admin, eventid);
    const entry = state.acknowledges.find((a) => a.message.startsWith(expected.slice(0, -1)));
    return state.acknowledged && entry ? entry : undefined;
  });
  // acknowledge (2) + message (4)
  expect(Number(acked.action) & 6).toBe(6);
  expect(acked.username).toBe(ZABBIX_ADMIN.username);

  await z.send(smokeTest.host, smokeTest.key, '0');
  await waitFor('the fault to resolve', async () => {
    const f = await getJson<{ state: string }>(`${d.url}/api/v1/faults/${fault.id}`);
    return f.state === 'resolved' ? true : undefined;
  });
  const ops = await waitFor('the write-backs done', async () => {
    const { operations } = await getJson<{ operations: Array<{ kind: string; state: string }> }>(`${d.url}/api/v1/outbox?system=zabbix`);
    return operations.length === 2 && operations.every((o) => o.state === 'done') ? operations : undefined;
  });
  expect(ops.map((o) => o.kind).sort()).toEqual(['acknowledge', 'release']);
  const { faults } = await getJson<{ faults: unknown[] }>(`${d.url}/api/v1/faults`);
  expect(faults).toHaveLength(1);
});
