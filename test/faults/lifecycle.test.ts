import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ManualClock } from '../../src/clock';
import type { Daemon } from '../../src/main';
import type { Alert } from '../../src/sources';
import { drain, startTestDaemon, tempDir, testConfig } from '../helpers';
import { freshDatabase, STORE_KINDS } from '../postgres';

const RULES = `
categories:
  - name: svc
    match: ['alertname="SvcDown"']
    fault_key: [service]
    severity: { label: severity, map: { warning: 4, critical: 8 }, default: 3 }
    repair_time: { a: 1, b: 0.5 }
    update_interval: 5m
    reopen_within: 1h
    flapping: { changes: 4, window: 1h, quiet: 10m }
  - name: noise
    match: ['alertname="Noise"']
    action: drop
`;

const MIN = 60_000;
const T0 = Date.parse('2026-11-24T10:00:00Z');
let clock: ManualClock;
let daemon: Daemon;
let cleanup: () => Promise<void> | void;

// The same suite against every store: SQLite always, PostgreSQL and MariaDB when a server is there (always in CI).
describe.each(STORE_KINDS)('on %s', (kind) => {
beforeEach(async () => {
  const tmp = tempDir();
  writeFileSync(path.join(tmp.dir, 'rules.yaml'), RULES);
  const env: Record<string, string> = { FAULTDESK_RULES: path.join(tmp.dir, 'rules.yaml') };
  let dropDb = async () => undefined as void;
  if (kind !== 'sqlite') {
    const db = await freshDatabase(kind);
    env.FAULTDESK_STORE_URL = db.url;
    dropDb = db.drop;
  }
  clock = new ManualClock(T0);
  daemon = await startTestDaemon(testConfig(tmp.dir, env), clock);
  cleanup = async () => {
    await dropDb();
    tmp.cleanup();
  };
});
afterEach(async () => {
  await daemon.stop();
  await cleanup();
});

function alert(id: string, opts: { status?: 'firing' | 'resolved'; severity?: string; service?: string; startsAt?: number; name?: string; summary?: string } = {}): Alert {
  return {
    source: 'alertmanager',
    sourceId: id,
    status: opts.status ?? 'firing',
    labels: { alertname: opts.name ?? 'SvcDown', service: opts.service ?? 'checkout', instance: id, severity: opts.severity ?? 'warning' },
    annotations: opts.summary ? { summary: opts.summary } : {},
    startsAt: opts.startsAt ?? T0 - MIN,
    endsAt: opts.status === 'resolved' ? clock.now() : undefined,
    receivedAt: clock.now(),
  };
}

const ingest = (...alerts: Alert[]) => daemon.faults.ingest('alertmanager', alerts);

async function faults() {
  return daemon.store.repos.faults.list({ limit: 100, offset: 0 });
}

async function tickets() {
  const { tickets: rows, comments, attachments } = await daemon.store.repos.localTickets.list({ limit: 100, offset: 0 });
  return rows
    .map((t) => ({
      ...t,
      comments: comments.filter((c) => c.ticket_id === t.id).map((c) => c.body),
      attachments: attachments.filter((a) => a.ticket_id === t.id).map((a) => a.filename),
    }))
    .reverse();
}

async function pendingOps() {
  const [f] = await faults();
  return f ? (await daemon.store.repos.outbox.listByFault(f.id)).filter((o) => o.state !== 'done').map((o) => o.kind) : [];
}

it('firing alert opens a fault and its ticket gets the fault record', async () => {
  const result = await ingest(alert('a1', { summary: 'checkout is down' }));
  expect(result.outcomes).toEqual({ opened: 1 });
  const [fault] = await faults();
  expect(fault).toMatchObject({ state: 'open', category: 'svc', fault_key: '{service="checkout"}', severity: 4, priority: 'normal' });
  expect(fault?.repair_time_hours).toBeCloseTo(Math.log(3), 6);
  expect(fault?.due_at).toBe(T0 + Math.round(Math.log(3) * 3_600_000));
  await drain(daemon);
  const [ticket] = await tickets();
  expect(ticket).toMatchObject({ fault_id: fault?.id, status: 'open', priority: 'normal' });
  expect(ticket?.subject).toBe('[NORMAL] SvcDown on checkout: checkout is down');
  expect(ticket?.attachments).toEqual([`faultdesk-fault-${fault?.id}.md`, `faultdesk-fault-${fault?.id}.json`]);
  expect((await faults())[0]).toMatchObject({ ticket_id: ticket ? String(ticket.id) : 'none', ticket_status: 'open' });
});

it('duplicate deliveries change nothing', async () => {
  await ingest(alert('a1'));
  await drain(daemon);
  for (let i = 0; i < 10; i++) {
    clock.advance(1000);
    expect((await ingest(alert('a1'))).outcomes).toEqual({ duplicate: 1 });
  }
  clock.advance(30 * MIN);
  await drain(daemon);
  expect(await faults()).toHaveLength(1);
  const [ticket] = await tickets();
  expect(ticket?.comments).toEqual([]);
});

it('changes are coalesced into at most one update per interval, and none when nothing changed', async () => {
  await ingest(alert('a1'));
  await drain(daemon);
  clock.advance(MIN);
  expect((await ingest(alert('a2'))).outcomes).toEqual({ updated: 1 });
  clock.advance(MIN);
  await ingest(alert('a3'));
  await drain(daemon);
  expect((await tickets())[0]?.comments).toEqual([]); // not before the interval has passed since the create

  clock.advance(3 * MIN); // opened + 5 min
  await drain(daemon);
  let comments = (await tickets())[0]?.comments ?? [];
  expect(comments).toHaveLength(1);
  expect(comments[0]).toContain('Update: 3 of 3 alerts firing.');
  expect(comments[0]).toContain('New alert firing: alertname="SvcDown", service="checkout", instance="a2"');
  expect(comments[0]).toContain('instance="a3"');

  clock.advance(MIN);
  await ingest(alert('a4'));
  clock.advance(MIN);
  await ingest(alert('a5'));
  clock.advance(MIN);
  await drain(daemon);
  expect((await tickets())[0]?.comments).toHaveLength(1);
  clock.advance(2 * MIN);
  await drain(daemon);
  comments = (await tickets())[0]?.comments ?? [];
  expect(comments).toHaveLength(2);
  expect(comments[1]).toContain('instance="a4"');
  expect(comments[1]).toContain('instance="a5"');

  clock.advance(60 * MIN); // nothing changed: no update
  await ingest(alert('a1'));
  await drain(daemon);
  expect((await tickets())[0]?.comments).toHaveLength(2);
});

it('a rise in FS escalates at once, with the priority change, folding in waiting changes', async () => {
  await ingest(alert('a1'));
  await drain(daemon);
  clock.advance(MIN);
  await ingest(alert('a2')); // waits for the interval
  clock.advance(MIN);
  await ingest(alert('a3', { severity: 'critical' }));
  expect(await pendingOps()).toEqual(['escalate']);
  await drain(daemon);
  const [ticket] = await tickets();
  expect(ticket?.priority).toBe('high');
  expect(ticket?.comments).toHaveLength(1);
  expect(ticket?.comments[0]).toMatch(/^Escalated: fault severity 4 → 8, priority now high\./);
  expect(ticket?.comments[0]).toContain('instance="a2"');
  const [fault] = await faults();
  expect(fault).toMatchObject({ severity: 8, priority: 'high' });
  expect(fault?.due_at).toBe(T0 + Math.round(Math.log(5) * 3_600_000));
});

it('the fault resolves when every alert has resolved, and the ticket is solved', async () => {
  await ingest(alert('a1'), alert('a2'));
  await drain(daemon);
  clock.advance(MIN);
  expect((await ingest(alert('a1', { status: 'resolved' }))).outcomes).toEqual({ updated: 1 });
  expect((await faults())[0]?.state).toBe('open');
  clock.advance(MIN);
  expect((await ingest(alert('a2', { status: 'resolved' }))).outcomes).toEqual({ resolved: 1 });
  expect(await pendingOps()).toEqual(['resolve']);
  await drain(daemon);
  const [fault] = await faults();
  expect(fault).toMatchObject({ state: 'resolved', resolved_at: T0 + 2 * MIN, firing_count: 0, ticket_status: 'solved' });
  const [ticket] = await tickets();
  expect(ticket?.status).toBe('solved');
  expect(ticket?.comments).toHaveLength(1);
  expect(ticket?.comments[0]).toContain('Resolved: every alert of this fault has resolved (2 in all).');
  expect(ticket?.comments[0]).toContain('instance="a1"'); // the waiting update went into the resolve comment
  // The record is attached once, by reference: read after the resolve, it is the record as it is now.
  expect(ticket?.attachments).toHaveLength(2);
  const [, json] = (await daemon.store.repos.localTickets.list({ limit: 100, offset: 0 })).attachments;
  const served = await fetch(`${daemon.url}/api/v1/tickets/${json!.ticket_id}/attachments/${json!.id}`);
  expect(served.headers.get('content-type')).toMatch(/^application\/json/);
  expect(JSON.parse(await served.text())).toMatchObject({ kind: 'faultdesk.fault-record/v1', id: fault!.id, state: 'resolved' });
  expect(((await daemon.store.repos.localTickets.attachment(json!.id))!.content)).toBe(''); // not stored with the ticket
  // A late duplicate of the firing alert (same start) does not reopen it.
  expect((await ingest(alert('a2'))).outcomes).toEqual({ duplicate: 1 });
  expect((await faults())[0]?.state).toBe('resolved');
});

it('firing again within reopen_within reopens the same ticket; later, a new fault and ticket', async () => {
  await ingest(alert('a1'));
  await drain(daemon);
  await ingest(alert('a1', { status: 'resolved' }));
  await drain(daemon);
  clock.advance(30 * MIN);
  expect((await ingest(alert('a1', { startsAt: clock.now() }))).outcomes).toEqual({ reopened: 1 });
  await drain(daemon);
  let all = await tickets();
  expect(all).toHaveLength(1);
  expect(all[0]?.status).toBe('open');
  expect(all[0]?.comments[1]).toMatch(/^Reopened: the fault is firing again\./);
  expect(await faults()).toHaveLength(1);

  await ingest(alert('a1', { status: 'resolved' }));
  clock.advance(61 * MIN);
  expect((await ingest(alert('a1', { startsAt: clock.now() }))).outcomes).toEqual({ opened: 1 });
  await drain(daemon);
  const list = await faults();
  expect(list).toHaveLength(2);
  expect(list.filter((f) => f.current === 1)).toHaveLength(1);
  all = await tickets();
  expect(all).toHaveLength(2);
  expect(all.map((t) => t.status)).toEqual(['solved', 'open']);
});

it('a recurrence whose ticket was closed gets a new ticket that names the old one', async () => {
  await ingest(alert('a1'));
  await ingest(alert('a1', { status: 'resolved' }));
  await drain(daemon);
  const [old] = await tickets();
  await daemon.store.repos.localTickets.update(old?.id ?? 0, { status: 'closed' });
  clock.advance(MIN);
  await ingest(alert('a1', { startsAt: clock.now() }));
  await drain(daemon);
  const all = await tickets();
  expect(all).toHaveLength(2);
  expect(all[1]?.body).toContain(`Follows closed ticket ${old?.id}.`);
  expect((await faults())[0]).toMatchObject({ ticket_id: String(all[1]?.id), ticket_status: 'open' });
});

it('a flapping fault holds resolves and reopens, says so once, and settles when quiet', async () => {
  await ingest(alert('a1'));
  await drain(daemon);
  // resolve, reopen, resolve, reopen: 4 changes is the limit; the 5th makes it flapping.
  for (let i = 0; i < 2; i++) {
    clock.advance(MIN);
    await ingest(alert('a1', { status: 'resolved' }));
    clock.advance(MIN);
    await ingest(alert('a1', { startsAt: clock.now() }));
  }
  await drain(daemon);
  clock.advance(MIN);
  await ingest(alert('a1', { status: 'resolved' }));
  expect((await faults())[0]?.state).toBe('flapping');
  for (let i = 0; i < 3; i++) {
    clock.advance(MIN);
    await ingest(alert('a1', { startsAt: clock.now() }));
    clock.advance(MIN);
    await ingest(alert('a1', { status: 'resolved' }));
  }
  await drain(daemon);
  let [ticket] = await tickets();
  const flappingComments = ticket?.comments.filter((c) => c.includes('is flapping')) ?? [];
  expect(flappingComments).toHaveLength(1);
  expect(ticket?.comments).toHaveLength(5); // resolve, reopen, resolve, reopen, flapping
  expect(ticket?.status).toBe('open');

  clock.advance(5 * MIN);
  expect(await daemon.faults.settleFlapping()).toBe(0); // not quiet long enough
  clock.advance(5 * MIN);
  expect(await daemon.faults.settleFlapping()).toBe(1);
  await drain(daemon);
  const [fault] = await faults();
  expect(fault?.state).toBe('resolved');
  [ticket] = await tickets();
  expect(ticket?.status).toBe('solved');
  expect(ticket?.comments.at(-1)).toContain('The fault has stopped flapping. Every alert of it has resolved.');
});

it('dropped alerts and resolved alerts of unknown faults store nothing', async () => {
  expect((await ingest(alert('n1', { name: 'Noise' }))).outcomes).toEqual({ dropped: 1 });
  expect((await ingest(alert('x1', { status: 'resolved' }))).outcomes).toEqual({ ignored: 1 });
  expect(await faults()).toHaveLength(0);
  expect(await daemon.store.repos.outbox.statsBySystem()).toEqual([]);
});

it('1,000 alerts of one fault key make one fault and one ticket', async () => {
  const many = Array.from({ length: 1000 }, (_, i) => alert(`h${i}`));
  expect((await ingest(...many.slice(0, 400))).outcomes).toEqual({ opened: 1, updated: 399 });
  await ingest(...many.slice(400));
  await drain(daemon);
  const list = await faults();
  expect(list).toHaveLength(1);
  expect(list[0]).toMatchObject({ alert_count: 1000, firing_count: 1000 });
  expect(await tickets()).toHaveLength(1);
});

});
