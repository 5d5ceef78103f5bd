import nock from 'nock';
import { ticketTestbed, type TicketTestbed } from './setup';

const ZD = 'https://acme.zendesk.com';
const SN = 'https://acme.service-now.com';

const CONFIG = (dir: string) => `
tickets:
  default: local
  zendesk: { url: ${ZD}, oauth_token_file: ${dir}/zd-oauth, requests_per_minute: 60000, concurrency: 4 }
  servicenow: { url: ${SN}, username: fd, password_file: ${dir}/sn-pass, requests_per_minute: 60000, concurrency: 4 }
`;

const RULES = `
categories:
  - name: apps
    match: ['service=~"app.*"']
    fault_key: [service]
    ticket: { system: zendesk }
  - name: network
    match: ['service=~"net.*"']
    fault_key: [service]
    ticket: { system: servicenow }
  - name: rest
    fault_key: [service]
`;

let bed: TicketTestbed;
beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(() => nock.enableNetConnect());
beforeEach(async () => {
  bed = await ticketTestbed(CONFIG, RULES, { 'zd-oauth': 'zd-oauth-token', 'sn-pass': 'pw' });
});
afterEach(async () => {
  await bed.stop();
  nock.cleanAll();
});

test('categories pick their system; two systems at once; the rest goes to the default', async () => {
  const app = (await bed.fire('app-checkout'))!;
  const net = (await bed.fire('net-core'))!;
  const other = (await bed.fire('batch'))!;
  nock(ZD).matchHeader('authorization', 'Bearer zd-oauth-token').post('/api/v2/uploads').query(true).times(2).reply(201, { upload: { token: 't' } });
  nock(ZD).post('/api/v2/tickets').reply(201, { ticket: { id: 1, status: 'new' } });
  nock(ZD).get('/api/v2/tickets').query({ external_id: app }).reply(200, { tickets: [{ id: 1, status: 'new' }] });
  nock(SN).post('/api/now/table/incident').query(true).reply(201, { result: { sys_id: 's1', state: '1' } });
  nock(SN).get('/api/now/table/incident').query(true).reply(200, { result: [{ sys_id: 's1', state: '1' }] });
  nock(SN).post('/api/now/attachment/file').query(true).times(2).reply(201, { result: {} });
  await bed.drain();
  const ticketOf = async (id: string) => {
    const f = await bed.daemon.store.repos.faults.get(id);
    return [f?.ticket_system, f?.ticket_id];
  };
  expect(await ticketOf(app)).toEqual(['zendesk', '1']);
  expect(await ticketOf(net)).toEqual(['servicenow', 's1']);
  expect(await ticketOf(other)).toEqual(['local', '1']);
  expect(nock.pendingMocks()).toEqual([]);
});

test('operations of one fault stay in order while faults run in parallel, with the API answering slowly and out of order', async () => {
  const faults: string[] = [];
  for (let i = 0; i < 8; i++) faults.push((await bed.fire(`net-${i}`))!);
  for (let i = 0; i < 8; i++) await bed.fire(`net-${i}`, { status: 'resolved' });
  const events: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const slow = <T>(ms: number, event: string, answer: T) => async () => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((r) => setTimeout(r, ms));
    inFlight -= 1;
    events.push(event);
    return answer;
  };
  nock(SN)
    .persist()
    .post('/api/now/table/incident')
    .query(true)
    .reply(201, function (_uri, body) {
      const fault = (body as { correlation_id: string }).correlation_id;
      return slow(5 + (faults.indexOf(fault) % 3) * 15, `create ${fault}`, { result: { sys_id: `sys-${fault}`, state: '1' } })();
    })
    .patch(/\/api\/now\/table\/incident\/sys-.*/)
    .query(true)
    .reply(200, function (uri) {
      const fault = /sys-([^?]+)/.exec(uri)![1]!;
      return slow(5, `resolve ${fault}`, { result: { sys_id: `sys-${fault}`, state: '6' } })();
    })
    .get('/api/now/table/incident')
    .query(true)
    .reply(200, { result: [] })
    .post('/api/now/attachment/file')
    .query(true)
    .reply(201, { result: {} });
  await bed.drain();
  for (const f of faults) {
    expect(events.indexOf(`create ${f}`)).toBeGreaterThanOrEqual(0);
    expect(events.indexOf(`resolve ${f}`)).toBeGreaterThan(events.indexOf(`create ${f}`));
  }
  expect(maxInFlight).toBeGreaterThan(1); // faults did run in parallel
  expect(maxInFlight).toBeLessThanOrEqual(4); // within the system's concurrency
});
