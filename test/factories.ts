import type { Fault } from '../src/faults/fault';

const T0 = Date.parse('2026-11-24T10:00:00Z');

/** A fault as the core sees it, open since ten minutes before 2026-11-24T10:00Z; override what a test is about. */
export function testFault(over: Partial<Fault> = {}): Fault {
  return {
    id: 'f1',
    ident: 'svc\u001f{service="checkout"}',
    current: true,
    category: 'svc',
    key: '{service="checkout"}',
    keyLabels: { service: 'checkout' },
    state: 'open',
    severity: 4,
    priority: 'normal',
    repairTimeHours: Math.log(3),
    model: { a: 1, b: 0.5 },
    openedAt: T0 - 10 * 60_000,
    dueAt: T0 + 50 * 60_000,
    resolvedAt: null,
    updatedAt: T0 - 10 * 60_000,
    lastUpdateAt: null,
    alertCount: 1,
    firingCount: 1,
    stateChanges: [],
    lastChangeAt: T0 - 10 * 60_000,
    ticketWanted: 'open',
    ticket: { system: 'local', id: '1', status: 'open', url: null, error: null },
    rule: { file: 'rules/r.yaml', line: 2 },
    summary: 'a down',
    timeline: { omitted: 0, entries: [] },
    muted: false,
    mailLog: {},
    atRiskAt: null,
    stale: false,
    acknowledged: null,
    handled: null,
    humanClosed: null,
    priorityPinned: null,
    tier: null,
    tierHistory: [],
    reopenCount: 0,
    followsTicket: null,
    ticketSeen: {},
    ...over,
  };
}
