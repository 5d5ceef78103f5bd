import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { ManualClock } from '../../src/clock';
import { loadConfig } from '../../src/config';
import { FaultService } from '../../src/faults';
import { silentLogger } from '../../src/log';
import { createMetrics } from '../../src/metrics';
import { backoffDelay, OutboxWorker, TicketHandler } from '../../src/outbox';
import { loadRules, RuleEngine } from '../../src/rules';
import { ruleContext } from '../../src/main';
import type { Alert } from '../../src/sources';
import { openStore, type Store } from '../../src/store';
import { TicketSystemError, type NewTicket, type TicketChange, type TicketRef, type TicketSystem } from '../../src/tickets';
import { tempDir } from '../helpers';
import { freshDatabase, STORE_KINDS } from '../postgres';

/** A ticket system that records calls and fails as told. */
class ScriptedSystem implements TicketSystem {
  readonly name = 'local' as const;
  calls: string[] = [];
  /** Errors to throw, each for the next call that names `on` (a subject or a ticket id). */
  failures: Array<{ on: string; error: Error }> = [];
  private next = 1;
  async findByFault(faultId: string): Promise<TicketRef | undefined> {
    this.calls.push(`find ${faultId.slice(0, 4)}`);
    return undefined;
  }
  async create(t: NewTicket): Promise<TicketRef> {
    this.fail(t.subject);
    this.calls.push(`create ${t.subject}`);
    return { id: String(this.next++), status: 'open' };
  }
  async update(ref: TicketRef, c: TicketChange): Promise<TicketRef> {
    this.fail(ref.id);
    this.calls.push(`update ${ref.id} ${c.priority ?? ''}`.trim());
    return ref;
  }
  async resolve(ref: TicketRef): Promise<TicketRef> {
    this.fail(ref.id);
    this.calls.push(`resolve ${ref.id}`);
    return { ...ref, status: 'solved' };
  }
  async reopen(ref: TicketRef): Promise<TicketRef> {
    this.fail(ref.id);
    this.calls.push(`reopen ${ref.id}`);
    return { ...ref, status: 'open' };
  }
  async close(ref: TicketRef): Promise<TicketRef> {
    this.fail(ref.id);
    this.calls.push(`close ${ref.id}`);
    return { ...ref, status: 'closed' };
  }
  private fail(on: string) {
    const i = this.failures.findIndex((f) => f.on === on);
    if (i < 0) return;
    const [f] = this.failures.splice(i, 1);
    throw f!.error;
  }
}

let store: Store;
let cleanup: () => Promise<void>;
let clock: ManualClock;
let system: ScriptedSystem;
let worker: OutboxWorker;
let faults: FaultService;
let metrics: ReturnType<typeof createMetrics>;

// On every store: the claims, leases and retries are the store's work.
describe.each(STORE_KINDS)('on %s', (kind) => {
beforeEach(async () => {
  const tmp = tempDir();
  let url = `sqlite:${path.join(tmp.dir, 'db.sqlite')}`;
  let drop = async () => undefined as void;
  if (kind !== 'sqlite') ({ url, drop } = await freshDatabase(kind));
  cleanup = async () => {
    await drop();
    tmp.cleanup();
  };
  const rules = path.join(tmp.dir, 'r.yaml');
  writeFileSync(rules, "categories:\n  - name: svc\n    match: ['alertname=\"Down\"']\n    fault_key: [service]\n    ticket: { subject: '{{keyLabels.service}}' }\n");
  const config = loadConfig({ env: { FAULTDESK_RULES: rules } });
  const engine = new RuleEngine(loadRules(rules, ruleContext(config)));
  clock = new ManualClock();
  store = await openStore({ url, migrate: true });
  metrics = createMetrics({
    state: { faultsByCategoryAndState: () => store.repos.faults.countByCategoryAndState(), outboxBySystem: () => store.repos.outbox.statsBySystem() },
  });
  system = new ScriptedSystem();
  const logger = silentLogger();
  worker = new OutboxWorker({
    store,
    handler: new TicketHandler({ store, system, rules: () => engine, logger, metrics, clock }),
    clock,
    logger,
    options: { concurrency: 4, pollIntervalMs: 1000, leaseMs: 60_000, backoff: { initialMs: 1000, maxMs: 60_000 } },
    random: () => 1,
  });
  faults = new FaultService({ store, rules: () => engine, clock, logger, metrics });
});
afterEach(async () => {
  await store.close();
  await cleanup();
});

const alert = (service: string, status: 'firing' | 'resolved' = 'firing'): Alert => ({
  source: 'alertmanager',
  sourceId: `${service}-1`,
  status,
  labels: { alertname: 'Down', service },
  annotations: {},
  startsAt: 1,
  receivedAt: clock.now(),
});

async function drain() {
  while ((await worker.runOnce()) > 0);
}

test('backoff doubles up to the maximum, with jitter in the upper half', () => {
  const policy = { initialMs: 1000, maxMs: 8000 };
  expect([1, 2, 3, 4, 5].map((n) => backoffDelay(policy, n, () => 1))).toEqual([1000, 2000, 4000, 8000, 8000]);
  expect(backoffDelay(policy, 3, () => 0)).toBe(2000);
});

test('5xx-like failures are retried with backoff; a create retried after a possible send looks the ticket up first', async () => {
  await faults.ingest('alertmanager', [alert('a')]);
  system.failures.push(
    { on: 'a', error: new TicketSystemError('HTTP 503', 'server_error', true) },
    { on: 'a', error: new TicketSystemError('timeout', 'timeout', true) },
  );
  await drain();
  expect(system.calls).toEqual([]);
  clock.advance(999);
  await drain();
  expect(system.calls).toEqual([]); // not before the backoff
  clock.advance(1);
  await drain();
  expect(system.calls).toEqual([expect.stringMatching(/^find /)]); // failed again (timeout)
  clock.advance(2000);
  await drain();
  expect(system.calls.slice(1)).toEqual([expect.stringMatching(/^find /), 'create a']);
  const text = await metrics.registry.getSingleMetricAsString('faultdesk_ticket_operations_total');
  expect(text).toContain('operation="create",result="retry"} 2');
  expect(text).toContain('operation="create",result="ok"} 1');
});

test('429 waits for Retry-After', async () => {
  await faults.ingest('alertmanager', [alert('a')]);
  system.failures.push({ on: 'a', error: new TicketSystemError('HTTP 429', 'rate_limited', true, 30_000) });
  await drain();
  clock.advance(29_999);
  await drain();
  expect(system.calls).toEqual([]);
  clock.advance(1);
  await drain();
  expect(system.calls).toContain('create a');
});

test('a permanent failure parks the operation, records it on the fault, and holds the later ones', async () => {
  await faults.ingest('alertmanager', [alert('a')]);
  system.failures.push({ on: 'a', error: new TicketSystemError('HTTP 401: bad credentials', 'unauthorized', false) });
  await drain();
  clock.advance(1000);
  await faults.ingest('alertmanager', [alert('a', 'resolved')]);
  clock.advance(3_600_000);
  await drain();
  expect(system.calls).toEqual([]);
  const [fault] = await store.repos.faults.list({ limit: 1, offset: 0 });
  expect(fault?.ticket_error).toBe('create: HTTP 401: bad credentials');
  const ops = await store.repos.outbox.listByFault(fault!.id);
  expect(ops.map((o) => [o.kind, o.state])).toEqual([
    ['create', 'parked'],
    ['resolve', 'pending'],
  ]);
  expect(await metrics.registry.getSingleMetricAsString('faultdesk_outbox_depth')).toContain('system="local"} 2');
});

test('operations of one fault run in order; different faults in parallel', async () => {
  await faults.ingest('alertmanager', [alert('a'), alert('b')]);
  await faults.ingest('alertmanager', [alert('a', 'resolved'), alert('b', 'resolved')]);
  system.failures.push({ on: 'a', error: new TicketSystemError('HTTP 500', 'server_error', true) });
  await drain();
  // a's create failed, so a's resolve waits; b goes ahead.
  expect(system.calls).toEqual(['create b', 'resolve 1']);
  clock.advance(1000);
  await drain();
  expect(system.calls.slice(2)).toEqual([expect.stringMatching(/^find /), 'create a', 'resolve 2']);
});

test('a delivery the store cannot record is counted as a store error, not a ticket error, and is delivered again after its lease', async () => {
  await faults.ingest('alertmanager', [alert('a')]);
  const storeErrors: string[] = [];
  const transaction = store.transaction.bind(store);
  let failNext = true;
  const flaky: Store = Object.assign(Object.create(store) as Store, {
    transaction: <T>(work: Parameters<Store['transaction']>[0]) => {
      if (failNext) {
        failNext = false;
        return Promise.reject(new Error('disk I/O error'));
      }
      return transaction(work) as Promise<T>;
    },
  });
  const flakyWorker = new OutboxWorker({
    store: flaky,
    handler: new TicketHandler({ store, system, rules: () => new RuleEngine(loadRules(path.join(__dirname, '../../rules'), ruleContext(loadConfig({ env: {} })))), logger: silentLogger(), metrics, clock }),
    clock,
    logger: silentLogger(),
    options: { concurrency: 4, pollIntervalMs: 1000, leaseMs: 60_000, backoff: { initialMs: 1000, maxMs: 60_000 } },
    onStoreError: () => storeErrors.push('outbox'),
  });
  await flakyWorker.runOnce();
  expect(storeErrors).toEqual(['outbox']);
  expect(await metrics.registry.getSingleMetricAsString('faultdesk_ticket_api_errors_total')).not.toMatch(/reason="unknown"\} [1-9]/);
  expect((await store.repos.outbox.list({ state: 'running', limit: 10, offset: 0 })).map((o) => o.kind)).toEqual(['create']);
  clock.advance(60_001);
  await flakyWorker.runOnce();
  // The retry finds the ticket the first delivery made (the scripted system finds none here, so it creates).
  expect((await store.repos.outbox.list({ state: 'done', limit: 10, offset: 0 })).map((o) => o.kind)).toEqual(['create']);
});
});
