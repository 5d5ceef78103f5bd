import { UnitOfWork, type ClassifiedAlert } from '../../src/faults/unit-of-work';
import { sampleTicketContext } from '../../src/faults';
import { createMetrics } from '../../src/metrics';
import { MailPlanner, type EmailConfig } from '../../src/notify/planner';
import { compileRuleSources, RuleEngine, type RuleContext } from '../../src/rules';
import type { Alert } from '../../src/sources';
import { memoryStore, type Store } from '../../src/store';

// The unit of work on the in-memory stores: what a batch loads, decides and writes, with no database.

const T0 = Date.parse('2026-11-24T10:00:00Z');
const MIN = 60_000;

const context: RuleContext = {
  defaultSystem: 'local',
  systems: ['local'],
  email: true,
  systemFields: {},
  updateIntervalMs: 5 * MIN,
  reopenWithinMs: 60 * MIN,
  flapping: { changes: 6, windowMs: 60 * MIN, quietMs: 30 * MIN },
  sampleContext: sampleTicketContext,
};
const engine = new RuleEngine(
  compileRuleSources(
    [
      {
        file: 'r.yaml',
        text: `categories:
  - name: svc
    match: ['alertname="SvcDown"']
    fault_key: [service]
    severity: { label: severity, map: { warning: 4, critical: 8 }, default: 3 }
    notify: { to: [oncall@example.com], events: [open, escalate, resolve] }
`,
      },
    ],
    context,
  ),
);

let store: Store;
let ids: number;
beforeEach(() => {
  store = memoryStore();
  ids = 0;
});

function alert(id: string, over: Partial<Alert> & { severity?: string; service?: string } = {}): ClassifiedAlert {
  const { severity = 'warning', service = 'checkout', ...rest } = over;
  const a: Alert = {
    source: 'alertmanager',
    sourceId: id,
    status: 'firing',
    labels: { alertname: 'SvcDown', service, instance: id, severity },
    annotations: {},
    startsAt: T0 - MIN,
    receivedAt: T0,
    ...rest,
  };
  return { alert: a, classification: engine.classify(a) };
}

const mail = new MailPlanner(emailConfig() as EmailConfig, createMetrics());

function emailConfig() {
  return {
    smtp: { host: '127.0.0.1', port: 25, secure: false, starttls: false, timeout: 10_000 },
    from: 'faultdesk@example.com',
    to: [],
    min_severity: 7,
    events: ['open', 'escalate', 'at_risk'],
    throttle: 30 * MIN,
    digest: { threshold: 5, window: MIN, wait: 10_000 },
    concurrency: 2,
  };
}

async function batch(now: number, items: ClassifiedAlert[]) {
  return store.transaction(async (tx) => {
    const uow = await UnitOfWork.forAlerts(tx, now, { engine, mail, newId: () => `f${++ids}` }, items);
    const applied = items.map((i) => uow.apply(i));
    const saved = await uow.save();
    return { applied, transitions: uow.transitions.map((t) => t.transition), ...saved };
  });
}

async function outbox() {
  return (await store.repos.outbox.list({ limit: 100, offset: 0 })).map((o) => ({ line: o.line, system: o.system, kind: o.kind, due: (o.next_attempt_at - T0) / MIN }));
}

test('a batch opens one fault per key, writes its alerts, its ticket create and its mail in their lines', async () => {
  const r = await batch(T0, [alert('a'), alert('b'), alert('c', { service: 'cart' })]);
  expect(r.applied.map((x) => [x.outcome, x.faultId])).toEqual([
    ['opened', 'f1'],
    ['updated', 'f1'],
    ['opened', 'f2'],
  ]);
  expect(r.dueNow).toBe(2);
  const faults = await store.repos.faults.list({ limit: 10, offset: 0 });
  expect(faults.map((f) => [f.id, f.fault_key, f.alert_count]).sort()).toEqual([
    ['f1', '{service="checkout"}', 2],
    ['f2', '{service="cart"}', 1],
  ]);
  expect(await outbox()).toEqual([
    { line: 'fault:f1', system: 'local', kind: 'create', due: 0 },
    { line: 'fault:f2', system: 'local', kind: 'create', due: 0 },
    // Open mails wait a moment so that a storm can be digested.
    { line: 'fault:f1', system: 'email', kind: 'open', due: 10_000 / MIN },
    { line: 'fault:f2', system: 'email', kind: 'open', due: 10_000 / MIN },
  ]);
  // The mail log is written with the fault, in the same save.
  expect(JSON.parse((await store.repos.faults.get('f1'))!.mail_log).sent).toEqual({ open: T0 });
});

test('changes of later batches gather in one waiting update, which an escalation then takes along', async () => {
  await batch(T0, [alert('a')]);
  await store.transaction(async (tx) => {
    const [create] = await tx.outbox.list({ system: 'local', limit: 1, offset: 0 });
    await tx.outbox.claim(create!.id, T0, T0 + MIN);
    await tx.outbox.complete(create!.id, T0);
  });
  await batch(T0 + MIN, [alert('b')]);
  await batch(T0 + 2 * MIN, [alert('c')]);
  let ticketOps = (await outbox()).filter((o) => o.system === 'local');
  expect(ticketOps.map((o) => [o.kind, o.due])).toEqual([
    ['create', 0],
    ['update', 5],
  ]);
  const [update] = await store.repos.outbox.list({ state: 'pending', system: 'local', limit: 1, offset: 0 });
  expect(JSON.parse(update!.payload).changes).toHaveLength(2);

  const r = await batch(T0 + 3 * MIN, [alert('a', { severity: 'critical' })]);
  expect(r.transitions).toEqual(['escalated']);
  ticketOps = (await outbox()).filter((o) => o.system === 'local');
  expect(ticketOps.map((o) => o.kind)).toEqual(['create', 'escalate']);
  const [escalate] = await store.repos.outbox.list({ state: 'pending', system: 'local', limit: 1, offset: 0 });
  expect(JSON.parse(escalate!.payload).changes).toHaveLength(3);
});

test('a fault resolved too long ago gives up its key: the same event opens a new fault', async () => {
  await batch(T0, [alert('a')]);
  await batch(T0 + MIN, [alert('a', { status: 'resolved', endsAt: T0 + MIN })]);
  const r = await batch(T0 + 3 * 60 * MIN, [alert('a', { startsAt: T0 + 3 * 60 * MIN })]);
  expect(r.applied[0]).toMatchObject({ outcome: 'opened', faultId: 'f2' });
  expect(r.transitions).toEqual(['superseded', 'opened']);
  const faults = await store.repos.faults.list({ limit: 10, offset: 0 });
  expect(faults.map((f) => [f.id, f.current, f.state]).sort()).toEqual([
    ['f1', null, 'resolved'],
    ['f2', 1, 'open'],
  ]);
});

test('an alert stays with the fault that holds it, whatever the rules say of its labels now', async () => {
  await batch(T0, [alert('a')]);
  // Same alert (same fingerprint), now labelled for another service: it is still f1's.
  const r = await batch(T0 + MIN, [alert('a', { service: 'cart' })]);
  expect(r.applied[0]).toMatchObject({ outcome: 'updated', faultId: 'f1' });
});

test('a failed save leaves nothing behind', async () => {
  const failing = { plan: async () => Promise.reject(new Error('mail planner down')) };
  await expect(
    store.transaction(async (tx) => {
      const uow = await UnitOfWork.forAlerts(tx, T0, { engine, mail: failing, newId: () => 'fx' }, [alert('a')]);
      uow.apply(alert('a'));
      await uow.save();
    }),
  ).rejects.toThrow('mail planner down');
  expect(await store.repos.faults.list({ limit: 10, offset: 0 })).toEqual([]);
  expect(await outbox()).toEqual([]);
});

test('events about whole faults: a timer resolves a stale fault with its alerts', async () => {
  await batch(T0, [alert('a')]);
  await store.transaction(async (tx) => {
    const uow = await UnitOfWork.forFaults(tx, T0 + 25 * 60 * MIN, { engine }, ['f1']);
    uow.applyToFault('f1', { type: 'stale', afterMs: 24 * 60 * MIN, firing: await tx.alerts.firingOf('f1') }, engine.rules.fallback);
    await uow.save();
  });
  const f = await store.repos.faults.get('f1');
  expect([f?.state, f?.stale, f?.firing_count]).toEqual(['resolved', 1, 0]);
  expect((await store.repos.alerts.listByFault('f1')).map((a) => a.status)).toEqual(['resolved']);
  expect((await outbox()).filter((o) => o.system === 'local').map((o) => o.kind)).toEqual(['create', 'resolve']);
});
