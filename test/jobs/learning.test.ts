import { writeFileSync } from 'node:fs';
import path from 'node:path';
import nock from 'nock';
import { ManualClock } from '../../src/clock';
import { loadConfig } from '../../src/config';
import { repairTimeHours } from '../../src/estimate';
import { silentLogger } from '../../src/log';
import { startDaemon, type Daemon } from '../../src/main';
import type { Alert } from '../../src/sources';
import { drain, getJson, postJson, tempDir } from '../helpers';
import { freshDatabase, STORE_KINDS, type StoreKind } from '../postgres';

const HOUR = 3_600_000;
const RULES = `
categories:
  - name: db
    match: ['alertname="DbDown"']
    fault_key: [instance]
    severity: { numeric_label: fs, default: 5 }
    repair_time: { a: 1, b: 0.5 }
  - name: web
    match: ['alertname="WebDown"']
    fault_key: [instance]
`;

let daemon: Daemon;
let cleanup: () => Promise<void>;
/** The store the suite runs on (each of STORE_KINDS in turn). */
let kind: StoreKind = 'sqlite';
let clock: ManualClock;

async function start(extra = '') {
  const tmp = tempDir();
  let url = `sqlite:${path.join(tmp.dir, 'db.sqlite')}`;
  let drop = async () => undefined as void;
  if (kind !== 'sqlite') ({ url, drop } = await freshDatabase(kind));
  cleanup = async () => {
    await drop();
    tmp.cleanup();
  };
  writeFileSync(path.join(tmp.dir, 'rules.yaml'), RULES);
  writeFileSync(path.join(tmp.dir, 'faultdesk.yaml'), `estimates: { min_samples: 30 }\nfaults: { stale_after: 12h }\n${extra}`);
  clock = new ManualClock(Date.parse('2026-06-01T00:00:00Z'));
  daemon = await startDaemon({
    config: loadConfig({
      file: path.join(tmp.dir, 'faultdesk.yaml'),
      env: { FAULTDESK_LISTEN: '127.0.0.1:0', FAULTDESK_STORE_URL: url, FAULTDESK_RULES: path.join(tmp.dir, 'rules.yaml') },
    }),
    clock,
    logger: silentLogger(),
    startWorkers: false,
  });
}
afterEach(async () => {
  await daemon.stop();
  await cleanup();
  nock.cleanAll();
});

function alert(name: string, instance: string, status: 'firing' | 'resolved' = 'firing', labels: Record<string, string> = {}, source: Alert['source'] = 'alertmanager'): Alert {
  return { source, sourceId: `${name}-${instance}`, status, labels: { alertname: name, instance, ...labels }, annotations: {}, startsAt: clock.now(), endsAt: status === 'resolved' ? clock.now() : undefined, receivedAt: clock.now() };
}
const ingest = (...a: Alert[]) => daemon.faults.ingest(a[0]!.source, a);
const job = (name: string) => daemon.jobs.find((j) => j.name === name)!.run();

// The jobs read and write through the store: on every store.
describe.each(STORE_KINDS)('on %s', (k) => {
beforeAll(() => {
  kind = k;
});

test('repair times are fitted from resolved faults; new faults use the fit, open ones keep theirs', async () => {
  await start();
  // A history drawn from a=2, b=0.3 with some noise: each fault open for its "real" repair time.
  const truth = { a: 2, b: 0.3 };
  for (let i = 0; i < 40; i++) {
    const fs = 1 + (i % 10);
    const hours = repairTimeHours(truth, fs) * (1 + ((i * 37) % 11 - 5) / 100);
    await ingest(alert('DbDown', `db${i}`, 'firing', { fs: String(fs) }));
    clock.advance(Math.round(hours * HOUR));
    await ingest(alert('DbDown', `db${i}`, 'resolved', { fs: String(fs) }));
    clock.advance(60_000);
  }
  await ingest(alert('DbDown', 'open-before-fit', 'firing', { fs: '5' }));
  expect((await getJson<{ estimates: Array<Record<string, unknown>> }>(`${daemon.url}/api/v1/estimates`)).estimates.find((e) => e.category === 'db')).toMatchObject({
    configured: { a: 1, b: 0.5 },
    fitted: null,
    inUse: 'configured',
  });

  await job('fit_repair_time');
  const { estimates } = await getJson<{ estimates: Array<{ category: string; fitted: { a: number; b: number; samples: number; rmseHours: number } | null; inUse: string }> }>(
    `${daemon.url}/api/v1/estimates`,
  );
  const db = estimates.find((e) => e.category === 'db')!;
  expect(db.inUse).toBe('fitted');
  expect(db.fitted!.samples).toBe(40);
  expect(Math.abs(db.fitted!.a / truth.a - 1)).toBeLessThan(0.25);
  expect(Math.abs(db.fitted!.b / truth.b - 1)).toBeLessThan(0.35);
  expect(estimates.find((e) => e.category === 'web')).toMatchObject({ fitted: null, inUse: 'configured' }); // too few samples

  await ingest(alert('DbDown', 'after-fit', 'firing', { fs: '5' }));
  const faults = await daemon.store.repos.faults.list({ state: 'open', limit: 10, offset: 0 });
  const before = faults.find((f) => f.fault_key.includes('open-before-fit'))!;
  const after = faults.find((f) => f.fault_key.includes('after-fit'))!;
  expect([before.rt_a, before.rt_b]).toEqual([1, 0.5]);
  expect(after.rt_a).toBeCloseTo(db.fitted!.a, 3);
  expect(after.repair_time_hours).toBeCloseTo(repairTimeHours({ a: after.rt_a, b: after.rt_b }, 5), 6);
});

test('a fault past its due time is escalated once as at risk', async () => {
  await start();
  await ingest(alert('WebDown', 'w1'));
  await drain(daemon);
  expect(await job('at_risk')).toBe(0);
  clock.advance(3 * HOUR); // RT at FS 5 is ln(3.5) h = 1.25 h
  expect(await job('at_risk')).toBe(1);
  expect(await job('at_risk')).toBe(0);
  await drain(daemon);
  const { tickets } = await getJson<{ tickets: Array<{ comments: Array<{ body: string }> }> }>(`${daemon.url}/api/v1/tickets`);
  expect(tickets[0]!.comments.map((c) => c.body)).toEqual([
    expect.stringMatching(/^At risk: this fault has been open for 3h, 1h44m\d+s past its estimated repair time of 1h15m\d+s/),
  ]);
  expect(await daemon.metrics.registry.getSingleMetricAsString('faultdesk_faults_at_risk')).toContain('faultdesk_faults_at_risk 1');
});

test('faults whose Alertmanager alerts stopped being resent resolve as stale; Nagios faults do not', async () => {
  await start();
  await ingest(alert('WebDown', 'w1'));
  await ingest(alert('WebDown', 'w2', 'firing', {}, 'nagios'));
  await drain(daemon);
  clock.advance(6 * HOUR);
  await ingest(alert('WebDown', 'w3')); // a fresh one
  clock.advance(7 * HOUR);
  expect(await job('stale_sweep')).toBe(1);
  const faults = await daemon.store.repos.faults.list({ limit: 10, offset: 0 });
  const state = (k: string) => faults.find((f) => f.fault_key.includes(k))?.state;
  expect([state('w1'), state('w2'), state('w3')]).toEqual(['resolved', 'open', 'open']);
  await drain(daemon);
  const { tickets } = await getJson<{ tickets: Array<{ faultId: string; status: string; comments: Array<{ body: string }> }> }>(`${daemon.url}/api/v1/tickets`);
  const w1 = tickets.find((t) => t.faultId === faults.find((f) => f.fault_key.includes('w1'))!.id)!;
  expect(w1.status).toBe('solved');
  expect(w1.comments[0]!.body).toMatch(/^Resolved as stale: no alert of this fault was refreshed for 12h/);
});

test('a Nagios or Zabbix fault whose recovery never came is resolved as stale after its source\'s window (a week by default)', async () => {
  await start('');
  await ingest(alert('WebDown', 'n1', 'firing', {}, 'nagios'));
  await ingest(alert('WebDown', 'z1', 'firing', {}, 'zabbix'));
  await drain(daemon);
  clock.advance(6 * 24 * HOUR);
  expect(await job('stale_sweep')).toBe(0);
  clock.advance(24 * HOUR + 1);
  expect(await job('stale_sweep')).toBe(2);
  await drain(daemon);
  const { tickets } = await getJson<{ tickets: Array<{ status: string; comments: Array<{ body: string }> }> }>(`${daemon.url}/api/v1/tickets`);
  expect(tickets.map((t) => t.status)).toEqual(['solved', 'solved']);
  expect(tickets[0]!.comments[0]!.body).toMatch(/^Resolved as stale: nothing was heard of this fault's alerts for 7d; their source sends a recovery once, and it never came\./);
});

test('an operator resolves a fault by hand, with a reason on the timeline and the ticket', async () => {
  await start('');
  const id = (await ingest(alert('WebDown', 'n1', 'firing', {}, 'nagios'))).faults[0]!;
  await drain(daemon);
  expect((await postJson(`${daemon.url}/api/v1/faults/${id}/resolve`, {})).status).toBe(400);
  expect((await postJson(`${daemon.url}/api/v1/faults/nope/resolve`, { reason: 'x' })).status).toBe(404);
  const res = await postJson(`${daemon.url}/api/v1/faults/${id}/resolve`, { reason: 'host decommissioned', by: 'grace' });
  expect(res.status).toBe(200);
  expect(res.json.fault).toMatchObject({ id, state: 'resolved' });
  expect((await postJson(`${daemon.url}/api/v1/faults/${id}/resolve`, { reason: 'again' })).status).toBe(409);
  const detail = await getJson<{ timeline: { entries: Array<{ event: string; detail?: string; by?: string }> }; alerts: Array<{ status: string }> }>(`${daemon.url}/api/v1/faults/${id}`);
  expect(detail.timeline.entries.slice(-2)).toEqual([
    expect.objectContaining({ event: 'resolved_by_hand', by: 'grace', detail: 'Resolved by grace (api): host decommissioned' }),
    expect.objectContaining({ event: 'resolved' }),
  ]);
  expect(detail.alerts.map((a) => a.status)).toEqual(['resolved']);
  await drain(daemon);
  const { tickets } = await getJson<{ tickets: Array<{ status: string; comments: Array<{ body: string }> }> }>(`${daemon.url}/api/v1/tickets`);
  expect(tickets[0]).toMatchObject({ status: 'solved', comments: [{ body: expect.stringMatching(/^Resolved by grace \(api\): host decommissioned/) }] });
  // A hand-resolved fault's duration says nothing about repair time.
  expect(await daemon.store.repos.faults.resolvedSince(0)).toEqual([]);
});

test('satisfaction: scores through the API and pulled from Zendesk, CSS per category and overall', async () => {
  await start(`tickets:\n  zendesk: { url: https://acme.zendesk.com, oauth_token: zd-tok, requests_per_minute: 60000 }\n`);
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  try {
    const web = (await ingest(alert('WebDown', 'w1'))).faults[0]!;
    const db = (await ingest(alert('DbDown', 'd1'))).faults[0]!;
    expect((await postJson(`${daemon.url}/api/v1/faults/${web}/satisfaction`, { score: 8 })).status).toBe(201);
    expect((await postJson(`${daemon.url}/api/v1/faults/${web}/satisfaction`, { score: 11 })).status).toBe(400);
    expect((await postJson(`${daemon.url}/api/v1/faults/nope/satisfaction`, { score: 5 })).status).toBe(404);
    // The db fault's ticket lives in Zendesk as #41.
    await daemon.store.repos.faults.setTicket(db, { ticket_id: '41' });
    await daemon.store.transaction(async (tx) => {
      const f = await tx.faults.get(db);
      await tx.faults.updateMany([{ ...f!, ticket_system: 'zendesk' }]);
    });
    const ratings = {
      satisfaction_ratings: [
        { id: 1, ticket_id: 41, score: 'good', updated_at: '2026-06-01T00:00:00Z' },
        { id: 2, ticket_id: 41, score: 'bad', comment: 'too slow', updated_at: '2026-06-01T00:00:00Z' },
        { id: 3, ticket_id: 999, score: 'good', updated_at: '2026-06-01T00:00:00Z' },
        { id: 4, ticket_id: 41, score: 'offered', updated_at: '2026-06-01T00:00:00Z' },
      ],
      next_page: null,
    };
    nock('https://acme.zendesk.com').get('/api/v2/satisfaction_ratings').query({ score: 'received', start_time: /\d+/ }).times(2).reply(200, ratings);
    expect(await job('satisfaction_pull')).toBe(2);
    expect(await job('satisfaction_pull')).toBe(0); // stored once
    const summary = await getJson(`${daemon.url}/api/v1/satisfaction`);
    expect(summary).toEqual({
      windowHours: 720,
      overall: { css: 6.33, ratings: 3 },
      categories: [
        { category: 'db', css: 5.5, ratings: 2 },
        { category: 'web', css: 8, ratings: 1 },
      ],
    });
    const text = await daemon.metrics.registry.getSingleMetricAsString('faultdesk_satisfaction_score');
    expect(text).toContain('faultdesk_satisfaction_score{category=""} 6.33');
    expect(text).toContain('faultdesk_satisfaction_score{category="db"} 5.5');
  } finally {
    nock.enableNetConnect();
  }
});
});
