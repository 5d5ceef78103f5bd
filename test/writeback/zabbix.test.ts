import nock from 'nock';
import type { Config } from '../../src/config';
import type { Daemon } from '../../src/main';
import { zabbixError } from '../../src/writeback';
import { drain, getJson, postJson, startTestDaemon, tempDir, testConfig } from '../helpers';

// Write-back to Zabbix through the whole daemon: a Zabbix problem opens a fault, people act on it
// in faultdesk, and nock sees the JSON-RPC calls faultdesk makes.
const ZABBIX = 'http://zabbix.example.invalid';
const API_TOKEN = 'zbx-api-token-0123456789';

let daemon: Daemon;
let cleanup: () => void;

async function start(zabbix: Partial<NonNullable<NonNullable<Config['writeback']>['zabbix']>> = {}): Promise<void> {
  const tmp = tempDir();
  cleanup = tmp.cleanup;
  const config = testConfig(tmp.dir);
  config.writeback = { dry_run: false, zabbix: { url: `${ZABBIX}/zabbix/`, api_token: API_TOKEN, close_on_ticket_close: false, timeout: 2_000, ...zabbix } };
  daemon = await startTestDaemon(config);
}

async function openFault(): Promise<string> {
  const payload = { event_id: '4242', event_value: '1', event_nseverity: '4', host_name: 'db1', trigger_name: 'High CPU on db1', trigger_id: '100' };
  expect((await postJson(`${daemon.url}/api/v1/alerts/zabbix`, payload)).status).toBe(200);
  await drain(daemon);
  const { faults } = await getJson<{ faults: Array<{ id: string }> }>(`${daemon.url}/api/v1/faults`);
  return faults[0]!.id;
}

/** Answers every event.acknowledge like Zabbix, recording the requests. */
function zabbixAnswers(bodies: Array<Record<string, unknown>>, answer: (body: Record<string, unknown>) => object = () => ({ jsonrpc: '2.0', result: { eventids: ['4242'] }, id: 1 })) {
  return nock(ZABBIX)
    .persist()
    .post('/zabbix/api_jsonrpc.php', (b: Record<string, unknown>) => bodies.push(b) > 0)
    .reply(200, (_uri, body) => answer(body as Record<string, unknown>));
}

async function act(id: string, action: string, body: object = {}): Promise<void> {
  expect((await postJson(`${daemon.url}/api/v1/faults/${id}/${action}`, body)).status).toBe(200);
  await drain(daemon);
}

async function zabbixOps() {
  return (await getJson<{ operations: Array<{ kind: string; state: string; lastError: string | null }> }>(`${daemon.url}/api/v1/outbox?system=zabbix`)).operations;
}

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(() => nock.enableNetConnect());
afterEach(async () => {
  nock.cleanAll();
  await daemon?.stop();
  cleanup?.();
});

test('ack: event.acknowledge with acknowledge + message for the problem event, the token in "auth"; withdrawn: unacknowledge', async () => {
  await start();
  const id = await openFault();
  const bodies: Array<Record<string, unknown>> = [];
  zabbixAnswers(bodies);
  await act(id, 'ack', { by: 'grace@acme' });
  const { ticket } = await getJson<{ ticket: { id: string } }>(`${daemon.url}/api/v1/faults/${id}`);
  expect(bodies).toEqual([
    {
      jsonrpc: '2.0',
      method: 'event.acknowledge',
      params: { eventids: ['4242'], action: 6, message: `Acknowledged by grace@acme in faultdesk: fault ${id}, local ticket #${ticket.id}.` },
      auth: API_TOKEN,
      id: 1,
    },
  ]);
  await act(id, 'unack');
  expect(bodies[1]).toMatchObject({ params: { eventids: ['4242'], action: 16 | 4, message: `Acknowledgement withdrawn in faultdesk (fault ${id}).` } });
  expect((await zabbixOps()).map((o) => `${o.kind}:${o.state}`)).toEqual(['acknowledge:done', 'release:done']);
});

test('a person closes the ticket: the problem is closed only with close_on_ticket_close', async () => {
  for (const close of [false, true]) {
    await start({ close_on_ticket_close: close });
    const id = await openFault();
    const bodies: Array<Record<string, unknown>> = [];
    zabbixAnswers(bodies);
    await act(id, 'ack', { by: 'grace@acme' });
    await act(id, 'close', { by: 'ada@acme', text: 'fixed the fan' });
    expect(bodies.map((b) => (b.params as { action: number }).action)).toEqual(close ? [6, 1 | 4] : [6]);
    if (close) expect((bodies[1]!.params as { message: string }).message).toMatch(/^Closed: ada@acme closed local ticket #\d+ \(faultdesk fault /);
    nock.cleanAll();
    await daemon.stop();
    cleanup();
  }
  daemon = undefined as unknown as Daemon;
});

test('Zabbix errors: a bad token or a gone event is parked with Zabbix’s words; an internal error is retried', async () => {
  await start();
  const id = await openFault();
  const bodies: Array<Record<string, unknown>> = [];
  zabbixAnswers(bodies, () => ({ jsonrpc: '2.0', error: { code: -32602, message: 'Invalid params.', data: 'Not authorised.' }, id: 1 }));
  await act(id, 'ack');
  const [op] = await zabbixOps();
  expect(op).toMatchObject({ state: 'parked', lastError: 'zabbix event.acknowledge: Invalid params. Not authorised.' });
  expect(op!.lastError).not.toContain(API_TOKEN);
  const metrics = await fetch(`${daemon.url}/metrics`).then((r) => r.text());
  expect(metrics).toMatch(/faultdesk_writeback_errors_total\{system="zabbix",reason="unauthorized"\} 1\n/);
  expect(metrics).toMatch(/faultdesk_writeback_operations_total\{system="zabbix",action="acknowledge",result="parked"\} 1\n/);

  expect(zabbixError({ code: -32500, message: 'Application error.', data: 'No permissions to referred object or it does not exist!' })).toMatchObject({ reason: 'not_found', retryable: false });
  expect(zabbixError({ code: -32500, message: 'Application error.', data: 'Cannot close problem: trigger does not allow manual closing.' })).toMatchObject({ reason: 'bad_request', retryable: false });
  expect(zabbixError({ code: -32603, message: 'Internal error.', data: 'database is down' })).toMatchObject({ reason: 'server_error', retryable: true });
});

test('an HTTP failure of the frontend is retried', async () => {
  await start();
  const id = await openFault();
  nock(ZABBIX).post('/zabbix/api_jsonrpc.php').reply(502, 'Bad Gateway');
  await postJson(`${daemon.url}/api/v1/faults/${id}/ack`, {});
  await daemon.outbox.runOnce();
  expect(await zabbixOps()).toEqual([expect.objectContaining({ state: 'pending', lastError: expect.stringContaining('HTTP 502') })]);
});
