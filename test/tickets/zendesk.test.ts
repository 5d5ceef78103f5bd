import nock from 'nock';
import { ticketTestbed, type TicketTestbed } from './setup';

const ZD = 'https://acme.zendesk.com';
const TOKEN = 'zd-api-token-s3cret';
const BASIC = `Basic ${Buffer.from(`ops@acme.com/token:${TOKEN}`).toString('base64')}`;

const CONFIG = (dir: string) => `
tickets:
  default: zendesk
  zendesk:
    url: ${ZD}
    email: ops@acme.com
    token_file: ${dir}/zd-token
    timeout: 300ms
    requests_per_minute: 60000
    fields:
      type: incident
      tags: [faultdesk, "{{labels.service}}"]
outbox:
  backoff_initial: 1s
  backoff_max: 1m
`;

const RULES = `
categories:
  - name: svc
    match: ['alertname="ServiceDown"']
    fault_key: [service]
    severity: { label: severity, map: { warning: 5, critical: 9 } }
    update_interval: 5m
    ticket:
      subject: "{{labels.service}} is down on {{labels.host}}"
      fields:
        group_id: "12345"
        requester: { name: Monitoring, email: monitoring@acme.com }
        custom_fields:
          "360001": "{{labels.service}}"
          "360002": { number: "{{fs}}" }
`;

let bed: TicketTestbed;

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1'); // the daemon's own API
});
afterAll(() => nock.enableNetConnect());
beforeEach(async () => {
  nock.cleanAll();
  bed = await ticketTestbed(CONFIG, RULES, { 'zd-token': TOKEN });
});
afterEach(async () => {
  await bed.stop();
  expect(bed.logs()).not.toContain(TOKEN);
  expect(bed.logs()).not.toContain(BASIC.slice(6));
  nock.cleanAll();
});

const zd = () => nock(ZD).matchHeader('authorization', BASIC);

function uploads(faultId: string, tokens: [string, string]) {
  return zd()
    .post('/api/v2/uploads', (body) => typeof body === 'string' && body.startsWith('# Fault svc'))
    .query({ filename: `faultdesk-fault-${faultId}.md` })
    .matchHeader('content-type', 'text/markdown; charset=utf-8')
    .reply(201, { upload: { token: tokens[0] } })
    .post('/api/v2/uploads', (body) => typeof body === 'object' && (body as { kind?: string }).kind === 'faultdesk.fault-record/v1')
    .query({ filename: `faultdesk-fault-${faultId}.json` })
    .matchHeader('content-type', 'application/json')
    .reply(201, { upload: { token: tokens[1] } });
}

/** The look-up after a create that checks the fault has one live ticket. */
function oneTicket(faultId: string, ...tickets: Array<{ id: number; status: string }>) {
  return zd().get('/api/v2/tickets').query({ external_id: faultId }).reply(200, { tickets });
}

async function fault(id: string) {
  return bed.daemon.store.repos.faults.get(id);
}

async function ops(id: string) {
  return (await bed.daemon.store.repos.outbox.listByFault(id)).map((o) => [o.kind, o.state]);
}

test('create: subject, private first comment with the record attached, external_id, priority, fields, Idempotency-Key', async () => {
  const id = (await bed.fire('checkout'))!;
  let sent: Record<string, unknown> = {};
  uploads(id, ['tok-md', 'tok-json']);
  const create = zd()
    .post('/api/v2/tickets', (body) => {
      sent = body.ticket;
      return true;
    })
    .matchHeader('idempotency-key', new RegExp(`^faultdesk-${id}-[0-9a-f]{32}$`))
    .reply(201, { ticket: { id: 77, status: 'new' } }, { Location: `${ZD}/api/v2/tickets/77.json` });
  const check = oneTicket(id, { id: 77, status: 'new' });
  await bed.drain();
  expect(check.isDone()).toBe(true);
  expect(create.isDone()).toBe(true);
  expect(sent).toEqual({
    subject: 'checkout is down on checkout-host',
    comment: { html_body: expect.stringContaining('<p><strong>checkout is down</strong></p>'), public: false, uploads: ['tok-md', 'tok-json'] },
    external_id: id,
    priority: 'normal',
    type: 'incident',
    tags: ['faultdesk', 'checkout'],
    group_id: 12345,
    requester: { name: 'Monitoring', email: 'monitoring@acme.com' },
    custom_fields: [
      { id: 360001, value: 'checkout' },
      { id: 360002, value: 5 },
    ],
  });
  expect(await fault(id)).toMatchObject({ ticket_system: 'zendesk', ticket_id: '77', ticket_status: 'new', ticket_url: `${ZD}/agent/tickets/77` });
});

test('the body goes as sanitized HTML (html_body), never as Markdown Zendesk would show literally', async () => {
  const id = (await bed.fire('checkout', {
    annotations: {
      summary: 'disk <script>alert(1)</script> full',
      description: 'see <img src=x onerror=alert(1)> and [this](javascript:alert(1)) or https://wiki.acme.com/disk',
    },
  }))!;
  let comment: Record<string, unknown> = {};
  uploads(id, ['a', 'b']);
  zd()
    .post('/api/v2/tickets', (b) => ((comment = b.ticket.comment), true))
    .reply(201, { ticket: { id: 77, status: 'new' } });
  oneTicket(id, { id: 77, status: 'new' });
  await bed.drain();
  expect(comment.body).toBeUndefined();
  const html = String(comment.html_body);
  expect(html).toContain('<p><strong>disk &lt;script&gt;alert(1)&lt;/script&gt; full</strong></p>');
  expect(html).toContain('<li>Priority: normal (fault severity 5/10)</li>');
  expect(html).toContain('<a href="https://wiki.acme.com/disk">https://wiki.acme.com/disk</a>');
  expect(html).not.toMatch(/<script|<img|href="javascript|\*\*/);
});

test('escalate, resolve (record again, solved), reopen, and a recurrence after the ticket was closed', async () => {
  const id = (await bed.fire('checkout'))!;
  uploads(id, ['a', 'b']);
  zd().post('/api/v2/tickets').reply(201, { ticket: { id: 77, status: 'new' } });
  oneTicket(id, { id: 77, status: 'new' });
  await bed.drain();

  await bed.fire('checkout', { severity: 'critical', id: 'fp-2' });
  let put: Record<string, unknown> = {};
  zd()
    .put('/api/v2/tickets/77', (b) => ((put = b.ticket), true))
    .reply(200, { ticket: { id: 77, status: 'open' }, audit: {} });
  await bed.drain();
  // An escalation also renews the subject: what the fault is may have changed (issue 13 item 10).
  expect(put).toEqual({ comment: { html_body: expect.stringMatching(/^<p>Escalated: fault severity 5 → 9, priority now urgent\./), public: false }, priority: 'urgent', subject: 'checkout is down on checkout-host' });

  bed.clock.advance(60_000);
  await bed.fire('checkout', { status: 'resolved' });
  await bed.fire('checkout', { status: 'resolved', id: 'fp-2' });
  uploads(id, ['c', 'd']);
  zd()
    .put('/api/v2/tickets/77', (b) => ((put = b.ticket), true))
    .reply(200, { ticket: { id: 77, status: 'solved' } });
  await bed.drain();
  expect(put).toEqual({ status: 'solved', comment: { html_body: expect.stringMatching(/^<p>Resolved:/), public: false, uploads: ['c', 'd'] } });
  expect(await fault(id)).toMatchObject({ state: 'resolved', ticket_status: 'solved' });

  bed.clock.advance(60_000);
  await bed.fire('checkout', { startsAt: bed.clock.now() });
  zd().get('/api/v2/tickets/77').reply(200, { ticket: { id: 77, status: 'solved' } });
  zd()
    .put('/api/v2/tickets/77', (b) => ((put = b.ticket), true))
    .reply(200, { ticket: { id: 77, status: 'open' } });
  await bed.drain();
  expect(put).toMatchObject({ status: 'open', comment: { html_body: expect.stringMatching(/^<p>Reopened/), public: false }, priority: 'urgent' });

  // Closed meanwhile: a recurrence becomes a follow-up ticket.
  await bed.fire('checkout', { status: 'resolved' });
  zd().put('/api/v2/tickets/77').reply(200, { ticket: { id: 77, status: 'solved' } });
  uploads(id, ['e', 'f']);
  await bed.drain();
  bed.clock.advance(60_000);
  await bed.fire('checkout', { startsAt: bed.clock.now() });
  zd().get('/api/v2/tickets/77').reply(200, { ticket: { id: 77, status: 'closed' } });
  uploads(id, ['g', 'h']);
  let created: Record<string, unknown> = {};
  zd()
    .post('/api/v2/tickets', (b) => ((created = b.ticket), true))
    .reply(201, { ticket: { id: 78, status: 'new' } });
  oneTicket(id, { id: 77, status: 'closed' }, { id: 78, status: 'new' });
  await bed.drain();
  expect(created).toMatchObject({ via_followup_source_id: 77, external_id: id, comment: { html_body: expect.stringContaining('after ticket #77 was closed') } });
  expect(await fault(id)).toMatchObject({ ticket_id: '78', ticket_status: 'new' });
  expect(nock.pendingMocks()).toEqual([]);
});

test('429 waits for Retry-After; 500 backs off and then succeeds', async () => {
  const id = (await bed.fire('checkout'))!;
  zd().post('/api/v2/uploads').query(true).reply(429, { error: 'TooManyRequests' }, { 'Retry-After': '30' });
  await bed.drain();
  expect(await ops(id)).toEqual([['create', 'pending']]);
  bed.clock.advance(29_000);
  await bed.drain(); // nothing is due: no request (nock would fail on one)
  // The retry first asks whether an earlier attempt got through: Zendesk fails that with a 500.
  zd().get('/api/v2/tickets').query({ external_id: id }).reply(500, 'oops');
  bed.clock.advance(1_000);
  await bed.drain();
  expect(await ops(id)).toEqual([['create', 'pending']]);
  zd().get('/api/v2/tickets').query({ external_id: id }).reply(200, { tickets: [] });
  uploads(id, ['a', 'b']);
  zd().post('/api/v2/tickets').reply(201, { ticket: { id: 5, status: 'new' } });
  oneTicket(id, { id: 5, status: 'new' });
  bed.clock.advance(4_000); // the third attempt's backoff: at most 4 s
  await bed.drain();
  expect(await ops(id)).toEqual([['create', 'done']]);
  const metrics = await bed.daemon.metrics.registry.getSingleMetricAsString('faultdesk_ticket_api_errors_total');
  expect(metrics).toContain('system="zendesk",reason="rate_limited"} 1');
  expect(metrics).toContain('system="zendesk",reason="server_error"} 1');
});

test('a create that timed out is looked up by external_id and adopted, not sent twice', async () => {
  const id = (await bed.fire('checkout'))!;
  uploads(id, ['a', 'b']);
  // Zendesk got it, but the answer came too late.
  zd().post('/api/v2/tickets').delay(1000).reply(201, { ticket: { id: 90, status: 'new' } });
  await bed.drain();
  expect(await fault(id)).toMatchObject({ ticket_id: null });
  zd()
    .get('/api/v2/tickets')
    .query({ external_id: id })
    .reply(200, { tickets: [{ id: 12, status: 'closed' }, { id: 90, status: 'new' }] });
  bed.clock.advance(5_000);
  await bed.drain();
  expect(await fault(id)).toMatchObject({ ticket_id: '90' });
  expect(nock.pendingMocks()).toEqual([]);
});

test('401 parks the operation, records it on the fault, and an operator retries it', async () => {
  const id = (await bed.fire('checkout'))!;
  zd().post('/api/v2/uploads').query(true).reply(401, { error: "Couldn't authenticate you" });
  await bed.drain();
  expect(await ops(id)).toEqual([['create', 'parked']]);
  const f = await fault(id);
  expect(f?.ticket_error).toBe("create: zendesk POST /api/v2/uploads: HTTP 401: Couldn't authenticate you");
  const api = (await fetch(`${bed.daemon.url}/api/v1/faults/${id}`).then((r) => r.json())) as { ticketError: string };
  expect(api.ticketError).toMatch(/HTTP 401/);
  bed.clock.advance(3_600_000);
  await bed.drain();
  expect(await ops(id)).toEqual([['create', 'parked']]); // never retried blindly

  const parked = (await fetch(`${bed.daemon.url}/api/v1/outbox?state=parked`).then((r) => r.json())) as { operations: unknown[] };
  expect(parked.operations).toEqual([expect.objectContaining({ faultId: id, kind: 'create', state: 'parked', lastError: expect.stringMatching(/HTTP 401/) })]);
  const retry = await fetch(`${bed.daemon.url}/api/v1/outbox/retry`, { method: 'POST', body: JSON.stringify({ faultId: id }) }).then((r) => r.json());
  expect(retry).toEqual({ status: 'success', retried: 1 });
  zd().get('/api/v2/tickets').query({ external_id: id }).reply(200, { tickets: [] });
  uploads(id, ['a', 'b']);
  zd().post('/api/v2/tickets').reply(201, { ticket: { id: 3, status: 'new' } });
  oneTicket(id, { id: 3, status: 'new' });
  await bed.drain();
  expect(await fault(id)).toMatchObject({ ticket_id: '3', ticket_error: null });
  const text = await bed.daemon.metrics.registry.getSingleMetricAsString('faultdesk_ticket_api_errors_total');
  expect(text).toContain('system="zendesk",reason="unauthorized"} 1');
});

test('subjects are cut to the limit; pending operations survive a restart', async () => {
  const long = 'x'.repeat(400);
  const id = (await bed.fire(long))!;
  await bed.restart();
  uploads(id, ['a', 'b']);
  let subject = '';
  zd()
    .post('/api/v2/tickets', (b) => ((subject = b.ticket.subject), true))
    .reply(201, { ticket: { id: 4, status: 'new' } });
  oneTicket(id, { id: 4, status: 'new' });
  await bed.drain();
  expect(subject.length).toBeLessThanOrEqual(250);
  expect(subject.endsWith('…')).toBe(true);
});
