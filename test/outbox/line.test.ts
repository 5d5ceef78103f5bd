import type { TicketIntent } from '../../src/faults/intents';
import { planTicketLine, type TicketLine, type WaitingOperation } from '../../src/outbox/line';

// How a fault's ticket hears about it: the ticket line's rules, case by case, with no store.

const T0 = Date.parse('2026-11-24T10:00:00Z');
const MIN = 60_000;

const line = (waiting: WaitingOperation[] = [], over: Partial<TicketLine> = {}): TicketLine => ({
  faultId: 'f1',
  system: 'local',
  waiting,
  lastUpdateAt: null,
  openedAt: T0 - 10 * MIN,
  updateIntervalMs: 5 * MIN,
  ...over,
});
const paced = (...changes: string[]): TicketIntent => ({ kind: 'ticket', op: 'update', payload: { changes }, paced: true });
const now = (op: TicketIntent['op'], changes: string[] = [], note?: string): TicketIntent => ({ kind: 'ticket', op, payload: { changes, ...(note ? { note } : {}) } });
const waitingUpdate = (changes: string[], at = T0 + 2 * MIN): WaitingOperation => ({ id: 11, kind: 'update', payload: { changes }, nextAttemptAt: at });

/** The plan in short: each change as type, kind, when (relative minutes), changes, note. */
function short(plan: ReturnType<typeof planTicketLine>) {
  return plan.changes.map((c) => {
    if (c.type === 'withdraw') return ['withdraw', c.id];
    if (c.type === 'rewrite') return ['rewrite', c.id, (c.payload as { changes: string[] }).changes];
    const p = c.op.payload as { changes: string[]; note?: string };
    return ['insert', c.op.kind, (c.op.nextAttemptAt - T0) / MIN, p.changes, ...(p.note ? [p.note] : [])];
  });
}

test.each<[string, WaitingOperation[], Partial<TicketLine>, TicketIntent[], unknown[], number | null]>([
  ['a first change waits one interval after the fault opened', [], {}, [paced('a')], [['insert', 'update', 0, ['a']]], T0],
  ['changes within the interval gather in one update', [], { lastUpdateAt: T0 - MIN }, [paced('a'), paced('b')], [['insert', 'update', 4, ['a', 'b']]], T0 + 4 * MIN],
  ['a change joins an update already waiting in the store', [waitingUpdate(['a'])], {}, [paced('b')], [['rewrite', 11, ['a', 'b']]], null],
  ['no update while the create waits: the create shows the fault as it is when sent', [{ id: 9, kind: 'create', payload: { changes: [] }, nextAttemptAt: T0 }], {}, [paced('a')], [], null],
  ['an operation that goes now takes the waiting update with it', [waitingUpdate(['a'])], {}, [now('resolve', ['b'])], [['withdraw', 11], ['insert', 'resolve', 0, ['a', 'b']]], null],
  ['an escalation goes now and restarts the pace', [], { lastUpdateAt: T0 - 20 * MIN }, [now('escalate'), paced('a')], [['insert', 'escalate', 0, []], ['insert', 'update', 5, ['a']]], T0 + 5 * MIN],
  ['a create takes no update with it', [waitingUpdate(['a'])], {}, [now('create')], [['insert', 'create', 0, []]], null],
])('%s', (_what, waiting, over, intents, expected, lastUpdateAt) => {
  const plan = planTicketLine(line(waiting, over), intents, T0);
  expect(short(plan)).toEqual(expected);
  expect(plan.lastUpdateAt).toBe(lastUpdateAt ?? line(waiting, over).lastUpdateAt);
});

test('a source comment joins an escalation of the same batch: one comment says both', () => {
  const comment: TicketIntent = { ...now('comment', [], 'raised by zabbix'), joinsEscalation: true };
  expect(short(planTicketLine(line(), [now('escalate', [], 'prior note'), comment], T0))).toEqual([['insert', 'escalate', 0, [], 'raised by zabbix\nprior note']]);
  // Without an escalation in the batch it is a comment of its own.
  expect(short(planTicketLine(line(), [comment], T0))).toEqual([['insert', 'comment', 0, [], 'raised by zabbix']]);
});

test('a storm of changes is listed up to fifty lines, then summarised', () => {
  const plan = planTicketLine(line(), Array.from({ length: 120 }, (_, i) => paced(`c${i}`)), T0);
  const changes = (plan.changes[0] as { op: { payload: { changes: string[] } } }).op.payload.changes;
  expect(changes).toHaveLength(50);
  expect(changes[49]).toBe('… and 71 more changes');
});
