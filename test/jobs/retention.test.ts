import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ManualClock } from '../../src/clock';
import { loadConfig } from '../../src/config';
import { silentLogger } from '../../src/log';
import { startDaemon, type Daemon } from '../../src/main';
import type { Alert } from '../../src/sources';
import { drain, tempDir } from '../helpers';
import { STORE_KINDS, freshDatabase, type StoreKind } from '../postgres';

const DAY = 86_400_000;
const RULES = `
categories:
  - name: web
    match: ['alertname="WebDown"']
    fault_key: [instance]
`;

let daemon: Daemon | undefined;
const cleanups: Array<() => unknown> = [];
let clock: ManualClock;

async function start(kind: StoreKind, extra = '') {
  const tmp = tempDir();
  cleanups.push(tmp.cleanup);
  let url = `sqlite:${path.join(tmp.dir, 'db.sqlite')}`;
  if (kind !== 'sqlite') {
    const pg = await freshDatabase(kind);
    cleanups.push(pg.drop);
    url = pg.url;
  }
  writeFileSync(path.join(tmp.dir, 'rules.yaml'), RULES);
  writeFileSync(path.join(tmp.dir, 'faultdesk.yaml'), extra);
  clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
  daemon = await startDaemon({
    config: loadConfig({
      file: path.join(tmp.dir, 'faultdesk.yaml'),
      env: { FAULTDESK_LISTEN: '127.0.0.1:0', FAULTDESK_STORE_URL: url, FAULTDESK_RULES: path.join(tmp.dir, 'rules.yaml') },
    }),
    clock,
    logger: silentLogger(),
    startWorkers: false,
  });
  return daemon;
}

afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  for (const c of cleanups.splice(0).reverse()) await c();
});

function alert(instance: string, status: 'firing' | 'resolved', annotations: Record<string, string> = {}): Alert {
  const now = clock.now();
  return { source: 'alertmanager', sourceId: `web-${instance}`, status, labels: { alertname: 'WebDown', instance }, annotations, startsAt: now, endsAt: status === 'resolved' ? now : undefined, receivedAt: now };
}

async function faultOf(d: Daemon, instance: string) {
  const rows = await d.store.repos.faults.list({ limit: 1000, offset: 0 });
  return rows.find((f) => f.fault_key.includes(instance));
}

const retention = (d: Daemon) => d.jobs.find((j) => j.name === 'retention')!.run();

describe.each(STORE_KINDS)('retention on %s', (kind) => {
  test('a fault resolved 91 days ago goes with every row of it; one resolved 89 days ago, an open one and one still owed to the outbox stay', async () => {
    const d = await start(kind);
    const ingest = (...a: Alert[]) => d.faults.ingest('alertmanager', a);
    await ingest(alert('old', 'firing'), alert('recent', 'firing'), alert('open', 'firing'), alert('owed', 'firing'));
    await drain(d);
    const old = (await faultOf(d, 'old'))!;
    const oldTicket = (await d.store.repos.localTickets.findOpenByFault(old.id))!;
    await d.store.repos.localTickets.addComment(oldTicket.id, 'looked at it', clock.now());
    expect(oldTicket).toBeDefined();

    await ingest(alert('old', 'resolved'), alert('owed', 'resolved'));
    await drain(d);
    // An operation for 'owed' the ticket system refused for good: parked, it waits for an operator.
    const owed = (await faultOf(d, 'owed'))!;
    const parked = await d.store.repos.outbox.insert({ line: `fault:${owed.id}`, fault_id: owed.id, system: 'local', kind: 'comment', payload: '{}', state: 'pending', attempts: 0, next_attempt_at: clock.now(), claimed_until: null, last_error: null, created_at: clock.now(), updated_at: clock.now() });
    await d.store.repos.outbox.park(parked, 'refused', clock.now());
    clock.advance(2 * DAY);
    await ingest(alert('recent', 'resolved'));
    await drain(d);
    clock.advance(89 * DAY); // 'old' and 'owed' resolved 91 days ago, 'recent' 89

    await retention(d);

    expect(await d.store.repos.faults.get(old.id)).toBeUndefined();
    expect(await d.store.repos.alerts.listByFault(old.id)).toEqual([]);
    expect(await d.store.repos.outbox.listByFault(old.id)).toEqual([]);
    expect(await d.store.repos.localTickets.get(oldTicket.id)).toBeUndefined();
    expect((await fetch(`${d.url}/api/v1/faults/${old.id}`)).status).toBe(404);

    for (const kept of ['recent', 'open', 'owed']) expect(await faultOf(d, kept)).toBeDefined();
    expect((await d.store.repos.alerts.listByFault((await faultOf(d, 'recent'))!.id)).length).toBe(1);

    const metrics = await d.metrics.registry.metrics();
    expect(metrics).toContain('faultdesk_retention_deleted_total{kind="faults"} 1');
    expect(metrics).toContain('faultdesk_retention_deleted_total{kind="local_tickets"} 1');
    expect(metrics).toMatch(/faultdesk_store_size_bytes [1-9]\d+/);

    // The same alert again makes a new fault, not a reopen of the deleted one.
    await ingest(alert('old', 'firing'));
    const again = (await faultOf(d, 'old'))!;
    expect(again.id).not.toBe(old.id);
    expect(again.state).toBe('open');
  });

  test('retention: 0 keeps everything', async () => {
    const d = await start(kind, 'retention: 0\n');
    await d.faults.ingest('alertmanager', [alert('a', 'firing')]);
    await d.faults.ingest('alertmanager', [alert('a', 'resolved')]);
    await drain(d);
    clock.advance(3650 * DAY);
    await retention(d);
    expect(await faultOf(d, 'a')).toBeDefined();
  });
});

test('a purge deletes in small batches and gives the space back to the file system (SQLite)', async () => {
  const d = await start('sqlite', 'retention: 30d\n');
  const big = { description: 'x'.repeat(4000) };
  const instances = Array.from({ length: 450 }, (_, i) => `host-${i}`);
  for (let i = 0; i < instances.length; i += 50) await d.faults.ingest('alertmanager', instances.slice(i, i + 50).map((n) => alert(n, 'firing', big)));
  await drain(d);
  for (let i = 0; i < instances.length; i += 50) await d.faults.ingest('alertmanager', instances.slice(i, i + 50).map((n) => alert(n, 'resolved', big)));
  await drain(d);
  const before = await d.store.sizeBytes();
  clock.advance(31 * DAY);
  await retention(d);
  expect(await d.store.repos.faults.list({ limit: 10, offset: 0 })).toEqual([]);
  const after = await d.store.sizeBytes();
  expect(after).toBeLessThan(before / 2);
  expect(await d.metrics.registry.metrics()).toContain('faultdesk_retention_deleted_total{kind="faults"} 450');
});
