import { faultToRow, type Fault } from '../../src/faults/fault';
import { enqueue } from '../../src/outbox/enqueue';
import { memoryStore, openStore, type AlertRow, type FaultRow, type NewAlertRow, type Store } from '../../src/store';
import { freshDatabase, SERVER_KINDS } from '../postgres';
import { testFault } from '../factories';

// One contract, three implementations: the in-memory fakes the core's unit tests use must behave as
// the SQL stores do, on SQLite, PostgreSQL and MariaDB.

const T0 = Date.parse('2026-11-24T10:00:00Z');

const kinds: Array<[string, () => Promise<{ store: Store; done: () => Promise<void> }>]> = [
  ['memory', async () => ({ store: memoryStore(), done: async () => undefined })],
  ['sqlite', async () => {
    const store = await openStore({ url: 'sqlite::memory:' });
    return { store, done: () => store.close() };
  }],
  ...SERVER_KINDS.map((kind): [string, () => Promise<{ store: Store; done: () => Promise<void> }>] => [kind, async () => {
    const db = await freshDatabase(kind);
    const store = await openStore({ url: db.url, migrate: true });
    return { store, done: async () => { await store.close(); await db.drop(); } };
  }]),
];

function fault(id: string, over: Partial<Fault> = {}): FaultRow {
  return faultToRow(testFault({ id, ident: `svc\u001f${id}`, key: `{k="${id}"}`, keyLabels: { k: id }, severity: 5, openedAt: T0, ticket: { system: 'local', id: null, status: null, url: null, error: null }, ...over }));
}

function alertRow(faultId: string, ident: string, over: Partial<NewAlertRow> = {}): NewAlertRow & { id?: number } {
  return {
    fault_id: faultId,
    ident,
    source: 'alertmanager',
    source_id: ident,
    status: 'firing',
    labels: '{}',
    annotations: '{}',
    starts_at: T0,
    ends_at: null,
    generator_url: null,
    fs: 5,
    first_received_at: T0,
    last_received_at: T0,
    ...over,
  };
}

describe.each(kinds)('the %s store', (_kind, open) => {
  let store: Store;
  let done: () => Promise<void>;
  beforeEach(async () => {
    ({ store, done } = await open());
  });
  afterEach(() => done());

  test('faults: one current fault per ident; a superseded one gives the ident up', async () => {
    await store.transaction((tx) => tx.faults.insertMany([fault('a'), fault('b', { state: 'resolved' })]));
    // Matched by message: a native driver's error class may come from another test file's realm (jest).
    await expect(store.transaction((tx) => tx.faults.insertMany([fault('a2', { ident: 'svc\u001fa' })]))).rejects.toMatchObject({ message: expect.stringMatching(/unique|duplicate (key|entry)/i) });
    expect(await store.repos.faults.findCurrent(['svc\u001fa', 'svc\u001fb'])).toHaveLength(2);
    await store.transaction(async (tx) => {
      await tx.faults.updateMany([{ ...fault('a'), current: null }]);
      await tx.faults.insertMany([fault('a2', { ident: 'svc\u001fa' })]);
    });
    expect((await store.repos.faults.findCurrent(['svc\u001fa'])).map((f) => f.id)).toEqual(['a2']);
    expect(await store.repos.faults.countByCategoryAndState()).toEqual(expect.arrayContaining([
      { category: 'svc', state: 'open', n: 1 },
      { category: 'svc', state: 'resolved', n: 1 },
    ]));
  });

  test('idents and keys compare byte for byte: case and accents make other faults', async () => {
    // MySQL's default collations are case- and accent-insensitive; faultdesk's tables are not.
    const idents = ['svc\u001f{host="Web1"}', 'svc\u001f{host="web1"}', 'svc\u001f{host="wéb1"}'];
    await store.transaction((tx) => tx.faults.insertMany(idents.map((ident, i) => fault(`c${i}`, { ident }))));
    expect((await store.repos.faults.findCurrent([idents[1]!])).map((f) => f.id)).toEqual(['c1']);
    expect(await store.repos.faults.findCurrent(idents)).toHaveLength(3);
  });

  test('faults listed by urgency (live first, then FS, newest) and by states, a page at a time, as the console pages them', async () => {
    await store.transaction((tx) =>
      tx.faults.insertMany([
        fault('old-high', { severity: 9, openedAt: T0 }),
        fault('new-high', { severity: 9, openedAt: T0 + 60_000, state: 'flapping' }),
        fault('low', { severity: 2, openedAt: T0 + 120_000 }),
        fault('gone', { severity: 10, openedAt: T0 + 180_000, state: 'resolved' }),
      ]),
    );
    const ids = async (filter: Partial<Parameters<Store['repos']['faults']['list']>[0]>) =>
      (await store.repos.faults.list({ limit: 10, offset: 0, ...filter })).map((f) => f.id);
    expect(await ids({ order: 'urgency' })).toEqual(['new-high', 'old-high', 'low', 'gone']);
    expect(await ids({ order: 'urgency', states: ['open', 'flapping'] })).toEqual(['new-high', 'old-high', 'low']);
    expect(await ids({ order: 'urgency', limit: 2, offset: 1 })).toEqual(['old-high', 'low']);
    expect(await ids({})).toEqual(['gone', 'low', 'new-high', 'old-high']);
    expect(await ids({ states: [] })).toEqual([]);
  });

  test('a failed transaction leaves nothing behind', async () => {
    await expect(
      store.transaction(async (tx) => {
        await tx.faults.insertMany([fault('x')]);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await store.repos.faults.get('x')).toBeUndefined();
  });

  test('alerts: ids are set on insert; found by ident in current faults; stale faults by their sources', async () => {
    await store.transaction((tx) => tx.faults.insertMany([fault('a'), fault('b'), fault('old', { current: false, ident: 'svc\u001fold' })]));
    const rows = [alertRow('a', 'am:1'), alertRow('a', 'nagios:2', { source: 'nagios' }), alertRow('b', 'am:3', { last_received_at: T0 + 10 }), alertRow('old', 'am:1')];
    await store.transaction((tx) => tx.alerts.insert(rows));
    expect(rows.every((r) => typeof r.id === 'number')).toBe(true);
    expect((await store.repos.alerts.findInCurrentFaults(['am:1'])).map((r) => r.fault_id)).toEqual(['a']);
    expect((await store.repos.alerts.findInFaults(['a', 'b'], ['am:1', 'am:3'])).map((r) => r.ident).sort()).toEqual(['am:1', 'am:3']);
    // a has a Nagios alert firing, which never goes stale by an Alertmanager-only rule.
    expect(await store.repos.alerts.staleFaults(T0 + 5, ['alertmanager'])).toEqual([]);
    expect(await store.repos.alerts.staleFaults(T0 + 11, ['alertmanager'])).toEqual(['b']);
    expect((await store.repos.alerts.staleFaults(T0 + 11, ['alertmanager', 'nagios'])).sort()).toEqual(['a', 'b']);
    await store.transaction((tx) => tx.alerts.touch([rows[2]!.id!], T0 + 100));
    expect(await store.repos.alerts.staleFaults(T0 + 11, ['alertmanager'])).toEqual([]);
    await store.transaction((tx) => tx.alerts.updateMany([{ ...(rows[0] as AlertRow), status: 'resolved' }]));
    expect((await store.repos.alerts.firingOf('a')).map((r) => r.ident)).toEqual(['nagios:2']);
  });

  test('the outbox: a line waits for its older operations of the same system; other lines and systems do not', async () => {
    await store.transaction((tx) => tx.faults.insertMany([fault('a'), fault('b')]));
    const op = (line: { fault: string } | { digest: string }, system: string, kind: string, at = T0) =>
      store.transaction((tx) => enqueue(tx.outbox, { line, system, kind, payload: {}, nextAttemptAt: at }, T0));
    const a1 = await op({ fault: 'a' }, 'local', 'create');
    const a2 = await op({ fault: 'a' }, 'local', 'update');
    const b1 = await op({ fault: 'b' }, 'local', 'create');
    const mailA = await op({ fault: 'a' }, 'email', 'open');
    const digest = await op({ digest: 'd1' }, 'email', 'digest');
    await op({ fault: 'b' }, 'local', 'update', T0 + 60_000);
    expect((await store.repos.outbox.due(T0, 10, 'local')).map((o) => o.id)).toEqual([a1, b1]);
    expect((await store.repos.outbox.due(T0, 10, 'email')).map((o) => o.id)).toEqual([mailA, digest]);
    const claimed = await store.transaction((tx) => tx.outbox.claimDue(T0, 1, 'local', T0 + 1000));
    expect(claimed.map((o) => [o.id, o.state, o.attempts])).toEqual([[a1, 'running', 1]]);
    // A running, then a parked operation holds its line.
    expect((await store.repos.outbox.due(T0, 10, 'local')).map((o) => o.id)).toEqual([b1]);
    await store.transaction((tx) => tx.outbox.park(a1, 'rejected', T0));
    expect((await store.repos.outbox.due(T0, 10, 'local')).map((o) => o.id)).toEqual([b1]);
    expect(await store.transaction((tx) => tx.outbox.retryParked(T0, { faultId: 'a' }))).toBe(1);
    await store.transaction((tx) => tx.outbox.claimDue(T0, 5, 'local', T0 + 1000));
    expect(await store.transaction((tx) => tx.outbox.releaseExpiredClaims(T0 + 2000))).toBe(2);
    await store.transaction((tx) => tx.outbox.complete(a1, T0));
    expect((await store.repos.outbox.due(T0, 10, 'local')).map((o) => o.id)).toEqual([a2, b1]);
    expect((await store.repos.outbox.pendingOfFaults(['a'])).map((o) => o.id)).toEqual([a2, mailA]);
    const digestRow = (await store.repos.outbox.list({ system: 'email', limit: 10, offset: 0 })).find((o) => o.id === digest);
    expect([digestRow?.line, digestRow?.fault_id]).toEqual(['digest:d1', null]);
    expect((await store.repos.mail.recent(['digest'], T0)).map((o) => o.id)).toEqual([digest]);
    expect(await store.repos.outbox.statsBySystem()).toEqual(expect.arrayContaining([{ system: 'local', depth: 3, parked: 0, oldestCreatedAt: T0 }]));
  });

  test('the reads of a batch give the same rows inside a transaction as outside it; a payload is replaced only while pending', async () => {
    // On SQLite a transaction reads and writes these through prepared statements of their own.
    await store.transaction((tx) => tx.faults.insertMany([fault('a'), fault('b'), fault('old', { current: false, ident: 'svc\u001fold' })]));
    await store.transaction((tx) => tx.alerts.insert([alertRow('a', 'am:1'), alertRow('b', 'am:2'), alertRow('old', 'am:1')]));
    const op = (faultId: string, kind: string) => store.transaction((tx) => enqueue(tx.outbox, { line: { fault: faultId }, system: 'local', kind, payload: { kind }, nextAttemptAt: T0 }, T0));
    const [a1, a2, b1] = [await op('a', 'create'), await op('a', 'update'), await op('b', 'create')];
    const idents = ['svc\u001fa', 'svc\u001fb', 'svc\u001fold', 'svc\u001fnone'];
    const read = (repos: Store['repos']) =>
      Promise.all([
        repos.faults.findCurrent(idents),
        repos.faults.getMany(['b', 'old', 'a', 'none']),
        repos.alerts.findInCurrentFaults(['am:2', 'am:1', 'am:none']),
        repos.outbox.pendingOfFaults(['b', 'a']),
      ]);
    const outside = await read(store.repos);
    expect(outside[0].map((f) => f.id)).toEqual(['a', 'b']);
    expect(outside[1].map((f) => f.id)).toEqual(['a', 'b', 'old']);
    expect(outside[2].map((r) => [r.fault_id, r.ident]).sort()).toEqual([['a', 'am:1'], ['b', 'am:2']]);
    expect(outside[3].map((o) => o.id)).toEqual([a1, a2, b1]);
    const inside = await store.transaction((tx) => read(tx));
    const byIdent = (rows: AlertRow[]) => [...rows].sort((x, y) => x.ident.localeCompare(y.ident));
    expect([inside[0], inside[1], byIdent(inside[2]), inside[3]]).toEqual([outside[0], outside[1], byIdent(outside[2]), outside[3]]);

    await store.transaction((tx) => tx.outbox.claimDue(T0, 1, 'local', T0 + 1000));
    await store.transaction(async (tx) => {
      await tx.outbox.replacePayload(a1, '{"kind":"rewritten"}', T0 + 5);
      await tx.outbox.replacePayload(b1, '{"kind":"rewritten"}', T0 + 5);
    });
    const rows = await store.repos.outbox.list({ system: 'local', limit: 10, offset: 0 });
    const payload = (id: number) => rows.find((o) => o.id === id);
    // a1 was claimed (running): it is sent as it was; b1 was still pending.
    expect([payload(a1)?.payload, payload(a1)?.updated_at]).not.toEqual(['{"kind":"rewritten"}', T0 + 5]);
    expect([payload(b1)?.payload, payload(b1)?.updated_at]).toEqual(['{"kind":"rewritten"}', T0 + 5]);
  });

  test('write-backs: one row per fault and system, renewals of live acknowledged faults, an agent queue confirmed once', async () => {
    await store.transaction((tx) =>
      tx.faults.insertMany([
        fault('w1', { acknowledged: { at: T0, by: 'grace' } }),
        fault('w2', { acknowledged: { at: T0, by: 'grace' } }),
        fault('w3'),
        fault('w4', { state: 'resolved', acknowledged: { at: T0, by: 'grace' } }),
      ]),
    );
    const row = (faultId: string, until: number | null, active = 1) => ({ fault_id: faultId, system: 'alertmanager', ref: `s-${faultId}`, active, active_until: until, updated_at: T0 });
    await store.transaction(async (tx) => {
      await tx.writebacks.put(row('w1', T0 + 1_000));
      await tx.writebacks.put(row('w2', T0 + 5_000));
      await tx.writebacks.put(row('w3', T0 + 500));
      await tx.writebacks.put(row('w4', T0 + 500));
      await tx.writebacks.put({ ...row('w1', null), system: 'zabbix', ref: '4242' });
    });
    // Replaced, not added.
    await store.repos.writebacks.put(row('w1', T0 + 2_000));
    expect(await store.repos.writebacks.listByFault('w1')).toEqual([row('w1', T0 + 2_000), { ...row('w1', null), system: 'zabbix', ref: '4242' }]);
    expect(await store.repos.writebacks.get('w1', 'nagios')).toBeUndefined();
    // w3 is not acknowledged and w4 is resolved: not renewed; the soonest end first.
    expect(await store.repos.writebacks.renewalsDue('alertmanager', T0 + 10_000, 10)).toEqual(['w1', 'w2']);
    expect(await store.repos.writebacks.renewalsDue('alertmanager', T0 + 3_000, 10)).toEqual(['w1']);
    await store.repos.writebacks.put(row('w1', T0 + 2_000, 0));
    expect(await store.repos.writebacks.renewalsDue('alertmanager', T0 + 10_000, 10)).toEqual(['w2']);

    const a = await store.repos.writebacks.queueCommand({ system: 'nagios', fault_id: 'w1', command: '[1] ACKNOWLEDGE_HOST_PROBLEM;h;2;1;1;a;c', created_at: T0 });
    const b = await store.repos.writebacks.queueCommand({ system: 'nagios', fault_id: 'w2', command: '[2] ACKNOWLEDGE_HOST_PROBLEM;i;2;1;1;a;c', created_at: T0 + 1 });
    expect(b).toBeGreaterThan(a);
    expect(await store.repos.writebacks.commandBacklog('nagios')).toEqual({ waiting: 2, oldestCreatedAt: T0 });
    expect((await store.repos.writebacks.fetchCommands('nagios', 10, T0 + 5)).map((c) => [c.id, c.fault_id, c.fetched_at])).toEqual([[a, 'w1', T0 + 5], [b, 'w2', T0 + 5]]);
    expect(await store.repos.writebacks.completeCommand('nagios', a, T0 + 6)).toBe('confirmed');
    expect(await store.repos.writebacks.completeCommand('nagios', a, T0 + 7)).toBe('already');
    expect(await store.repos.writebacks.completeCommand('zabbix', b, T0 + 7)).toBe('unknown');
    expect(await store.repos.writebacks.completeCommand('nagios', 9_999, T0 + 7)).toBe('unknown');
    expect((await store.repos.writebacks.fetchCommands('nagios', 10, T0 + 8)).map((c) => c.id)).toEqual([b]);
    expect(await store.repos.writebacks.commandBacklog('nagios')).toEqual({ waiting: 1, oldestCreatedAt: T0 + 1 });
  });

  test('retention takes a fault\'s write-backs and agent commands with it', async () => {
    await store.transaction((tx) => tx.faults.insertMany([fault('r1', { state: 'resolved', resolvedAt: T0 })]));
    await store.repos.writebacks.put({ fault_id: 'r1', system: 'alertmanager', ref: 's-1', active: 0, active_until: T0, updated_at: T0 });
    await store.repos.writebacks.queueCommand({ system: 'nagios', fault_id: 'r1', command: '[1] REMOVE_HOST_ACKNOWLEDGEMENT;h', created_at: T0 });
    expect(await store.transaction((tx) => tx.retention.purgeFaults(T0 + 1, 10))).toMatchObject({ faults: 1 });
    expect(await store.repos.writebacks.listByFault('r1')).toEqual([]);
    expect(await store.repos.writebacks.commandBacklog('nagios')).toEqual({ waiting: 0, oldestCreatedAt: null });
  });

  test('the outbox refuses an operation of a fault that does not exist', async () => {
    await expect(store.transaction((tx) => enqueue(tx.outbox, { line: { fault: 'nope' }, system: 'local', kind: 'create', payload: {}, nextAttemptAt: T0 }, T0))).rejects.toMatchObject({ message: expect.stringMatching(/foreign key/i) });
  });

  test('local tickets, ratings and fits', async () => {
    const id = await store.transaction((tx) => tx.localTickets.insert({ fault_id: 'a', status: 'open', subject: 's', body: 'b', priority: 'high', fields: '{}', created_at: T0, updated_at: T0 }));
    await store.transaction(async (tx) => {
      await tx.localTickets.addComment(id, 'c1', T0, 'op-1');
      await tx.localTickets.addAttachment(id, { filename: 'r.md', contentType: 'text/markdown', content: 'hello' }, T0);
    });
    expect(await store.repos.localTickets.hasComment('op-1')).toBe(true);
    const list = await store.repos.localTickets.list({ limit: 10, offset: 0 });
    expect(list.attachments.map((a) => [a.filename, a.size])).toEqual([['r.md', 5]]);
    const other = await store.transaction((tx) => tx.localTickets.insert({ fault_id: 'b', status: 'open', subject: 's2', body: 'b', priority: 'high', fields: '{}', created_at: T0, updated_at: T0 }));
    const one = await store.repos.localTickets.list({ id, limit: 1, offset: 0 });
    expect([one.tickets.map((t) => t.id), one.comments.map((c) => c.body)]).toEqual([[id], ['c1']]);
    expect((await store.repos.localTickets.list({ id: other, limit: 1, offset: 0 })).comments).toEqual([]);
    expect((await store.repos.localTickets.findOpenByFault('a'))?.id).toBe(id);
    const rating = { fault_id: 'a', category: 'svc', score: 8, source: 'zendesk', external_id: 'r1', comment: null, rated_at: T0 };
    expect(await store.repos.satisfaction.insert(rating)).toBe(true);
    expect(await store.repos.satisfaction.insert(rating)).toBe(false);
    expect(await store.repos.satisfaction.summary(T0)).toEqual([{ category: 'svc', sum: 8, n: 1 }]);
    await store.repos.fits.insert({ category: 'svc', a: 1, b: 1, samples: 3, rmse_hours: 0.1, fitted_at: T0 });
    await store.repos.fits.insert({ category: 'svc', a: 2, b: 1, samples: 4, rmse_hours: 0.1, fitted_at: T0 + 1 });
    expect((await store.repos.fits.latest()).map((f) => f.a)).toEqual([2]);
  });

  test('inbound: a change is remembered once, a failed transaction forgets it, cursors survive', async () => {
    expect(await store.repos.inbound.remember('zendesk:ticket:1:a', T0)).toBe(true);
    expect(await store.repos.inbound.remember('zendesk:ticket:1:a', T0 + 5)).toBe(false);
    await expect(
      store.transaction(async (tx) => {
        expect(await tx.inbound.remember('zendesk:ticket:1:b', T0)).toBe(true);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await store.repos.inbound.remember('zendesk:ticket:1:b', T0 + 10)).toBe(true);
    expect(await store.repos.inbound.forget(T0 + 1)).toBe(1);
    expect(await store.repos.inbound.remember('zendesk:ticket:1:a', T0 + 20)).toBe(true);
    expect(await store.repos.inbound.cursor('servicenow')).toBeUndefined();
    await store.repos.inbound.saveCursor('servicenow', '2026-11-24 10:00:00', T0);
    await store.transaction((tx) => tx.inbound.saveCursor('servicenow', '2026-11-24 10:05:00', T0 + 1));
    expect(await store.repos.inbound.cursor('servicenow')).toBe('2026-11-24 10:05:00');
  });
});

// What replicas sharing one database rely on, on each server: the same database opened twice.
describe.each(SERVER_KINDS.length ? SERVER_KINDS : (['none'] as const))('two replicas on one %s database', (kind) => {
  let a: Store;
  let b: Store;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    if (kind === 'none') return;
    const db = await freshDatabase(kind);
    drop = db.drop;
    a = await openStore({ url: db.url, migrate: true });
    b = await openStore({ url: db.url, migrate: true });
  });
  afterAll(async () => {
    if (kind === 'none') return;
    await a.close();
    await b.close();
    await drop();
  });
  const onServer = kind === 'none' ? test.skip : test;

  onServer('an operation one replica claimed in an open transaction is skipped by the other, not waited for; none is claimed twice', async () => {
    const ids = Array.from({ length: 30 }, (_, i) => `r${i}`);
    await a.transaction((tx) => tx.faults.insertMany(ids.map((id) => fault(id))));
    for (const id of ids) await a.transaction((tx) => enqueue(tx.outbox, { line: { fault: id }, system: 'local', kind: 'create', payload: {}, nextAttemptAt: T0 }, T0));
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let first: number[] = [];
    const holding = a.transaction(async (tx) => {
      first = (await tx.outbox.claimDue(T0, 3, 'local', T0 + 60_000)).map((o) => o.id);
      await held;
    });
    while (first.length === 0) await new Promise((r) => setTimeout(r, 10));
    // While a's transaction still holds its three rows, b claims the next ones at once.
    const started = Date.now();
    const second = (await b.transaction((tx) => tx.outbox.claimDue(T0, 5, 'local', T0 + 60_000))).map((o) => o.id);
    expect(Date.now() - started).toBeLessThan(2000);
    release();
    await holding;
    expect(second).toHaveLength(5);
    expect(second.filter((id) => first.includes(id))).toEqual([]);
    // The rest, claimed by both at once in small batches: every operation exactly once.
    const taken = [...first, ...second];
    await Promise.all(
      [a, b].map(async (store) => {
        for (;;) {
          const got = await store.transaction((tx) => tx.outbox.claimDue(T0, 2, 'local', T0 + 60_000));
          if (got.length === 0) return;
          taken.push(...got.map((o) => o.id));
        }
      }),
    );
    expect(taken).toHaveLength(30);
    expect(new Set(taken).size).toBe(30);
  });

  onServer('a scheduled job runs on one replica only, once per tick', async () => {
    let runs = 0;
    const work = async () => {
      runs += 1;
      await new Promise((r) => setTimeout(r, 300));
    };
    const both = await Promise.all([a.jobs.runOnce('purge', T0, work), b.jobs.runOnce('purge', T0, work)]);
    expect(both.filter(Boolean)).toHaveLength(1);
    expect(runs).toBe(1);
    // The same tick again (a replica whose clock lags): already run.
    expect(await b.jobs.runOnce('purge', T0 + 10, work)).toBe(false);
    // Another job, or the next tick, runs.
    expect(await b.jobs.runOnce('fit', T0, work)).toBe(true);
    expect(await a.jobs.runOnce('purge', T0 + 1000, work)).toBe(true);
    expect(runs).toBe(3);
  });
});
