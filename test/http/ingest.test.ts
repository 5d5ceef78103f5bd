import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { ManualClock } from '../../src/clock';
import type { Config } from '../../src/config';
import type { Daemon } from '../../src/main';
import { LocalTicketSystem } from '../../src/tickets';
import { amPayload, drain, fixture, getJson, postJson, startTestDaemon, tempDir, testConfig } from '../helpers';

interface FaultJson {
  id: string;
  state: string;
  category: string;
  key: string;
  severity: number;
  repairTimeHours: number;
  dueAt: string;
  alerts: number;
  ticket: { system: string; id: string; status: string } | null;
}
interface TicketJson {
  id: string;
  faultId: string;
  status: string;
  subject: string;
  comments: Array<{ body: string }>;
  attachments: Array<{ filename: string; url: string }>;
}

let dir: string;
let cleanup: () => void;
let config: Config;
let daemon: Daemon;
let clock: ManualClock;
const dbFile = () => path.join(dir, 'faultdesk.db');

beforeEach(async () => {
  ({ dir, cleanup } = tempDir());
  config = testConfig(dir);
  clock = new ManualClock(Date.parse('2026-11-24T16:26:00Z'));
  daemon = await startTestDaemon(config, clock);
});
afterEach(async () => {
  await daemon.stop();
  cleanup();
});

const am = () => `${daemon.url}/api/v1/alerts/alertmanager`;
const faults = async () => (await getJson<{ faults: FaultJson[] }>(`${daemon.url}/api/v1/faults`)).faults;
const tickets = async () => (await getJson<{ tickets: TicketJson[] }>(`${daemon.url}/api/v1/tickets`)).tickets;

/** Every row of every table, to prove a refused request stored nothing. */
function snapshot(): Record<string, unknown[]> {
  const db = new BetterSqlite3(dbFile(), { readonly: true });
  try {
    const out: Record<string, unknown[]> = {};
    for (const t of ['faults', 'alerts', 'outbox', 'local_tickets', 'local_ticket_comments', 'local_ticket_attachments']) {
      out[t] = db.prepare(`select * from ${t} order by 1`).all();
    }
    return out;
  } finally {
    db.close();
  }
}

test('the captured Alertmanager payload opens one fault and one local ticket; resolved solves both', async () => {
  const res = await postJson(am(), fixture('am-firing.json'), { 'User-Agent': 'Alertmanager/0.25.0' });
  expect(res.status).toBe(200);
  expect(res.json).toMatchObject({ status: 'success', received: 1, outcomes: { opened: 1 } });
  await drain(daemon);

  const [fault] = await faults();
  expect(fault).toMatchObject({
    state: 'open',
    category: 'target-down',
    key: '{job="flaky",instance="127.0.0.1:9999"}',
    severity: 8,
    alerts: 1,
    ticket: { system: 'local', status: 'open' },
  });
  expect(fault?.repairTimeHours).toBeCloseTo(Math.log(5), 3);
  const [ticket] = await tickets();
  expect(ticket).toMatchObject({ id: fault?.ticket?.id, faultId: fault?.id, status: 'open' });
  expect(ticket?.subject).toBe('[HIGH] TargetDown on flaky 127.0.0.1:9999: Target 127.0.0.1:9999 of job flaky is down');
  const record = await fetch(`${daemon.url}${ticket?.attachments[0]?.url}`).then((r) => r.text());
  expect(record).toContain('https://runbooks.example.invalid/TargetDown');
  expect(record).toContain('rules/10-prometheus.yaml');

  const detail = await getJson<{ alerts: Array<{ sourceId: string; status: string }>; timeline: { entries: Array<{ event: string }> } }>(
    `${daemon.url}/api/v1/faults/${fault?.id}`,
  );
  expect(detail.alerts).toEqual([expect.objectContaining({ sourceId: '666825508c4c5f74', status: 'firing' })]);

  clock.advance(10_000);
  expect((await postJson(am(), fixture('am-resolved.json'))).json).toMatchObject({ outcomes: { resolved: 1 } });
  await drain(daemon);
  expect((await faults())[0]).toMatchObject({ state: 'resolved', ticket: { status: 'solved' } });
  expect((await tickets())[0]).toMatchObject({ status: 'solved', comments: [expect.objectContaining({ body: expect.stringContaining('Resolved') })] });
});

test('the same payload 10 times is still one fault and one ticket', async () => {
  for (let i = 0; i < 10; i++) {
    expect((await postJson(am(), fixture('am-firing.json'))).status).toBe(200);
    clock.advance(1000);
  }
  await drain(daemon);
  expect(await faults()).toHaveLength(1);
  const all = await tickets();
  expect(all).toHaveLength(1);
  expect(all[0]?.comments).toEqual([]);
});

test('firing again within reopen_within reopens the same ticket', async () => {
  await postJson(am(), fixture('am-firing.json'));
  await postJson(am(), fixture('am-resolved.json'));
  await drain(daemon);
  clock.advance(20 * 60_000);
  const again = fixture('am-firing.json') as { alerts: Array<{ startsAt: string }> };
  again.alerts[0]!.startsAt = new Date(clock.now()).toISOString();
  expect((await postJson(am(), again)).json).toMatchObject({ outcomes: { reopened: 1 } });
  await drain(daemon);
  const all = await tickets();
  expect(all).toHaveLength(1);
  expect(all[0]).toMatchObject({ status: 'open' });
  expect(all[0]?.comments.map((c) => c.body.split('\n')[0])).toEqual([
    'Resolved: every alert of this fault has resolved (1 in all).',
    'Reopened: the fault is firing again.',
  ]);
});

test('1,000 alerts of one fault key in one payload make one ticket', async () => {
  const alerts = Array.from({ length: 1000 }, (_, i) => ({
    labels: { alertname: 'TargetDown', job: 'api', instance: '10.0.0.1:9100', shard: String(i), severity: 'critical' },
    fingerprint: i.toString(16).padStart(16, '0'),
  }));
  const res = await postJson(am(), amPayload(alerts));
  expect(res.json).toMatchObject({ received: 1000, outcomes: { opened: 1, updated: 999 } });
  await drain(daemon);
  const list = await faults();
  expect(list).toHaveLength(1);
  expect(list[0]?.alerts).toBe(1000);
  expect(await tickets()).toHaveLength(1);
});

describe('bad payloads get 400 with every invalid field and store nothing', () => {
  test.each([
    ['not JSON', '{"version": "4", alerts: [', /body is not valid JSON/, undefined],
    ['a JSON array', '[]', /invalid alertmanager payload/, [{ path: '(body)' }]],
    [
      'wrong types and missing fields',
      JSON.stringify({ ...fixture('am-firing.json'), version: 4, alerts: [{ status: 'burning', labels: { a: 1 }, startsAt: 'yesterday' }] }),
      /invalid alertmanager payload/,
      [
        { path: 'version' },
        { path: 'alerts.0.status' },
        { path: 'alerts.0.labels.a' },
        { path: 'alerts.0.startsAt' },
        { path: 'alerts.0.fingerprint' },
      ],
    ],
    ['no alerts', JSON.stringify({ ...fixture('am-firing.json'), alerts: [] }), /invalid alertmanager payload/, [{ path: 'alerts' }]],
  ])('%s', async (_what, body, message, paths) => {
    await postJson(am(), fixture('am-firing.json'));
    await drain(daemon);
    const before = snapshot();
    const res = await postJson(am(), body);
    expect(res.status).toBe(400);
    expect(res.json.error).toMatch(message);
    if (paths) expect(res.json.errors).toEqual(paths.map((p) => expect.objectContaining(p)));
    expect(snapshot()).toEqual(before);
  });

  test('a body over the limit gets 413', async () => {
    const small = testConfig(dir, { FAULTDESK_STORE_URL: `sqlite:${path.join(dir, 'small.db')}` });
    small.http.max_body_bytes = 1024;
    const d = await startTestDaemon(small);
    try {
      const alerts = Array.from({ length: 50 }, (_, i) => ({ labels: { alertname: 'X', i: String(i) }, fingerprint: 'ab' + i }));
      const res = await postJson(`${d.url}/api/v1/alerts/alertmanager`, amPayload(alerts));
      expect(res.status).toBe(413);
      expect(res.json.error).toMatch(/larger than the limit/);
    } finally {
      await d.stop();
    }
  });
});

test('a store failure gets 503 and nothing of the request is kept', async () => {
  const before = snapshot();
  // Break the last table the transaction writes, so alerts and faults are written first and must roll back.
  const db = new BetterSqlite3(dbFile());
  db.exec('ALTER TABLE outbox RENAME TO outbox_away');
  const res = await postJson(am(), fixture('am-firing.json'));
  db.exec('ALTER TABLE outbox_away RENAME TO outbox');
  db.close();
  expect(res.status).toBe(503);
  expect(res.json.error).toMatch(/could not be stored; retry later/);
  expect(snapshot()).toEqual(before);
  // Alertmanager retries: now it goes through.
  expect((await postJson(am(), fixture('am-firing.json'))).status).toBe(200);
});

describe('source auth', () => {
  let authed: Daemon;
  afterEach(async () => authed?.stop());

  test('bearer token and basic auth, 401 with WWW-Authenticate otherwise', async () => {
    const c = testConfig(dir, { FAULTDESK_STORE_URL: `sqlite:${path.join(dir, 'auth.db')}` });
    c.auth.sources.alertmanager = { bearer_token: 'am-token-123', basic_auth: { username: 'am', password: 'pw-456' } };
    authed = await startTestDaemon(c);
    const url = `${authed.url}/api/v1/alerts/alertmanager`;
    const none = await postJson(url, fixture('am-firing.json'));
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer realm="faultdesk alertmanager"/);
    expect((await postJson(url, fixture('am-firing.json'), { Authorization: 'Bearer wrong' })).status).toBe(401);
    const basicWrong = Buffer.from('am:nope').toString('base64');
    expect((await postJson(url, fixture('am-firing.json'), { Authorization: `Basic ${basicWrong}` })).status).toBe(401);
    expect((await postJson(url, fixture('am-firing.json'), { Authorization: 'Bearer am-token-123' })).status).toBe(200);
    const basic = Buffer.from('am:pw-456').toString('base64');
    expect((await postJson(url, fixture('am-firing.json'), { Authorization: `Basic ${basic}` })).status).toBe(200);
  });
});

test('a restart keeps every accepted alert and pending operation, and makes no second ticket', async () => {
  const alerts = Array.from({ length: 20 }, (_, i) => ({
    labels: { alertname: 'TargetDown', job: 'api', instance: `host${i % 5}:9100`, severity: 'critical' },
    fingerprint: `f${i}`,
  }));
  expect((await postJson(am(), amPayload(alerts))).status).toBe(200);
  // The first ticket is created, then the process dies before it records that it was.
  const [op] = await daemon.store.repos.outbox.due(clock.now(), 1, 'local');
  expect(await daemon.store.repos.outbox.claim(op!.id, clock.now(), clock.now() + 120_000)).toBe(true);
  const fault = await daemon.store.repos.faults.get(op!.fault_id!);
  await new LocalTicketSystem(daemon.store, clock).create({ faultId: fault!.id, subject: 's', body: 'b', priority: 'high', fs: 8, fields: {}, attachments: [] });
  await daemon.stop();

  daemon = await startTestDaemon(config, clock);
  clock.advance(121_000); // the dead worker's lease runs out
  await drain(daemon);
  const list = await faults();
  expect(list).toHaveLength(5);
  expect(list.reduce((n, f) => n + f.alerts, 0)).toBe(20);
  const all = await tickets();
  expect(all).toHaveLength(5);
  expect(new Set(all.map((t) => t.faultId)).size).toBe(5);
  expect(list.every((f) => f.ticket?.status === 'open')).toBe(true);
  // Redelivery after the restart is a duplicate.
  expect((await postJson(am(), amPayload(alerts))).json).toMatchObject({ outcomes: { duplicate: 20 } });
});

test('metrics, health and readiness', async () => {
  await postJson(am(), fixture('am-firing.json'));
  await postJson(am(), '{');
  const text = await fetch(`${daemon.url}/metrics`).then((r) => r.text());
  expect(text).toContain('faultdesk_alerts_received_total{source="alertmanager",outcome="opened"} 1');
  expect(text).toContain('faultdesk_faults{category="target-down",state="open"} 1');
  expect(text).toContain('faultdesk_outbox_depth{system="local"} 1');
  expect(text).toMatch(/faultdesk_http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/alerts\/alertmanager",code="200"\} 1/);
  expect(text).toMatch(/faultdesk_http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/alerts\/alertmanager",code="400"\} 1/);
  await drain(daemon);
  const after = await fetch(`${daemon.url}/metrics`).then((r) => r.text());
  expect(after).toContain('faultdesk_outbox_depth{system="local"} 0');
  expect(after).toContain('faultdesk_ticket_operations_total{system="local",operation="create",result="ok"} 1');
  expect((await fetch(`${daemon.url}/-/healthy`)).status).toBe(200);
  expect((await fetch(`${daemon.url}/-/ready`)).status).toBe(200);
  expect((await fetch(`${daemon.url}/api/v1/faults/nope`)).status).toBe(404);
  expect((await fetch(`${daemon.url}/api/v1/faults?limit=0`)).status).toBe(400);
});
