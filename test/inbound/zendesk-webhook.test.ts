import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FakeZendesk } from '../fake-zendesk';
import { sign } from '../../src/tickets/inbound/signature';
import { ticketTestbed, type TicketTestbed } from '../tickets/setup';

// Zendesk tells faultdesk what people do with its tickets through signed webhooks (event
// subscriptions, or a trigger with the shipped body). These run the daemon against the strict fake
// Zendesk, which makes the tickets and plays the agent UI: a person changes a ticket and the fake
// posts the signed events, as Zendesk does.

const SECRET = 'zd-signing-secret-0123456789';
const TRIGGER_BODY = readFileSync(path.join(__dirname, '../../config/integrations/zendesk/trigger-body.json'), 'utf8');
const RULES = `
categories:
  - name: svc
    match: ['alertname="ServiceDown"']
    fault_key: [service]
    severity: { label: severity, map: { warning: 5, critical: 9 } }
    reopen_within: 1h
`;
const GRACE = { id: 7, email: 'grace@acme.example', name: 'Grace Hopper' };
const MIN = 60_000;

let zd: FakeZendesk;
let bed: TicketTestbed;

async function start(afterHumanClose = 'action: new_ticket') {
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
    inbound:
      secret_file: ${dir}/zd-secret
      wont_fix: [wont_fix]
faults:
  after_human_close: { ${afterHumanClose}, quiet_for: 2h }
`,
    RULES,
    { 'zd-token': 'api-token-1', 'zd-secret': SECRET },
  );
  zd.clock = () => bed.clock.now();
  zd.webhook = { url: `${bed.daemon.url}/api/v1/tickets/zendesk/events`, secret: SECRET };
}
afterEach(async () => {
  await bed.stop();
  await zd.stop();
});

interface View {
  acknowledged: { by: string } | null;
  handled: { by: string } | null;
  closedByHuman: { by: string; code: string | null } | null;
  timeline: { entries: Array<{ event: string; by?: string; detail?: string }> };
}
const view = async (id: string) => (await (await fetch(`${bed.daemon.url}/api/v1/faults/${id}`)).json()) as View;
const metric = async (name: string) => bed.daemon.metrics.registry.getSingleMetricAsString(name);
const seenRows = async () => (await bed.daemon.store.repos.inbound.forget(Number.MAX_SAFE_INTEGER)) as number;

async function openFault(service = 'checkout'): Promise<{ id: string; ticket: number }> {
  const id = (await bed.fire(service))!;
  await bed.drain();
  const row = await bed.daemon.store.repos.faults.get(id);
  return { id, ticket: Number(row!.ticket_id) };
}

describe('event subscriptions', () => {
  beforeEach(() => start());

  test('a person opens, assigns and comments: acknowledged and on the timeline, once even when Zendesk delivers again', async () => {
    const { id, ticket } = await openFault();
    const answers = await zd.humanChange(ticket, { status: 'open', assignee_id: 7, comment: 'rebooting the switch' }, GRACE);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    let v = await view(id);
    expect(v.acknowledged).toMatchObject({ by: '7' });
    expect(v.timeline.entries.filter((e) => e.event === 'comment')).toEqual([expect.objectContaining({ detail: 'rebooting the switch', by: 'Grace Hopper' })]);
    // Zendesk retries a delivery it thinks failed: the same invocation id, the same bytes.
    const comment = JSON.parse(answers[2]!.raw) as Record<string, unknown>;
    const again = await zd.deliver(comment, { invocationId: answers[2]!.invocationId });
    expect(again.status).toBe(200);
    expect(JSON.parse(again.body)).toEqual({ status: 'success', changes: ['duplicate'] });
    // Another delivery of the same event (a new invocation): the same change, so still once.
    expect(JSON.parse((await zd.deliver(comment)).body)).toEqual({ status: 'success', changes: ['duplicate'] });
    v = await view(id);
    expect(v.timeline.entries.filter((e) => e.event === 'comment')).toHaveLength(1);
    expect(await metric('faultdesk_inbound_changes_total')).toMatch(/system="zendesk",via="webhook",outcome="duplicate"} 2/);
    // The person's work is not echoed back into the ticket as faultdesk comments.
    await bed.drain();
    expect(zd.calls.filter((c) => c.method === 'PUT')).toEqual([]);
  });

  test('faultdesk\'s own change echoed back (its API user, whose id it asked Zendesk for) is remembered, never acted on', async () => {
    const { id, ticket } = await openFault();
    const t = zd.tickets.find((x) => x.id === ticket)!;
    t.status = 'solved';
    const echo = await zd.deliver(zd.eventBody(t, 'status_changed', { previous: 'NEW', current: 'SOLVED' }, { id: 900 }));
    expect(JSON.parse(echo.body)).toEqual({ status: 'success', changes: ['own'] });
    // Asked once, before the first change it read.
    expect(zd.calls.filter((c) => c.kind === 'me')).toHaveLength(1);
    await zd.deliver(zd.eventBody(t, 'priority_changed', { previous: null, current: 'URGENT' }, { id: 900 }));
    expect(zd.calls.filter((c) => c.kind === 'me')).toHaveLength(1);
    expect((await bed.daemon.store.repos.faults.get(id))!.priority_pinned).toBeNull();
    const v = await view(id);
    expect(v.handled).toBeNull();
    expect(v.closedByHuman).toBeNull();
  });

  test('bad, missing and stale signatures: 401, counted, nothing stored', async () => {
    const { id, ticket } = await openFault();
    const before = JSON.stringify(await bed.daemon.store.repos.faults.get(id));
    const t = zd.tickets.find((x) => x.id === ticket)!;
    const body = JSON.stringify(zd.eventBody({ ...t, status: 'solved' }, 'status_changed', { previous: 'NEW', current: 'SOLVED' }, GRACE));
    const url = zd.webhook!.url;
    const ts = new Date(bed.clock.now()).toISOString();
    const post = (headers: Record<string, string>, raw = body) => fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: raw });

    expect((await zd.deliver(body, { secret: 'not-the-secret' })).status).toBe(401);
    expect((await post({})).status).toBe(401);
    expect((await post({ 'X-Zendesk-Webhook-Signature': sign(Buffer.from(SECRET), ts, body) })).status).toBe(401);
    // Signed, then changed on the way.
    const tampered = await post({ 'X-Zendesk-Webhook-Signature': sign(Buffer.from(SECRET), ts, body), 'X-Zendesk-Webhook-Signature-Timestamp': ts }, body.replace('SOLVED', 'CLOSED'));
    expect(tampered.status).toBe(401);
    // A captured request replayed after the window (5 minutes by default).
    const old = new Date(bed.clock.now() - 10 * MIN).toISOString();
    const replay = await zd.deliver(body, { timestamp: old });
    expect(replay.status).toBe(401);
    expect(JSON.parse(replay.body).error).toMatch(/replay window/);

    expect(JSON.stringify(await bed.daemon.store.repos.faults.get(id))).toBe(before);
    expect(await seenRows()).toBe(0);
    const text = await metric('faultdesk_inbound_rejected_total');
    expect(text).toMatch(/system="zendesk",reason="bad_signature"} 2/);
    expect(text).toMatch(/system="zendesk",reason="missing_signature"} 2/);
    expect(text).toMatch(/system="zendesk",reason="stale"} 1/);
  });

  test('a trigger webhook with the shipped body: a person solves it as won\'t fix', async () => {
    const { id, ticket } = await openFault();
    const body = triggerBody({ id: ticket, external_id: id, status: 'Solved', tags: 'network wont_fix', latest_comment: 'known issue: "replacing" the switch next week' });
    const res = await zd.deliver(body);
    expect(res.status).toBe(200);
    const v = await view(id);
    expect(v.closedByHuman).toMatchObject({ by: 'grace@acme.example', code: 'wont_fix' });
    expect(v.timeline.entries.map((e) => e.event)).toEqual(expect.arrayContaining(['comment', 'closed_by_human']));
    // The trigger sends the latest comment with every update: it goes on the timeline once.
    bed.clock.advance(MIN);
    await zd.deliver(triggerBody({ id: ticket, external_id: id, status: 'Solved', tags: 'network wont_fix', latest_comment: 'known issue: "replacing" the switch next week', updated_at: new Date(bed.clock.now()).toISOString() }));
    expect((await view(id)).timeline.entries.filter((e) => e.event === 'comment')).toHaveLength(1);
    // A ticket of no fault of ours (the trigger fires for every ticket): 200, nothing.
    expect(JSON.parse((await zd.deliver(triggerBody({ id: 4242, status: 'Open' }))).body)).toEqual({ status: 'success', changes: ['unknown_ticket'] });
  });

  test('bad input, signed: 400 with the field paths, nothing stored; random bodies never a 5xx', async () => {
    const { id, ticket } = await openFault();
    const before = JSON.stringify(await bed.daemon.store.repos.faults.get(id));
    const bad = await zd.deliver(triggerBody({ id: ticket, status: 'Exploded', updated_at: '' }));
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).errors.map((e: { path: string }) => e.path).sort()).toEqual(['ticket.status', 'ticket.updated_at']);
    const sub = await zd.deliver({ type: 'zen:event-type:ticket.status_changed', id: 'x', time: 'now', detail: { id: 'abc' } });
    expect(sub.status).toBe(400);
    expect(JSON.parse(sub.body).errors.map((e: { path: string }) => e.path).sort()).toEqual(['detail.id', 'time']);
    expect((await zd.deliver('{"not json')).status).toBe(400);
    expect((await zd.deliver(JSON.stringify({ junk: 'x'.repeat(6 * 1024 * 1024) }))).status).toBe(413);
    expect(await metric('faultdesk_inbound_rejected_total')).toMatch(/system="zendesk",reason="too_large"} 1/);
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.json(), fc.jsonValue().map((v) => JSON.stringify({ faultdesk: 'zendesk-trigger/1', ticket: v }))), async (raw) => {
        const res = await zd.deliver(raw);
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400) expect(JSON.parse(res.body).error).toEqual(expect.any(String));
      }),
      { numRuns: 150 },
    );
    expect(JSON.stringify(await bed.daemon.store.repos.faults.get(id))).toBe(before);
  });
});

/** The shipped trigger body (config/integrations/zendesk/trigger-body.json) as Zendesk renders it for an update. */
function triggerBody(t: { id: number; external_id?: string; status: string; tags?: string; latest_comment?: string; updated_at?: string }): string {
  const values: Record<string, string> = {
    'ticket.id': String(t.id),
    'ticket.external_id': t.external_id ?? '',
    'ticket.status': t.status,
    'ticket.priority': 'High',
    'ticket.assignee.email': 'grace@acme.example',
    'ticket.group.id': '',
    'ticket.group.name': '',
    'ticket.tags': t.tags ?? '',
    'ticket.updated_at_with_timestamp': t.updated_at ?? new Date(bed.clock.now()).toISOString(),
    'ticket.latest_comment': t.latest_comment ?? '',
    'ticket.latest_comment.author.name': 'Grace Hopper',
    'current_user.id': '7',
    'current_user.email': 'grace@acme.example',
    'current_user.name': 'Grace Hopper',
  };
  // Zendesk escapes a placeholder's value for the JSON it stands in.
  return TRIGGER_BODY.replace(/\{\{([\w.]+)\}\}/g, (_m, name: string) => {
    if (!(name in values)) throw new Error(`the test does not render {{${name}}}`);
    return JSON.stringify(values[name]).slice(1, -1);
  });
}

describe('end to end: a person closes the ticket as won\'t fix, the alert fires again', () => {
  test('after_human_close new_ticket: the closed ticket is untouched, a new ticket names it', async () => {
    await start('action: new_ticket');
    const { id, ticket } = await openFault();
    await zd.humanChange(ticket, { tags: ['wont_fix'], status: 'solved', comment: 'known issue, replacing the switch next week' }, GRACE);
    expect((await view(id)).closedByHuman).toMatchObject({ code: 'wont_fix' });
    await bed.drain();
    const callsBefore = zd.calls.length;
    bed.clock.advance(10 * MIN);
    await bed.fire('checkout', { status: 'resolved' });
    bed.clock.advance(5 * MIN);
    const again = await bed.fire('checkout', { startsAt: bed.clock.now() });
    await bed.drain();
    const later = zd.calls.slice(callsBefore);
    expect(later.filter((c) => c.path === `/api/v2/tickets/${ticket}` && c.method === 'PUT')).toEqual([]);
    expect(zd.tickets.find((t) => t.id === ticket)!.status).toBe('solved');
    expect(again).not.toBe(id);
    const fresh = zd.tickets.filter((t) => t.id !== ticket);
    expect(fresh).toHaveLength(1);
    expect(fresh[0]!.comments[0]).toMatch(new RegExp(`fired again after ticket #${ticket} was closed`));
  });

  test('after_human_close quiet: nothing while quiet', async () => {
    await start('action: quiet');
    const { id, ticket } = await openFault();
    await zd.humanChange(ticket, { tags: ['wont_fix'], status: 'solved' }, GRACE);
    expect((await view(id)).closedByHuman).toMatchObject({ code: 'wont_fix' });
    await bed.drain();
    const callsBefore = zd.calls.length;
    bed.clock.advance(10 * MIN);
    await bed.fire('checkout', { status: 'resolved' });
    bed.clock.advance(5 * MIN);
    await bed.fire('checkout', { startsAt: bed.clock.now() });
    await bed.drain();
    expect(zd.calls.slice(callsBefore)).toEqual([]);
    expect(zd.tickets).toHaveLength(1);
  });
});
