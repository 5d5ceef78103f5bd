import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore, type NewOutboxRow, type Store } from '../../src/store';

let dir: string;
let store: Store;
beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'faultdesk-aside-'));
  store = await openStore({ url: `sqlite:${path.join(dir, 'a.db')}`, migrate: true, checkpointInBackground: true });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const op = (n: number): NewOutboxRow => ({
  line: `digest:d${n}`,
  fault_id: null,
  system: 'email',
  kind: 'mail',
  payload: '{}',
  state: 'pending',
  attempts: 0,
  next_attempt_at: 0,
  claimed_until: null,
  last_error: null,
  created_at: 1000 + n,
  updated_at: 1000 + n,
});

function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

test('the counts /metrics reads do not wait for the writer: they answer during its transaction, with what is committed', async () => {
  await store.transaction((tx) => tx.outbox.insert(op(1)));
  let during: unknown;
  await store.transaction(async (tx) => {
    await tx.outbox.insert(op(2));
    // On the writer's one connection this would wait for the transaction it is called from.
    during = await within(store.repos.outbox.statsBySystem(), 5_000);
    expect(await within(store.repos.faults.countByState(), 5_000)).toEqual({});
  });
  expect(during).toEqual([{ system: 'email', depth: 1, parked: 0, oldestCreatedAt: 1001 }]);
  expect(await store.repos.outbox.statsBySystem()).toEqual([{ system: 'email', depth: 2, parked: 0, oldestCreatedAt: 1001 }]);
});
