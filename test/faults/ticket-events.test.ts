import { toTicketChanged, type FaultView, type InboundSettings } from '../../src/faults/ticket-events';
import type { TicketEvent } from '../../src/tickets/inbound/types';

// A change heard from a ticket system, as the ticket_changed event decide() acts on.

const settings: InboundSettings = {
  wontFix: ["Not Solved (Too Costly)", 'wont_fix'],
  ownUsers: ['faultdesk@acme.example', '900'],
  tierOfGroup: (g) => ({ '11': 'L1', '33': 'L3' })[g],
  systemPriority: (p) => ({ urgent: 'urgent', high: 'high', normal: 'normal', low: 'low' })[p],
};
const open: FaultView = { ticketWanted: 'open', ticketSeen: { status: 'new' }, priority: 'high', ticket: { status: 'new' } };
const base: TicketEvent = { system: 'zendesk', ticketId: '35436', changeId: 'c1', at: 0, actor: { id: '7', email: 'grace@acme.example' } };

type Row = [string, Partial<TicketEvent>, FaultView, Record<string, unknown>, string[]?];
const rows: Row[] = [
  ['a person opens it: status working, by their e-mail', { status: 'working' }, open, { type: 'ticket_changed', status: 'working', by: 'grace@acme.example', via: 'zendesk' }, ['own', 'wontFix']],
  ['an assignee set', { assignee: '7' }, open, { assignee: '7' }],
  ['unassigned', { assignee: null }, open, { assignee: null }],
  ['a group that is a tier\'s: the tier named', { group: '33' }, open, { group: '33', tier: 'L3' }],
  ['a group of no tier: no tier', { group: '99' }, open, { group: '99' }, ['tier']],
  ['a ServiceNow close code in the won\'t-fix list', { system: 'servicenow', status: 'solved', closeCode: 'not solved (too costly)' }, open, { wontFix: true, closeCode: 'not solved (too costly)', via: 'servicenow' }],
  ['a close code not in the list: a plain solve', { status: 'solved', closeCode: 'Solved (Permanently)' }, open, { status: 'solved', closeCode: 'Solved (Permanently)' }, ['wontFix']],
  ['a Zendesk tag in the won\'t-fix list: the tag is the code', { status: 'solved', tags: ['network', 'wont_fix'] }, open, { wontFix: true, closeCode: 'wont_fix' }],
  ['faultdesk\'s own user by e-mail: an echo', { status: 'solved', actor: { email: 'FaultDesk@acme.example' } }, open, { own: true }],
  ['faultdesk\'s own user by id', { status: 'solved', actor: { id: '900' } }, open, { own: true }],
  ['a comment keeps its author', { comment: { text: 'rebooting', author: 'ada@acme.example' } }, open, { comment: { text: 'rebooting', author: 'ada@acme.example' } }],
  ['faultdesk\'s own comment sent along with a person\'s change: left out', { status: 'working', comment: { text: 'Update: 2 alerts firing', author: 'faultdesk@acme.example' } }, open, { status: 'working' }, ['comment', 'own']],
  ['no actor, the status faultdesk\'s own reopen left: not a person\'s', { actor: undefined, status: 'working', assignee: null }, { ...open, ticketSeen: { status: 'solved' }, ticket: { status: 'open' } }, { by: 'zendesk', assignee: null }, ['status', 'own']],
  ['faultdesk\'s own comment sent along with a person\'s change: left out', { status: 'working', comment: { text: 'Update: 2 alerts firing', author: 'faultdesk@acme.example' } }, open, { status: 'working' }, ['comment', 'own']],
  ['no actor, reopened while faultdesk left it solved: a person reopened it', { actor: undefined, status: 'working' }, { ...open, ticketSeen: { status: 'solved' }, ticket: { status: 'solved' } }, { status: 'working' }, ['own']],
  ['no actor, new → open: a person took it', { actor: undefined, status: 'working' }, open, { status: 'working' }, ['own']],
  ['no actor, a ServiceNow state faultdesk left: not a person\'s', { actor: undefined, system: 'servicenow', status: 'working' }, { ...open, ticket: { status: '2' } }, {}, ['status']],
  ['with an actor, the status faultdesk left is still theirs', { status: 'working' }, { ...open, ticket: { status: 'open' } }, { status: 'working' }],
  ['no actor, the priority faultdesk sets: not a person\'s', { actor: undefined, priority: 'high' }, open, {}, ['priority']],
  ['no actor, another priority: a person\'s', { actor: undefined, priority: 'urgent' }, open, { priority: 'urgent' }],
  ['with an actor, the priority faultdesk sets is still not a pin (its own change may have gone unheard)', { priority: 'high' }, open, {}, ['priority']],
  ['with an actor, another priority is theirs', { priority: 'low' }, open, { priority: 'low', priorityNotOwn: true }],
];

test.each(rows)('%s', (_name, change, fault, expected, absent = []) => {
  const event = toTicketChanged({ ...base, ...change }, fault, settings);
  expect(event).toMatchObject(expected);
  for (const key of absent) expect(event).not.toHaveProperty(key);
});

test('where the system\'s word for faultdesk\'s priority is not known (ServiceNow), a priority is not known to be a person\'s', () => {
  const servicenow: InboundSettings = { ...settings, systemPriority: undefined };
  const event = toTicketChanged({ ...base, system: 'servicenow', priority: '1' }, open, servicenow);
  expect(event).toMatchObject({ priority: '1' });
  expect(event).not.toHaveProperty('priorityNotOwn');
});
