import fc from 'fast-check';
import { createHmac } from 'node:crypto';
import { FakeServiceNow, type FakeIncident } from '../tickets/fake-servicenow';
import { runBusinessRule, send, type SentRequest } from '../integrations/servicenow-sandbox';
import { ticketTestbed, type TicketTestbed } from '../tickets/setup';

// ServiceNow tells faultdesk what people do with its incidents through the shipped business rule,
// run here in a sandbox with stand-ins for the instance's API (test/integrations/servicenow-sandbox.ts),
// against a daemon whose incidents live in the fake ServiceNow.

const KEY = Buffer.from('a shared secret of 32 bytes.....').toString('base64');
const PASSWORD = 'sn-pa55word';
const RULES = `
categories:
  - name: svc
    match: ['alertname="ServiceDown"']
    fault_key: [service]
    severity: { label: severity, map: { warning: 5, critical: 9 } }
    reopen_within: 1h
`;
const MIN = 60_000;
const L2_GROUP = '0a52d3dcd7011200f2d224837e6103f2';

let sn: FakeServiceNow;
let bed: TicketTestbed;

beforeEach(async () => {
  sn = new FakeServiceNow({ username: 'faultdesk', password: PASSWORD });
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
    inbound:
      secret_file: ${dir}/sn-secret
      wont_fix: ['Not Solved (Too Costly)']
tiers:
  levels:
    - { name: L1, servicenow_assignment_group: Service Desk }
    - { name: L2, servicenow_assignment_group: Network L2 }
faults:
  after_human_close: { action: new_ticket }
`,
    RULES,
    { 'sn-pass': PASSWORD, 'sn-secret': KEY },
  );
  sn.clock = () => bed.clock.now();
});
afterEach(async () => {
  await bed.stop();
  await sn.stop();
  expect(sn.ignoredQuery).toEqual([]);
});

const properties = () => ({ 'faultdesk.inbound.url': `${bed.daemon.url}/api/v1/tickets/servicenow/events`, 'faultdesk.inbound.secret': KEY });

/** The business rule after a save of this incident, as the instance runs it. */
function ruleAfterSave(incident: FakeIncident, extra: { properties?: Record<string, string>; displays?: Record<string, string> } = {}) {
  const values = Object.fromEntries(Object.entries(incident).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
  const last = incident.journal[incident.journal.length - 1];
  return runBusinessRule({
    values,
    displays: extra.displays,
    properties: { ...properties(), ...extra.properties },
    journal: last ? { element: last.field, value: last.text, sys_created_by: last.created_by ?? 'faultdesk' } : null,
    now: bed.clock.now(),
  });
}

async function openFault(service = 'checkout'): Promise<{ id: string; incident: FakeIncident }> {
  const id = (await bed.fire(service))!;
  await bed.drain();
  return { id, incident: sn.incidents.find((i) => i.correlation_id === id)! };
}

interface View {
  tier: string | null;
  acknowledged: { by: string } | null;
  closedByHuman: { by: string; code: string | null } | null;
  timeline: { entries: Array<{ event: string; by?: string; detail?: string }> };
}
const view = async (id: string) => (await (await fetch(`${bed.daemon.url}/api/v1/faults/${id}`)).json()) as View;

test('the business rule: an async post with the incident\'s fields, the last journal entry and an HMAC of timestamp + body', async () => {
  const { incident } = await openFault();
  sn.humanChange(incident.sys_id, { state: '2', assigned_to: '46d44a23a9fe19810012d100cca80666', work_notes: 'looking at the switch' }, 'grace.hopper');
  const run = ruleAfterSave(incident, { displays: { assigned_to: 'Grace Hopper', assignment_group: 'Service Desk' } });
  expect(run.requests).toHaveLength(1);
  const req = run.requests[0]!;
  expect(req).toMatchObject({ endpoint: properties()['faultdesk.inbound.url'], method: 'post', async: true });
  expect(req.headers['X-Faultdesk-Timestamp']).toBe(String(bed.clock.now()));
  const expected = createHmac('sha256', Buffer.from(KEY, 'base64')).update(req.headers['X-Faultdesk-Timestamp']! + req.body).digest('base64');
  expect(req.headers['X-Faultdesk-Signature']).toBe(expected);
  expect(JSON.parse(req.body)).toMatchObject({
    faultdesk: 'servicenow-business-rule/1',
    sys_id: incident.sys_id,
    correlation_id: incident.correlation_id,
    state: '2',
    assigned_to: '46d44a23a9fe19810012d100cca80666',
    assigned_to_name: 'Grace Hopper',
    sys_updated_by: 'grace.hopper',
    sys_mod_count: '1',
    journal: { element: 'work_notes', value: 'looking at the switch', created_by: 'grace.hopper' },
  });
  expect(run.journalQueries).toEqual([expect.objectContaining({ table: 'sys_journal_field', name: 'incident', element_id: incident.sys_id, element: 'IN work_notes,comments' })]);

  // Without its properties it posts nothing and says why; nor for an incident of no fault.
  expect(ruleAfterSave(incident, { properties: { 'faultdesk.inbound.secret': '' } })).toMatchObject({ requests: [], logs: [expect.objectContaining({ level: 'warn' })] });
  expect(runBusinessRule({ values: { ...incident, correlation_id: '' } as unknown as Record<string, string>, properties: properties(), now: bed.clock.now() }).requests).toEqual([]);
});

test('a person takes the incident, moves it to another tier\'s group and comments: acknowledged, tier recorded, comment once', async () => {
  const { id, incident } = await openFault();
  sn.humanChange(incident.sys_id, { state: '2', assignment_group: L2_GROUP, work_notes: 'looking at the switch' }, 'grace.hopper');
  let res = await send(ruleAfterSave(incident, { displays: { assignment_group: 'Network L2' } }).requests[0]!);
  expect(res).toEqual({ status: 200, json: { status: 'success', changes: ['applied'] } });
  let v = await view(id);
  expect(v.acknowledged).toMatchObject({ by: 'grace.hopper' });
  expect(v.tier).toBe('L2');
  expect(v.timeline.entries.filter((e) => e.event === 'comment')).toEqual([expect.objectContaining({ detail: 'looking at the switch', by: 'grace.hopper' })]);
  // The same save posted twice (the rule ran again, or a retry): one change.
  res = await send(ruleAfterSave(incident, { displays: { assignment_group: 'Network L2' } }).requests[0]!);
  expect(res.json.changes).toEqual(['duplicate']);
  // The next save carries the same last journal entry: the comment is not taken twice.
  bed.clock.advance(MIN);
  sn.humanChange(incident.sys_id, { state: '3' }, 'grace.hopper');
  await send(ruleAfterSave(incident).requests[0]!);
  v = await view(id);
  expect(v.timeline.entries.filter((e) => e.event === 'comment')).toHaveLength(1);
});

test('resolved with a won\'t-fix close code: closed by a person; the alert fires again: the incident is untouched, a new one opens', async () => {
  const { id, incident } = await openFault();
  sn.humanChange(incident.sys_id, { state: '6', close_code: 'Not Solved (Too Costly)', close_notes: 'replacing the switch next quarter' }, 'grace.hopper');
  expect((await send(ruleAfterSave(incident).requests[0]!)).status).toBe(200);
  expect((await view(id)).closedByHuman).toMatchObject({ by: 'grace.hopper', code: 'Not Solved (Too Costly)' });
  await bed.drain();
  const callsBefore = sn.calls.length;
  bed.clock.advance(10 * MIN);
  await bed.fire('checkout', { status: 'resolved' });
  bed.clock.advance(5 * MIN);
  await bed.fire('checkout', { startsAt: bed.clock.now() });
  await bed.drain();
  expect(sn.calls.slice(callsBefore).filter((c) => c.path.includes(incident.sys_id))).toEqual([]);
  expect(incident.state).toBe('6');
  expect(sn.incidents).toHaveLength(2);
});

test('faultdesk\'s own change posted back: remembered, never acted on', async () => {
  const { id, incident } = await openFault();
  sn.humanChange(incident.sys_id, { state: '6', close_code: 'Solved (Permanently)', close_notes: 'alerts resolved' }, 'faultdesk');
  const res = await send(ruleAfterSave(incident).requests[0]!);
  expect(res.json.changes).toEqual(['own']);
  const v = await view(id);
  expect(v.closedByHuman).toBeNull();
  expect(v.timeline.entries.filter((e) => e.event === 'handled')).toEqual([]);
});

test('a bad or stale signature: 401, nothing stored; bad input: 400 with the field paths; random bodies never a 5xx', async () => {
  const { id, incident } = await openFault();
  const before = JSON.stringify(await bed.daemon.store.repos.faults.get(id));
  sn.humanChange(incident.sys_id, { state: '8' }, 'grace.hopper');
  const req = ruleAfterSave(incident).requests[0]!;
  const resign = (r: SentRequest, body: string, ts = r.headers['X-Faultdesk-Timestamp']!): SentRequest => ({
    ...r,
    body,
    headers: { ...r.headers, 'X-Faultdesk-Timestamp': ts, 'X-Faultdesk-Signature': createHmac('sha256', Buffer.from(KEY, 'base64')).update(ts + body).digest('base64') },
  });
  expect((await send({ ...req, body: req.body.replace('"8"', '"7"') })).status).toBe(401);
  expect((await send({ ...req, headers: { 'Content-Type': 'application/json' } })).status).toBe(401);
  expect((await send(resign(req, req.body, String(bed.clock.now() - 10 * MIN)))).status).toBe(401);

  const bad = await send(resign(req, JSON.stringify({ ...JSON.parse(req.body), sys_id: 'nope', state: '5', sys_updated_by: undefined })));
  expect(bad.status).toBe(400);
  expect((bad.json.errors as Array<{ path: string }>).map((e) => e.path).sort()).toEqual(['state', 'sys_id', 'sys_updated_by']);
  expect(JSON.stringify(await bed.daemon.store.repos.faults.get(id))).toBe(before);
  expect(await bed.daemon.store.repos.inbound.forget(Number.MAX_SAFE_INTEGER)).toBe(0);
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.json(), fc.dictionary(fc.constantFrom('state', 'sys_id', 'journal', 'sys_mod_count'), fc.jsonValue()).map((d) => JSON.stringify({ ...JSON.parse(req.body), ...d }))), async (body) => {
      const res = await send(resign(req, body));
      expect(res.status).toBeLessThan(500);
    }),
    { numRuns: 150 },
  );
  const text = await bed.daemon.metrics.registry.getSingleMetricAsString('faultdesk_inbound_rejected_total');
  expect(text).toMatch(/system="servicenow",reason="bad_signature"} 1/);
  expect(text).toMatch(/system="servicenow",reason="missing_signature"} 1/);
  expect(text).toMatch(/system="servicenow",reason="stale"} 1/);
});
