import { RepeatCache } from '../../src/faults/repeat-cache';
import type { AlertOutcome } from '../../src/metrics';
import { silentLogger } from '../../src/log';
import type { RuleEngine } from '../../src/rules';
import type { Alert } from '../../src/sources';
import { memoryStore, type AlertRow, type Store } from '../../src/store';
import { faultToRow } from '../../src/faults/fault';
import { testFault } from '../factories';

// The repeat cache alone: what it answers from memory, and how it writes last-seen times.

const T0 = Date.parse('2026-11-24T10:00:00Z');
const engine = {} as RuleEngine;
const live = { id: 'f1', current: true, state: 'open' };

function alert(id: string, over: Partial<Alert> = {}): Alert {
  return { source: 'alertmanager', sourceId: id, status: 'firing', labels: { alertname: 'X', instance: id }, annotations: {}, startsAt: T0, receivedAt: T0, ...over };
}

async function seed(store: Store): Promise<AlertRow[]> {
  const f = faultToRow(testFault({ id: 'f1', ident: 'x', alertCount: 2, firingCount: 2, ticket: { system: 'local', id: null, status: null, url: null, error: null } }));
  const rows = ['a', 'b'].map((id) => ({
    fault_id: 'f1', ident: `alertmanager:${id}`, source: 'alertmanager', source_id: id, status: 'firing',
    labels: JSON.stringify({ alertname: 'X', instance: id }), annotations: '{}', starts_at: T0, ends_at: null, generator_url: null, fs: 5,
    first_received_at: T0, last_received_at: T0,
  })) as Array<AlertRow>;
  await store.transaction(async (tx) => {
    await tx.faults.insertMany([f]);
    await tx.alerts.insert(rows);
  });
  return rows;
}

test('repeats are answered from memory and their last-seen times written at the next flush, rounded down to the second', async () => {
  const store = memoryStore();
  const rows = await seed(store);
  const cache = new RepeatCache(store, silentLogger(), 1_000);
  // What it learns holds for one rule set: the first answer under a rule set starts it.
  cache.answer(engine, [], T0, [], []);
  cache.learn(rows.map((record) => ({ record, fault: live })));
  const outcomes: AlertOutcome[] = [];
  const faults: Array<string | null> = [];
  // b changed: it takes the full path; a is a repeat.
  const full = cache.answer(engine, [alert('a'), alert('b', { annotations: { summary: 'new' } })], T0 + 10_500, outcomes, faults);
  expect(full).toEqual([1]);
  expect([outcomes[0], faults[0]]).toEqual(['duplicate', 'f1']);
  expect(await cache.flush()).toBe(1);
  expect((await store.repos.alerts.listByFault('f1')).map((r) => r.last_received_at)).toEqual([T0 + 10_000, T0]);
  expect(await cache.flush()).toBe(0);
});

test('a flush the store refuses makes the cache forget what it knew, so the next deliveries write', async () => {
  const store = memoryStore();
  const rows = await seed(store);
  const failing = Object.assign(Object.create(store) as Store, { transaction: () => Promise.reject(new Error('disk full')) });
  const cache = new RepeatCache(failing, silentLogger(), 1_000);
  cache.answer(engine, [], T0, [], []);
  cache.learn(rows.map((record) => ({ record, fault: live })));
  cache.answer(engine, [alert('a')], T0 + 10_000, [], []);
  expect(await cache.flush()).toBe(0);
  expect(cache.size).toBe(0);
  expect(cache.answer(engine, [alert('a')], T0 + 11_000, [], [])).toEqual([0]);
});
