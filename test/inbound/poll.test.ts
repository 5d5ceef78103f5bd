import { FakeZendesk } from '../fake-zendesk';
import { FakeServiceNow } from '../tickets/fake-servicenow';
import { runBusinessRule, send } from '../integrations/servicenow-sandbox';
import { ticketTestbed, type TicketTestbed } from '../tickets/setup';
import { TicketPoller, SERVICENOW_CURSOR } from '../../src/jobs/ticket-poll';
import { memoryStore } from '../../src/store';
import { faultToRow } from '../../src/faults/fault';
import { createMetrics } from '../../src/metrics';
import { silentLogger } from '../../src/log';
import { ManualClock } from '../../src/clock';
import { testFault } from '../factories';

// Polling instead of webhooks, for a daemon the ticket systems cannot reach: the ticket_poll job
// reads the tickets of live faults and hands their changes to the faults stage as a webhook does.

const RULES = `
categories:
  - name: svc
    match: ['alertname="ServiceDown"']
    fault_key: [service]
    severity: { label: severity, map: { warning: 5, critical: 9 } }
    reopen_within: 1h
`;
const MIN = 60_000;
let bed: TicketTestbed;

interface View {
  acknowledged: { by: string } | null;
  handled: { by: string } | null;
  timeline: { entries: Array<{ event: string; by?: string }> };
}
const view = async (id: string) => (await (await fetch(`${bed.daemon.url}/api/v1/faults/${id}`)).json()) as View;
const poll = () => bed.daemon.jobs.find((j) => j.name === 'ticket_poll')!.run();

describe('Zendesk: show_many', () => {
  const SECRET = 'zd-secret-1';
  let zd: FakeZendesk;
  beforeEach(async () => {
    zd = new FakeZendesk();
    await zd.start();
    bed = await ticketTestbed(
      (dir) => `
tickets:
  default: zendesk
  zendesk:
    url: ${zd.url}
    email: faultdesk@acme.example
    token_file: ${dir}/zd-token
    requests_per_minute: 60000
    inbound: { secret: ${SECRET}, poll: true }
`,
      RULES,
      { 'zd-token': 'api-token-1' },
    );
    zd.clock = () => bed.clock.now();
  });
  afterEach(async () => {
    await bed.stop();
    await zd.stop();
  });

  test('a person takes a ticket: the poll acknowledges the fault; polling again changes nothing', async () => {
    const id = (await bed.fire('checkout'))!;
    await bed.drain();
    const ticket = Number((await bed.daemon.store.repos.faults.get(id))!.ticket_id);
    await poll();
    expect((await view(id)).acknowledged).toBeNull();
    bed.clock.advance(MIN);
    await zd.humanChange(ticket, { status: 'open', assignee_id: 7 }, { id: 7 });
    await poll();
    const v = await view(id);
    expect(v.acknowledged).toMatchObject({ by: 'zendesk' });
    await poll();
    expect((await view(id)).timeline).toEqual(v.timeline);
    expect(zd.calls.filter((c) => c.kind === 'show_many').map((c) => (c as { ids?: string[] }).ids)).toEqual([[String(ticket)], [String(ticket)], [String(ticket)]]);
  });

  test('webhook and poll at once: a change heard by both is acted on once', async () => {
    zd.webhook = { url: `${bed.daemon.url}/api/v1/tickets/zendesk/events`, secret: SECRET };
    const id = (await bed.fire('checkout'))!;
    await bed.drain();
    const ticket = Number((await bed.daemon.store.repos.faults.get(id))!.ticket_id);
    bed.clock.advance(MIN);
    await zd.humanChange(ticket, { status: 'solved' }, { id: 7 });
    const before = await view(id);
    expect(before.handled).toMatchObject({ by: '7' });
    await poll();
    expect((await view(id)).timeline).toEqual(before.timeline);
  });

  test('faultdesk\'s own solve and reopen, read back by a poll, are not a person\'s', async () => {
    const id = (await bed.fire('checkout'))!;
    await bed.drain();
    await poll();
    bed.clock.advance(10 * MIN);
    await bed.fire('checkout', { status: 'resolved' });
    await bed.drain();
    await poll();
    bed.clock.advance(5 * MIN);
    await bed.fire('checkout', { startsAt: bed.clock.now() });
    await bed.drain();
    expect(zd.tickets[0]!.status).toBe('open');
    await poll();
    const v = await view(id);
    expect(v.acknowledged).toBeNull();
    expect(v.handled).toBeNull();
    expect(v.timeline.entries.filter((e) => e.by !== undefined)).toEqual([]);
  });
});

test('show_many is asked for at most 100 tickets at a time', async () => {
  const store = memoryStore();
  const rows = Array.from({ length: 150 }, (_, i) =>
    faultToRow(testFault({ id: `f${i}`, ident: `svc\u001f${i}`, key: `{k="${i}"}`, keyLabels: { k: String(i) }, ticket: { system: 'zendesk', id: String(1000 + i), status: 'new', url: null, error: null } })),
  );
  await store.transaction((tx) => tx.faults.insertMany(rows));
  const asked: string[][] = [];
  const poller = new TicketPoller({
    store,
    faults: { onTicketEvents: async (events) => events.map(() => 'applied' as const) },
    metrics: createMetrics(),
    logger: silentLogger(),
    clock: new ManualClock(Date.parse('2026-11-24T12:00:00Z')),
    zendesk: { showMany: async (ids) => (asked.push([...ids]), []) },
  });
  await poller.run();
  expect(asked.map((a) => a.length)).toEqual([100, 50]);
});

describe('ServiceNow: sys_updated_on', () => {
  const KEY = Buffer.from('another shared secret, 32 bytes.').toString('base64');
  let sn: FakeServiceNow;
  beforeEach(async () => {
    sn = new FakeServiceNow({ username: 'faultdesk', password: 'pw-1' });
    await sn.start();
    bed = await ticketTestbed(
      (dir) => `
tickets:
  default: servicenow
  servicenow:
    url: ${sn.url}
    username: faultdesk
    password_file: ${dir}/sn-pass
    requests_per_minute: 60000
    inbound: { secret_file: ${dir}/sn-secret, poll: true }
`,
      RULES,
      { 'sn-pass': 'pw-1', 'sn-secret': KEY },
    );
    sn.clock = () => bed.clock.now();
  });
  afterEach(async () => {
    await bed.stop();
    await sn.stop();
    expect(sn.ignoredQuery).toEqual([]);
  });

  test('a person\'s change is read by its user; the cursor survives a restart; the business rule and the poll of one change apply it once', async () => {
    const id = (await bed.fire('checkout'))!;
    await bed.drain();
    const incident = sn.incidents[0]!;
    await poll(); // faultdesk's own create: its echo
    bed.clock.advance(MIN);
    sn.humanChange(incident.sys_id, { state: '2' }, 'grace.hopper');
    await poll();
    expect((await view(id)).acknowledged).toMatchObject({ by: 'grace.hopper' });
    const cursor = await bed.daemon.store.repos.inbound.cursor(SERVICENOW_CURSOR);
    expect(cursor).toBe(incident.sys_updated_on);

    await bed.restart();
    expect(await bed.daemon.store.repos.inbound.cursor(SERVICENOW_CURSOR)).toBe(cursor);
    const lookups = () => sn.calls.filter((c) => c.method === 'GET' && c.kind === 'lookup').length;
    const n = lookups();
    await poll();
    expect(lookups()).toBe(n + 1);

    // The business rule posts a change, then a poll reads it: the same sys_mod_count, one change.
    bed.clock.advance(MIN);
    sn.humanChange(incident.sys_id, { state: '6', close_code: 'Solved (Permanently)', close_notes: 'cable replaced' }, 'grace.hopper');
    const values = Object.fromEntries(Object.entries(incident).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
    const run = runBusinessRule({ values, properties: { 'faultdesk.inbound.url': `${bed.daemon.url}/api/v1/tickets/servicenow/events`, 'faultdesk.inbound.secret': KEY }, now: bed.clock.now() });
    expect((await send(run.requests[0]!)).json.changes).toEqual(['applied']);
    await poll();
    const text = await bed.daemon.metrics.registry.getSingleMetricAsString('faultdesk_inbound_changes_total');
    expect(text).toMatch(/system="servicenow",via="poll",outcome="duplicate"} [1-9]/);
    expect((await view(id)).timeline.entries.filter((e) => e.event === 'handled')).toHaveLength(1);
  });
});
