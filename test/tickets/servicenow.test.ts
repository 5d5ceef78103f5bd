import nock from 'nock';
import { ticketTestbed, type TicketTestbed } from './setup';

const SN = 'https://acme.service-now.com';
const PASSWORD = 'sn-pa55word-s3cret';
const SECRET = 'sn-client-s3cret';
const BASIC = `Basic ${Buffer.from(`faultdesk:${PASSWORD}`).toString('base64')}`;

const RULES = `
categories:
  - name: net
    match: ['alertname="ServiceDown"']
    fault_key: [service]
    severity: { label: severity, map: { warning: 5, critical: 9 } }
    ticket:
      subject: "{{labels.service}} is down on {{labels.host}}"
      fields:
        cmdb_ci: "{{labels.host}}"
        category: network
        close_notes: "Recovered by itself: every alert of {{key}} resolved."
`;

const basicConfig = (dir: string) => `
tickets:
  default: servicenow
  servicenow:
    url: ${SN}
    username: faultdesk
    password_file: ${dir}/sn-pass
    timeout: 300ms
    requests_per_minute: 60000
    close_code: "Resolved by caller"
    fields:
      assignment_group: Network Ops
      caller_id: faultdesk
`;

const oauthConfig = (dir: string) => `
tickets:
  default: servicenow
  servicenow:
    url: ${SN}
    oauth: { grant: client_credentials, client_id: fd-client, client_secret_file: ${dir}/sn-secret }
    requests_per_minute: 60000
`;

let bed: TicketTestbed;
beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(() => nock.enableNetConnect());
afterEach(async () => {
  await bed.stop();
  for (const secret of [PASSWORD, SECRET, BASIC.slice(6), 'at-one', 'at-two', 'rt-one']) expect(bed.logs()).not.toContain(secret);
  nock.cleanAll();
});

const WRITE_PARAMS = { sysparm_input_display_value: 'true', sysparm_exclude_reference_link: 'true', sysparm_fields: 'sys_id,number,state' };

/** The fault's live incidents, oldest first, as the look-ups before and after a create ask for them. */
function liveIncidents(faultId: string, incidents: Array<{ sys_id: string; number?: string; state: string }>, auth = BASIC) {
  return nock(SN)
    .matchHeader('authorization', auth)
    .get('/api/now/table/incident')
    .query({
      sysparm_query: `correlation_id=${faultId}^stateNOT IN7,8^ORDERBYsys_created_on^ORDERBYnumber`,
      sysparm_fields: 'sys_id,number,state,sys_created_on',
      sysparm_limit: '20',
    })
    .reply(200, { result: incidents });
}

function attachments(sysId: string, faultId: string, auth = BASIC) {
  return nock(SN)
    .matchHeader('authorization', auth)
    .post('/api/now/attachment/file', (b) => typeof b === 'string' && b.startsWith('# Fault net'))
    .query({ table_name: 'incident', table_sys_id: sysId, file_name: `faultdesk-fault-${faultId}.md` })
    .matchHeader('content-type', 'text/markdown; charset=utf-8')
    .reply(201, { result: { sys_id: 'att1', file_name: `faultdesk-fault-${faultId}.md` } })
    .post('/api/now/attachment/file')
    .query({ table_name: 'incident', table_sys_id: sysId, file_name: `faultdesk-fault-${faultId}.json` })
    .matchHeader('content-type', 'application/json')
    .reply(201, { result: { sys_id: 'att2' } });
}

describe('basic auth', () => {
  beforeEach(async () => {
    bed = await ticketTestbed(basicConfig, RULES, { 'sn-pass': PASSWORD });
  });
  const sn = () => nock(SN).matchHeader('authorization', BASIC);

  test('the whole lifecycle: create with the record attached, escalate, resolve with close code, reopen, recurrence after close', async () => {
    const id = (await bed.fire('core-router'))!;
    let body: Record<string, unknown> = {};
    sn()
      .post('/api/now/table/incident', (b) => ((body = b), true))
      .query(WRITE_PARAMS)
      .reply(201, { result: { sys_id: 'inc1', number: 'INC0010001', state: '1' } });
    const check = liveIncidents(id, [{ sys_id: 'inc1', number: 'INC0010001', state: '1' }]);
    attachments('inc1', id);
    await bed.drain();
    expect(check.isDone()).toBe(true);
    expect(body).toEqual({
      short_description: 'core-router is down on core-router-host',
      description: expect.stringContaining('**core-router is down**'),
      correlation_id: id,
      correlation_display: 'faultdesk',
      impact: 2,
      urgency: 2,
      assignment_group: 'Network Ops',
      caller_id: 'faultdesk',
      cmdb_ci: 'core-router-host',
      category: 'network',
    });
    expect(await bed.daemon.store.repos.faults.get(id)).toMatchObject({
      ticket_id: 'inc1',
      ticket_status: 'new',
      ticket_url: `${SN}/nav_to.do?uri=incident.do?sys_id=inc1`,
    });

    await bed.fire('core-router', { severity: 'critical', id: 'fp-2' });
    sn()
      .patch('/api/now/table/incident/inc1', (b) => ((body = b), true))
      .query(WRITE_PARAMS)
      .reply(200, { result: { sys_id: 'inc1', state: '2' } });
    await bed.drain();
    // An escalation also renews the short description: what the fault is may have changed (issue 13 item 10).
    expect(body).toEqual({ work_notes: expect.stringMatching(/^Escalated: fault severity 5 → 9/), impact: 1, urgency: 1, short_description: 'core-router is down on core-router-host' });

    bed.clock.advance(60_000);
    await bed.fire('core-router', { status: 'resolved' });
    await bed.fire('core-router', { status: 'resolved', id: 'fp-2' });
    sn()
      .patch('/api/now/table/incident/inc1', (b) => ((body = b), true))
      .query(WRITE_PARAMS)
      .reply(200, { result: { sys_id: 'inc1', state: '6' } });
    attachments('inc1', id);
    await bed.drain();
    expect(body).toEqual({
      state: 6,
      close_code: 'Resolved by caller',
      close_notes: 'Recovered by itself: every alert of {service="core-router"} resolved.',
      work_notes: expect.stringMatching(/^Resolved:/),
    });
    expect(await bed.daemon.store.repos.faults.get(id)).toMatchObject({ ticket_status: 'resolved' });

    bed.clock.advance(60_000);
    await bed.fire('core-router', { startsAt: bed.clock.now() });
    sn().get('/api/now/table/incident/inc1').query({ sysparm_fields: 'sys_id,number,state' }).reply(200, { result: { sys_id: 'inc1', state: '6' } });
    sn()
      .patch('/api/now/table/incident/inc1', (b) => ((body = b), true))
      .query(WRITE_PARAMS)
      .reply(200, { result: { sys_id: 'inc1', state: '2' } });
    await bed.drain();
    expect(body).toEqual({ state: 2, work_notes: expect.stringMatching(/^Reopened/), impact: 1, urgency: 1 });

    // Closed by the service desk meanwhile: the recurrence opens a new incident.
    await bed.fire('core-router', { status: 'resolved' });
    sn().patch('/api/now/table/incident/inc1').query(true).reply(200, { result: { sys_id: 'inc1', state: '6' } });
    attachments('inc1', id);
    await bed.drain();
    bed.clock.advance(60_000);
    await bed.fire('core-router', { startsAt: bed.clock.now() });
    sn().get('/api/now/table/incident/inc1').query(true).reply(200, { result: { sys_id: 'inc1', state: '7' } });
    sn()
      .post('/api/now/table/incident', (b) => ((body = b), true))
      .query(WRITE_PARAMS)
      .reply(201, { result: { sys_id: 'inc2', number: 'INC0010002', state: '1' } });
    liveIncidents(id, [{ sys_id: 'inc2', number: 'INC0010002', state: '1' }]);
    attachments('inc2', id);
    await bed.drain();
    expect(body.description).toMatch(/^This fault fired again after incident inc1 was closed\./);
    expect(await bed.daemon.store.repos.faults.get(id)).toMatchObject({ ticket_id: 'inc2' });
    expect(nock.pendingMocks()).toEqual([]);
  });

  test('a timed-out create is adopted by correlation_id; a 403 is parked', async () => {
    const id = (await bed.fire('dns'))!;
    sn().post('/api/now/table/incident').query(true).delay(1000).reply(201, { result: { sys_id: 'late', state: '1' } });
    await bed.drain();
    // The incident may exist: the retry waits the settle time (three 300 ms timeouts) before it looks.
    const [op] = await bed.daemon.store.repos.outbox.listByFault(id);
    expect(op).toMatchObject({ state: 'pending', next_attempt_at: bed.clock.now() + 900 });
    expect(op?.last_error).toBe('servicenow POST /api/now/table/incident: timed out (the ticket may exist: looking for it in 1 s)');
    bed.clock.advance(899);
    await bed.drain(); // not due yet: no request (nock would fail on one)
    liveIncidents(id, [{ sys_id: 'late', number: 'INC9', state: '1' }]);
    bed.clock.advance(1);
    await bed.drain();
    expect(await bed.daemon.store.repos.faults.get(id)).toMatchObject({ ticket_id: 'late' });

    await bed.fire('dns', { status: 'resolved' });
    sn()
      .patch('/api/now/table/incident/late')
      .query(true)
      .reply(403, { error: { message: 'Operation Failed', detail: 'Data Policy Exception: Resolution code is mandatory' }, status: 'failure' });
    await bed.drain();
    const fault = await bed.daemon.store.repos.faults.get(id);
    expect(fault?.ticket_error).toBe('resolve: servicenow PATCH /api/now/table/incident/late: HTTP 403: Operation Failed: Data Policy Exception: Resolution code is mandatory');
  });
});

describe('OAuth', () => {
  beforeEach(async () => {
    bed = await ticketTestbed(oauthConfig, RULES, { 'sn-secret': SECRET });
  });

  test('client credentials, refresh before expiry, and a new token after a 401', async () => {
    let grants: string[] = [];
    const token = nock(SN)
      .post('/oauth_token.do', (b) => {
        grants.push(String(b.grant_type));
        return b.client_id === 'fd-client' && b.client_secret === SECRET;
      })
      .reply(200, { access_token: 'at-one', refresh_token: 'rt-one', expires_in: 120, token_type: 'Bearer' })
      .post('/oauth_token.do', (b) => (grants.push(String(b.grant_type)), b.refresh_token === 'rt-one'))
      .reply(200, { access_token: 'at-two', expires_in: 1800 });

    const id = (await bed.fire('vpn'))!;
    nock(SN).matchHeader('authorization', 'Bearer at-one').post('/api/now/table/incident').query(true).reply(201, { result: { sys_id: 'i1', state: '1' } });
    liveIncidents(id, [{ sys_id: 'i1', state: '1' }], 'Bearer at-one');
    attachments('i1', id, 'Bearer at-one');
    await bed.drain();
    expect(grants).toEqual(['client_credentials']);

    // 70 s later the token has under a minute left: it is refreshed before the next request.
    bed.clock.advance(70_000);
    await bed.fire('vpn', { severity: 'critical', id: 'x2' });
    nock(SN).matchHeader('authorization', 'Bearer at-two').patch('/api/now/table/incident/i1').query(true).reply(200, { result: { sys_id: 'i1', state: '2' } });
    await bed.drain();
    expect(grants).toEqual(['client_credentials', 'refresh_token']);
    expect(token.isDone()).toBe(true);

    // The instance revoked the token: one new token, and the request is sent again.
    grants = [];
    nock(SN).post('/oauth_token.do', (b) => (grants.push(String(b.grant_type)), true)).reply(200, { access_token: 'at-three', expires_in: 1800 });
    nock(SN).matchHeader('authorization', 'Bearer at-two').patch('/api/now/table/incident/i1').query(true).reply(401, { error: { message: 'User Not Authenticated' } });
    nock(SN).matchHeader('authorization', 'Bearer at-three').patch('/api/now/table/incident/i1').query(true).reply(200, { result: { sys_id: 'i1', state: '6' } });
    attachments('i1', id, 'Bearer at-three');
    bed.clock.advance(1_000);
    await bed.fire('vpn', { status: 'resolved' });
    await bed.fire('vpn', { status: 'resolved', id: 'x2' });
    await bed.drain();
    expect(grants).toEqual(['client_credentials']);
    expect(await bed.daemon.store.repos.faults.get(id)).toMatchObject({ state: 'resolved', ticket_status: 'resolved', ticket_error: null });
    expect(nock.pendingMocks()).toEqual([]);
  });
});
