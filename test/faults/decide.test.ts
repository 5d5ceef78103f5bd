import { decide, type Decision } from '../../src/faults/decide';
import type { FaultEvent } from '../../src/faults/events';
import { type AlertRecord, type Fault } from '../../src/faults/fault';
import type { Policy } from '../../src/faults/policy';
import type { Alert } from '../../src/sources';
import { testFault } from '../factories';

// The fault lifecycle of DESIGN.md, one row per case, on decide() alone: no store, no clock, no daemon.

const T0 = Date.parse('2026-11-24T10:00:00Z');
const MIN = 60_000;

const policy: Policy = {
  category: 'svc',
  rule: { file: 'rules/r.yaml', line: 2 },
  ticketSystem: 'local',
  model: { a: 1, b: 0.5 },
  priorityOf: (fs) => (fs >= 8 ? 'high' : fs >= 4 ? 'normal' : 'low'),
  reopenWithinMs: 60 * MIN,
  flapping: { changes: 3, windowMs: 60 * MIN, quietMs: 10 * MIN },
  solveOnResolve: true,
  tiers: [],
  startTier: null,
  tierEscalation: { onDue: false, afterReopens: 0, atFs: 0 },
  afterHumanClose: { action: 'new_ticket', quietForMs: 0 },
  writeback: true,
};

function alert(id: string, over: Partial<Alert> = {}): Alert {
  return {
    source: 'alertmanager',
    sourceId: id,
    status: 'firing',
    labels: { alertname: 'SvcDown', service: 'checkout', instance: id },
    annotations: { summary: `${id} down` },
    startsAt: T0 - MIN,
    receivedAt: T0,
    ...over,
  };
}

function record(a: Alert, over: Partial<AlertRecord> = {}): AlertRecord {
  return {
    id: 7,
    fault_id: 'f1',
    ident: `${a.source}:${a.sourceId}`,
    source: a.source,
    source_id: a.sourceId,
    status: a.status,
    labels: JSON.stringify(a.labels),
    annotations: JSON.stringify(a.annotations),
    starts_at: a.startsAt,
    ends_at: a.status === 'resolved' ? (a.endsAt ?? T0) : null,
    generator_url: a.generatorURL ?? null,
    fs: 4,
    first_received_at: T0 - 10 * MIN,
    last_received_at: T0 - 10 * MIN,
    ...over,
  };
}

const fault = testFault;

const opening = { key: '{service="checkout"}', keyLabels: { service: 'checkout' } };
const firing = (a: Alert, rec?: AlertRecord, fs = 4): FaultEvent => ({ type: 'alert_firing', alert: a, record: rec, fs, newId: 'f2', opening });
const resolved = (a: Alert, rec?: AlertRecord): FaultEvent => ({ type: 'alert_resolved', alert: { ...a, status: 'resolved', endsAt: T0 }, record: rec });

const a = alert('a');
const b = alert('b');
const resolvedFault = (over: Partial<Fault> = {}) => fault({ state: 'resolved', resolvedAt: T0 - 5 * MIN, firingCount: 0, ticketWanted: 'solved', ...over });
const resolvedRecord = record(a, { status: 'resolved', ends_at: T0 - 5 * MIN });

/** What a reader checks of a decision: outcome, transitions, intents in short, and the fault fields named. */
function summary(d: Decision) {
  return {
    outcome: d.outcome,
    transitions: d.transitions,
    intents: d.intents.map((i) => (i.kind === 'mail' ? `mail:${i.event}` : i.kind === 'writeback' ? `wb:${i.action}` : `${i.op}${i.paced ? '(paced)' : ''}`)),
    alerts: d.alerts.map((w) => w.write),
    superseded: d.superseded ?? false,
  };
}

type Row = [string, Fault | undefined, FaultEvent, Partial<ReturnType<typeof summary>>, Partial<Fault>?];

const rows: Row[] = [
  ['firing with no live fault: open it and queue the ticket', undefined, firing(a), {
    outcome: 'opened', transitions: ['opened'], intents: ['create', 'mail:open'], alerts: ['insert'],
  }, { id: 'f2', state: 'open', severity: 4, priority: 'normal', alertCount: 1, firingCount: 1, summary: 'a down', dueAt: T0 + Math.round(Math.log(3) * 3_600_000) }],
  ['a new alert of an open fault: one paced update', fault(), firing(b), {
    outcome: 'updated', transitions: [], intents: ['update(paced)'], alerts: ['insert'],
  }, { alertCount: 2, firingCount: 2 }],
  ['FS rises: escalate at once, with the new priority and what the escalating alert says now', fault(), firing({ ...a, annotations: { summary: 'a is CRITICAL' } }, record(a), 9), {
    outcome: 'updated', transitions: ['escalated'], intents: ['escalate', 'mail:escalate'], alerts: ['update'],
  }, { severity: 9, priority: 'high', summary: 'a is CRITICAL' }],
  ['the same alert again, unchanged: a duplicate changes nothing', fault(), firing(a, record(a)), {
    outcome: 'duplicate', transitions: [], intents: [], alerts: ['touch'],
  }, { updatedAt: T0 - 10 * MIN }],
  ['the same alert with another annotation: a paced update', fault(), firing({ ...a, annotations: { summary: 'worse' } }, record(a)), {
    outcome: 'updated', intents: ['update(paced)'], alerts: ['update'],
  }],
  ['one of two alerts resolves: a paced update, the fault stays open', fault({ alertCount: 2, firingCount: 2 }), resolved(a, record(a)), {
    outcome: 'updated', transitions: [], intents: ['update(paced)'], alerts: ['update'],
  }, { state: 'open', firingCount: 1 }],
  ['the last alert resolves: the fault resolves and the ticket is solved', fault(), resolved(a, record(a)), {
    outcome: 'resolved', transitions: ['resolved'], intents: ['resolve', 'mail:resolve'], alerts: ['update'],
  }, { state: 'resolved', resolvedAt: T0, firingCount: 0, ticketWanted: 'solved' }],
  ['a resolve of an alert the fault does not hold is ignored', fault(), resolved(b), { outcome: 'ignored', intents: [], alerts: [] }],
  ['a resolve of nothing faultdesk knows is ignored', undefined, resolved(a), { outcome: 'ignored', intents: [], alerts: [] }],
  ['a resolved alert delivered again is a duplicate', resolvedFault(), resolved(a, resolvedRecord), { outcome: 'duplicate', intents: [], alerts: ['touch'] }],
  ['firing again within reopen_within, ticket not closed: reopen the same ticket', resolvedFault(), firing({ ...a, startsAt: T0 }, resolvedRecord), {
    outcome: 'reopened', transitions: ['reopened'], intents: ['reopen', 'mail:reopen'], alerts: ['update'],
  }, { state: 'open', resolvedAt: null, ticketWanted: 'open', firingCount: 1 }],
  ['firing again after reopen_within: the old fault gives up its key (a new one opens)', resolvedFault({ resolvedAt: T0 - 61 * MIN }), firing({ ...a, startsAt: T0 }, resolvedRecord), {
    outcome: 'ignored', transitions: ['superseded'], intents: [], superseded: true,
  }, { current: false, state: 'resolved' }],
  ['firing again when the ticket is closed: a new fault', resolvedFault({ ticket: { system: 'local', id: '1', status: 'closed', url: null, error: null } }), firing({ ...a, startsAt: T0 }, resolvedRecord), {
    superseded: true, transitions: ['superseded'],
  }],
  ['a late firing delivery of an instance already resolved (HA peer, retry) is a duplicate', resolvedFault(), firing(a, resolvedRecord), { outcome: 'duplicate', intents: [], alerts: ['touch'] }],
  ['more state changes than allowed in the window: flapping, said once on the ticket', resolvedFault({ stateChanges: [T0 - 3 * MIN, T0 - 2 * MIN, T0 - MIN] }), firing({ ...a, startsAt: T0 }, resolvedRecord), {
    outcome: 'updated', transitions: ['flapping'], intents: ['flapping', 'mail:flapping'],
  }, { state: 'flapping' }],
  ['a flapping fault\'s last alert resolving is held: no resolve', fault({ state: 'flapping' }), resolved(a, record(a)), {
    outcome: 'resolved', transitions: [], intents: [],
  }, { state: 'flapping', firingCount: 0 }],
  ['a flapping fault quiet long enough with nothing firing resolves', fault({ state: 'flapping', firingCount: 0 }), { type: 'flapping_quiet' }, {
    transitions: ['resolved', 'settled'], intents: ['resolve', 'mail:resolve'],
  }, { state: 'resolved', stateChanges: [] }],
  ['a flapping fault quiet long enough with alerts firing is open again, said on the ticket', fault({ state: 'flapping' }), { type: 'flapping_quiet' }, {
    transitions: ['settled'], intents: ['flapping'],
  }, { state: 'open' }],
  ['the source says it flaps', fault(), { type: 'alert_note', alert: a, record: record(a), note: { kind: 'flapping_start', text: 'Nagios: flapping.' }, fs: 4, newId: 'x', opening }, {
    outcome: 'updated', transitions: ['flapping'], intents: ['flapping', 'mail:flapping'],
  }, { state: 'flapping' }],
  ['a comment from the source goes on the timeline and the ticket', fault(), { type: 'alert_note', alert: { ...a, status: 'resolved' }, record: record(a), note: { kind: 'comment', text: 'ack by grace' }, fs: 4, newId: 'x', opening }, {
    outcome: 'updated', intents: ['comment'],
  }],
  ['an acknowledgement (a comment on a firing update) is a comment, not a change of the alert', fault(), { type: 'alert_note', alert: { ...a, annotations: { summary: 'Updated problem: a down', description: 'Admin acknowledged' } }, record: record(a), note: { kind: 'comment', text: 'Admin acknowledged' }, fs: 4, newId: 'x', opening }, {
    outcome: 'updated', intents: ['comment'], alerts: ['touch'],
  }],
  ['a downtime mutes: said once, then updates and escalations wait', fault(), { type: 'alert_note', alert: a, record: record(a), note: { kind: 'mute', text: 'Downtime started.' }, fs: 4, newId: 'x', opening }, {
    outcome: 'updated', intents: ['comment'],
  }, { muted: true }],
  ['while muted, a new alert changes the fault but queues nothing', fault({ muted: true }), firing(b), { outcome: 'updated', intents: [] }, { alertCount: 2 }],
  ['while muted, an escalation waits (the unmute update carries the priority)', fault({ muted: true }), firing(a, record(a), 9), {
    transitions: ['escalated'], intents: ['mail:escalate'],
  }, { severity: 9, priority: 'high' }],
  ['while muted, the last alert resolving still resolves the ticket', fault({ muted: true }), resolved(a, record(a)), { intents: ['resolve', 'mail:resolve'] }, { state: 'resolved' }],
  ['the downtime ends: one update', fault({ muted: true }), { type: 'alert_note', alert: a, record: record(a), note: { kind: 'unmute', text: 'Downtime ended.' }, fs: 4, newId: 'x', opening }, {
    intents: ['update'],
  }, { muted: false }],
  ['past its due time: at risk once, a comment and a mail', fault(), { type: 'due_passed' }, { transitions: ['at_risk'], intents: ['comment', 'mail:at_risk'] }, { atRiskAt: T0 }],
  ['at risk already: nothing more', fault({ atRiskAt: T0 - MIN }), { type: 'due_passed' }, { transitions: [], intents: [] }],
  ['no alert refreshed for stale_after: resolved as stale, alerts resolved', fault(), { type: 'stale', afterMs: 24 * 60 * MIN, firing: [record(a)] }, {
    transitions: ['resolved'], intents: ['resolve', 'mail:resolve'], alerts: ['update'],
  }, { state: 'resolved', stale: true, firingCount: 0 }],
  ['an operator resolves by hand, with a reason', fault(), { type: 'resolve', by: 'grace', via: 'api', reason: 'host decommissioned', firing: [record(a)] }, {
    transitions: ['resolved'], intents: ['resolve', 'mail:resolve'], alerts: ['update'],
  }, { state: 'resolved', stale: true }],
  ['an operator resolving a resolved fault changes nothing', resolvedFault(), { type: 'resolve', by: 'grace', via: 'api', reason: 'x', firing: [] }, { transitions: [], intents: [] }],
];

test.each(rows)('%s', (_name, before, event, expected, fields = {}) => {
  const d = decide(before, event, policy, T0);
  expect(summary(d)).toMatchObject(expected);
  if (Object.keys(fields).length > 0) expect(d.fault).toMatchObject(fields);
});

test('decide never changes the fault it is given', () => {
  const before = fault();
  const copy = JSON.parse(JSON.stringify(before)) as Fault;
  decide(before, firing(a, record(a), 9), policy, T0);
  decide(before, resolved(a, record(a)), policy, T0);
  expect(before).toEqual(copy);
});

test('the timeline says what happened, and by whom for people', () => {
  const d = decide(fault(), { type: 'resolve', by: 'grace', via: 'cli', reason: 'host gone', firing: [record(a)] }, policy, T0);
  expect(d.fault?.timeline.entries.map((e) => [e.event, e.by ?? ''])).toEqual([
    ['resolved_by_hand', 'grace'],
    ['resolved', ''],
  ]);
  expect(d.fault?.timeline.entries[0]?.detail).toBe('Resolved by grace (cli): host gone');
});

test('a comment from the source on a firing update that escalates joins the escalation', () => {
  const d = decide(fault(), { type: 'alert_note', alert: a, record: record(a), note: { kind: 'comment', text: 'severity raised' }, fs: 9, newId: 'x', opening }, policy, T0);
  expect(d.intents.filter((i) => i.kind === 'ticket').map((i) => [i.kind === 'ticket' && i.op, i.kind === 'ticket' && i.joinsEscalation])).toEqual([
    ['escalate', undefined],
    ['comment', true],
  ]);
});

test('a long-flapping fault keeps its first and latest timeline entries', () => {
  let f: Fault = fault();
  for (let i = 0; i < 300; i++) {
    const d = decide(f, { type: 'alert_note', alert: a, record: record(a), note: { kind: 'comment', text: `c${i}` }, fs: 4, newId: 'x', opening }, policy, T0 + i);
    f = d.fault as Fault;
  }
  expect(f.timeline.entries).toHaveLength(200);
  expect(f.timeline.omitted).toBe(100);
  expect(f.timeline.entries[0]?.detail).toBe('c0');
  expect(f.timeline.entries[199]?.detail).toBe('c299');
});

// The human loop (DESIGN.md, "The human loop"): what people do to a fault's ticket, and what faultdesk does then.
const tiered: Policy = {
  ...policy,
  tiers: ['L1', 'L2', 'L3'],
  startTier: 'L1',
  tierEscalation: { onDue: true, afterReopens: 2, atFs: 8 },
  afterHumanClose: { action: 'new_ticket', quietForMs: 0 },
};
const quiet: Policy = { ...tiered, afterHumanClose: { action: 'quiet', quietForMs: 60 * MIN } };
const zendesk = { system: 'zendesk', id: '77', status: 'open', url: null, error: null };
const acked = { acknowledged: { at: T0 - MIN, by: 'grace@acme' } };
const handled = { handled: { at: T0 - MIN, by: 'grace@acme' }, ticket: { ...zendesk, status: 'solved' } };
const closed = { humanClosed: { at: T0 - 5 * MIN, by: 'grace@acme', code: 'wont_fix' }, ticket: { ...zendesk, status: 'closed' } };
const inTier = (tier: string) => ({ tier, tierHistory: [{ tier, from: T0 - 10 * MIN, to: null, reason: 'start' }] });

type LoopRow = [string, Policy, Fault | undefined, FaultEvent, Partial<ReturnType<typeof summary>>, Partial<Fault>?];
const loopRows: LoopRow[] = [
  ['a fault opens at its category\'s starting tier', tiered, undefined, firing(a), { transitions: ['opened'] }, { tier: 'L1', tierHistory: [{ tier: 'L1', from: T0, to: null, reason: 'start' }] }],
  ['acknowledged in the ticket: marked, told to the monitoring systems, nothing sent back to the ticket', tiered, fault({ ticket: zendesk }), { type: 'acknowledge', by: 'grace@acme', via: 'zendesk' }, {
    transitions: ['acknowledged'], intents: ['wb:acknowledge'],
  }, { acknowledged: { at: T0, by: 'grace@acme' } }],
  ['acknowledged through the API: the ticket hears of it too', tiered, fault({ ticket: zendesk }), { type: 'acknowledge', by: 'grace', via: 'api' }, { intents: ['comment', 'wb:acknowledge'] }],
  ['a category that opts out of write-back: acknowledged, nothing written back', { ...tiered, writeback: false }, fault({ ticket: zendesk }), { type: 'acknowledge', by: 'grace@acme', via: 'zendesk' }, { intents: [] }],
  ['an acknowledged fault resolves: its write-back is released', tiered, fault({ ...acked }), resolved(a, record(a)), { intents: ['resolve', 'mail:resolve', 'wb:release'] }],
  ['an acknowledgement withdrawn: released', tiered, fault({ ...acked, ticket: zendesk }), { type: 'unacknowledge', by: 'grace', via: 'zendesk' }, { intents: ['wb:release'] }, { acknowledged: null }],
  ['an acknowledged fault\'s write-back is due again: it is written again', tiered, fault({ ...acked }), { type: 'writeback_due' }, { intents: ['wb:acknowledge'] }],
  ['acknowledged twice: nothing more', tiered, fault({ ...acked }), { type: 'acknowledge', by: 'ada', via: 'api' }, { transitions: [], intents: [] }, { acknowledged: { at: T0 - MIN, by: 'grace@acme' } }],
  ['an assignee set in the ticket acknowledges it', tiered, fault({ ticket: zendesk }), { type: 'assign', assignee: 'grace@acme', by: 'grace@acme', via: 'zendesk' }, { transitions: ['acknowledged'] }],
  ['an acknowledged fault gets no repeat mails: a reopen mails nobody', tiered, fault({ ...acked, state: 'resolved', resolvedAt: T0 - MIN, firingCount: 0 }), firing({ ...a, startsAt: T0 }, record(a, { status: 'resolved' })), {
    transitions: ['reopened'], intents: ['reopen'],
  }],
  ['an acknowledged fault still mails its escalation', tiered, fault({ ...acked }), firing(a, record(a), 6), { intents: ['escalate', 'mail:escalate'] }],
  ['a human comment from the ticket goes on the timeline only', tiered, fault({ ticket: zendesk }), { type: 'comment', text: 'looking into it', by: 'grace@acme', via: 'zendesk' }, { intents: [] }],
  ['a comment through the API also goes to the ticket', tiered, fault(), { type: 'comment', text: 'looking into it', by: 'grace', via: 'api' }, { intents: ['comment'] }],
  ['solved by a person while alerts fire: handled', tiered, fault({ ticket: zendesk }), { type: 'solve', by: 'grace@acme', via: 'zendesk' }, {
    transitions: ['handled'], intents: [],
  }, { handled: { at: T0, by: 'grace@acme' }, state: 'open' }],
  ['a handled fault gets no updates', tiered, fault({ ...handled }), firing(b), { outcome: 'updated', intents: [] }],
  ['a handled fault still escalates', tiered, fault({ ...handled }), firing(a, record(a), 6), { intents: ['escalate', 'mail:escalate'] }],
  ['a handled fault\'s alerts resolve: one comment, no second solve', tiered, fault({ ...handled }), resolved(a, record(a)), {
    transitions: ['resolved'], intents: ['comment', 'mail:resolve'],
  }, { state: 'resolved' }],
  ['closed by a person: human-closed wins', tiered, fault({ ticket: zendesk }), { type: 'close', code: 'wont_fix', by: 'grace@acme', via: 'zendesk' }, {
    transitions: ['closed_by_human'], intents: ['wb:release'],
  }, { humanClosed: { at: T0, by: 'grace@acme', code: 'wont_fix' } }],
  ['closed through the API: the local ticket is closed', tiered, fault(), { type: 'close', by: 'grace', via: 'api' }, { intents: ['close', 'wb:release'] }],
  ['a human-closed ticket hears nothing more: an escalation is only recorded', tiered, fault({ ...closed }), firing(a, record(a), 9), {
    transitions: ['escalated'], intents: ['mail:escalate'],
  }, { severity: 9 }],
  ['a human-closed fault recurs (after_human_close: new_ticket): a new fault whose ticket names the closed one', tiered, fault({ ...closed, state: 'resolved', resolvedAt: T0 - 2 * MIN, firingCount: 0 }), firing({ ...a, startsAt: T0 }, record(a, { status: 'resolved' })), {
    superseded: true, transitions: ['superseded'],
  }],
  ['a human-closed fault recurs while quiet: it fires again, the ticket is left alone', quiet, fault({ ...closed, state: 'resolved', resolvedAt: T0 - 2 * MIN, firingCount: 0 }), firing({ ...a, startsAt: T0 }, record(a, { status: 'resolved' })), {
    outcome: 'reopened', transitions: ['reopened'], intents: [],
  }, { state: 'open' }],
  ['a person reopens the ticket: handled no more', tiered, fault({ ...handled }), { type: 'reopen', by: 'grace@acme', via: 'zendesk' }, {}, { handled: null, ticketWanted: 'open' }],
  ['a priority a person set is kept', tiered, fault(), { type: 'priority', priority: 'urgent', by: 'grace@acme', via: 'zendesk' }, {}, { priorityPinned: 'urgent' }],
  ['past due and unsolved: up one tier, and the ticket is reassigned', tiered, fault({ ...inTier('L1') }), { type: 'due_passed' }, {
    transitions: ['at_risk', 'tier_escalated'], intents: ['comment', 'mail:at_risk', 'assign'],
  }, { tier: 'L2' }],
  ['past due but handled: no tier change', tiered, fault({ ...inTier('L1'), ...handled }), { type: 'due_passed' }, { transitions: ['at_risk'] }, { tier: 'L1' }],
  ['FS reaches the tier threshold: up one tier', tiered, fault({ ...inTier('L1') }), firing(a, record(a), 8), { transitions: ['escalated', 'tier_escalated'] }, { tier: 'L2' }],
  ['the top tier stays the top tier', tiered, fault({ ...inTier('L3') }), { type: 'due_passed' }, { transitions: ['at_risk'] }, { tier: 'L3' }],
  ['reopened often enough: up one tier', tiered, fault({ ...inTier('L1'), reopenCount: 1, state: 'resolved', resolvedAt: T0 - MIN, firingCount: 0 }), firing({ ...a, startsAt: T0 }, record(a, { status: 'resolved' })), {
    transitions: ['reopened', 'tier_escalated'],
  }, { tier: 'L2', reopenCount: 2 }],
  ['a person moves the fault to another group: recorded, not fought', tiered, fault({ ...inTier('L1'), ticket: zendesk }), { type: 'assign', tier: 'L3', by: 'grace@acme', via: 'zendesk' }, {
    transitions: ['tier_changed'], intents: [],
  }, { tier: 'L3' }],
];

test.each(loopRows)('%s', (_name, p, before, event, expected, fields = {}) => {
  const d = decide(before, event, p, T0);
  expect(summary(d)).toMatchObject(expected);
  if (Object.keys(fields).length > 0) expect(d.fault).toMatchObject(fields);
});

test('a recurrence after a person closed the ticket names the closed ticket in the new fault', () => {
  const old = fault({ ...closed, state: 'resolved', resolvedAt: T0 - 2 * MIN, firingCount: 0 });
  const first = decide(old, firing({ ...a, startsAt: T0 }, record(a, { status: 'resolved' })), tiered, T0);
  expect(first.follows).toEqual({ system: 'zendesk', id: '77' });
  const next = decide(undefined, { ...(firing({ ...a, startsAt: T0 }) as Extract<FaultEvent, { type: 'alert_firing' }>), follows: first.follows }, tiered, T0);
  expect(next.fault?.followsTicket).toEqual({ system: 'zendesk', id: '77' });
  expect(summary(next).intents).toEqual(['create', 'mail:open']);
});

test('the tier history says who held the fault, and for how long', () => {
  const d1 = decide(fault({ ...inTier('L1') }), { type: 'due_passed' }, tiered, T0);
  const d2 = decide(d1.fault, { type: 'assign', tier: 'L3', by: 'grace@acme', via: 'zendesk' }, tiered, T0 + 30 * MIN);
  expect(d2.fault?.tierHistory).toEqual([
    { tier: 'L1', from: T0 - 10 * MIN, to: T0, reason: 'start' },
    { tier: 'L2', from: T0, to: T0 + 30 * MIN, reason: 'due' },
    { tier: 'L3', from: T0 + 30 * MIN, to: null, by: 'grace@acme', reason: 'reassigned' },
  ]);
});

// What a ticket system says of its ticket (a webhook or a poll), compared with what it said before.
const seenOpen = { ticket: zendesk, ticketSeen: { status: 'new', assignee: null, group: '11', priority: 'normal' } };
type TicketRow = [string, Fault, Partial<Extract<FaultEvent, { type: 'ticket_changed' }>>, Partial<ReturnType<typeof summary>>, Partial<Fault>?];
const ticketRows: TicketRow[] = [
  ['status open: a person took it (acknowledged)', fault({ ...seenOpen }), { status: 'working' }, { transitions: ['acknowledged'] }, { ticketSeen: { ...seenOpen.ticketSeen, status: 'working' } }],
  ['the same change heard again (webhook, then poll): nothing twice', fault({ ...seenOpen, ...acked, ticketSeen: { ...seenOpen.ticketSeen, status: 'working' } }), { status: 'working' }, { transitions: [], intents: [] }],
  ['an assignee set: acknowledged', fault({ ...seenOpen }), { assignee: 'grace@acme' }, { transitions: ['acknowledged'] }],
  ['solved while alerts fire: handled', fault({ ...seenOpen }), { status: 'solved' }, { transitions: ['handled'] }],
  ['solved as won\'t fix: closed by a person', fault({ ...seenOpen }), { status: 'solved', wontFix: true, closeCode: 'Not Solved (Too Costly)' }, { transitions: ['closed_by_human'] }, { humanClosed: { at: T0, by: 'grace@acme', code: 'Not Solved (Too Costly)' } }],
  ['closed or cancelled: closed by a person', fault({ ...seenOpen }), { status: 'cancelled' }, { transitions: ['closed_by_human'] }],
  ['solved by faultdesk itself when its alerts resolved: not a person\'s solve', fault({ ...seenOpen, state: 'resolved', resolvedAt: T0 - MIN, firingCount: 0, ticketWanted: 'solved' }), { status: 'solved' }, { transitions: [] }, { handled: null }],
  ['reopened after a solve: handled no more, and acknowledged', fault({ ...seenOpen, ...handled, ticketSeen: { ...seenOpen.ticketSeen, status: 'solved' } }), { status: 'working' }, { transitions: ['acknowledged'] }, { handled: null }],
  ['the group moved to another tier\'s: recorded, not fought', fault({ ...seenOpen, ...inTier('L1') }), { group: '33', tier: 'L3' }, { transitions: ['tier_changed'], intents: [] }, { tier: 'L3' }],
  ['a priority a person changed is kept', fault({ ...seenOpen }), { priority: 'urgent' }, {}, { priorityPinned: 'urgent' }],
  ['the first priority heard, known not to be faultdesk\'s own: a person\'s, kept', fault({ ticketSeen: {} }), { priority: 'urgent', priorityNotOwn: true }, {}, { priorityPinned: 'urgent' }],
  ['the first priority heard, not known to be a person\'s: only remembered', fault({ ticketSeen: {} }), { priority: '1' }, {}, { priorityPinned: null, ticketSeen: { priority: '1' } }],
  ['a comment by a person goes on the timeline', fault({ ...seenOpen }), { comment: { text: 'rebooting the switch', author: 'ada@acme' } }, { intents: [] }],
  ['faultdesk\'s own change (an echo) is remembered, never acted on', fault({ ...seenOpen }), { status: 'solved', own: true }, { transitions: [], intents: [] }, { handled: null, ticketSeen: { ...seenOpen.ticketSeen, status: 'solved' } }],
];

test.each(ticketRows)('%s', (_name, before, change, expected, fields = {}) => {
  const d = decide(before, { type: 'ticket_changed', by: 'grace@acme', via: 'zendesk', ...change }, tiered, T0);
  expect(summary(d)).toMatchObject(expected);
  if (Object.keys(fields).length > 0) expect(d.fault).toMatchObject(fields);
});

test('a person\'s comment heard from the ticket names its author and where it was heard on the timeline', () => {
  const d = decide(fault({ ...seenOpen }), { type: 'ticket_changed', by: 'grace@acme', via: 'zendesk', comment: { text: 'rebooting the switch', author: 'ada@acme' } }, tiered, T0);
  expect(d.fault?.timeline.entries).toEqual([{ at: T0, event: 'comment', detail: 'rebooting the switch', by: 'ada@acme', via: 'zendesk' }]);
});
