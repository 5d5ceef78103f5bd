// A stand-in for Zendesk's Tickets and Uploads API on loopback, shared by the load
// and failure tests (test/) and the storm benchmark (bench/): it keeps tickets,
// records every call, and can fail on demand. Request and response shapes follow
// shared/reference (Zendesk Tickets API).
//
// Creates honour `Idempotency-Key`: a repeat with the same key and the same
// bytes gets the first answer with `x-idempotency-lookup: hit` (the first gets
// `miss`); a repeat while the first is still being processed gets 409; the same
// key with another body is refused (400 here: the reference only says
// "refused"). A closed ticket refuses updates with 422, as Zendesk does.
//
// Fault injection: `createFaults` is a queue; each create takes the next entry:
// `{ delayMs }` commits and answers only after that long (a client with a
// shorter timeout gives up while the ticket is still made), `{ drop: true }`
// commits and then destroys the connection without an answer,
// `{ holdUntilNextCreate: true }` commits only when the next create arrives,
// just before that one (a slow insert that lands between a client's look-up
// and its second create).
// Webhooks: with `webhook` set to { url, secret }, `humanChange` plays a person changing a ticket in
// the agent UI: the ticket changes and each kind of change is posted to the URL as an event
// subscription delivers it (zen:event-type:ticket.*), signed as Zendesk signs (base64
// HMAC-SHA256 of timestamp + body, X-Zendesk-Webhook-* headers).
const { createHmac, randomUUID } = require('node:crypto');
const express = require('express');
const { DomUtils, parseDocument } = require('htmlparser2');

/** A comment's text as an agent reads it: `body` as it is, `html_body` rendered to text. */
function commentText(comment) {
  if (!comment) return '';
  if (comment.body !== undefined) return String(comment.body);
  return comment.html_body !== undefined ? DomUtils.textContent(parseDocument(String(comment.html_body))).trim() : '';
}

/** What a PUT does to a ticket, told from its status and comment (see src/faults/render.ts). */
function kindOfPut(ticket, body) {
  if (body.status === 'solved') return 'resolve';
  if (body.status === 'open') return 'reopen';
  const text = commentText(body.comment);
  if (/^Escalated:/m.test(text)) return 'escalate';
  if (/^Update:/m.test(text)) return 'update';
  if (/flapping/i.test(text)) return 'flapping';
  return 'comment';
}

class FakeZendesk {
  constructor() {
    this.tickets = [];
    /** Every call: method, path, time, and for ticket calls the fault (external_id) and what it did. */
    this.calls = [];
    /** While set, every call is answered with this status (and Retry-After, if given). */
    this.failing = undefined;
    /** See the header: one entry per create, in order. */
    this.createFaults = [];
    /** Creates held back by `holdUntilNextCreate`: each commits and answers when called. */
    this.held = [];
    /** Idempotency-Key → the first request's bytes and, once made, its answer. */
    this.idempotency = new Map();
    this.server = undefined;
    this.url = '';
    this.webhook = undefined;
    this.lastStamp = 0;
    /** The id /api/v2/users/me answers with. */
    this.apiUserId = 900;
    /** The time webhooks are signed with and tickets stamped with (tests with a manual clock set it). */
    this.clock = () => Date.now();
  }

  async start() {
    const app = express();
    app.use(express.json({ limit: '10mb', verify: (req, _res, buf) => (req.rawBody = Buffer.from(buf)) }));
    app.use(express.raw({ type: () => true, limit: '10mb' }));
    app.use((req, res, next) => {
      const call = { method: req.method, path: req.path, at: Date.now() };
      this.calls.push(call);
      req.call = call;
      res.on('finish', () => (call.status = res.statusCode));
      if (this.failing) {
        call.failed = this.failing.status;
        if (this.failing.retryAfter) res.set('Retry-After', this.failing.retryAfter);
        res.status(this.failing.status).json({ error: 'Unavailable' });
        return;
      }
      next();
    });
    const find = (id) => this.tickets.find((t) => t.id === Number(id));
    app.post('/api/v2/uploads', (_req, res) => {
      res.status(201).json({ upload: { token: `tok-${this.calls.length}` } });
    });
    app.post('/api/v2/tickets', async (req, res) => {
      const t = req.body.ticket;
      Object.assign(req.call, { faultId: t.external_id, kind: 'create' });
      const key = req.get('idempotency-key');
      req.call.idempotencyKey = key;
      let remembered;
      if (key !== undefined) {
        remembered = this.idempotency.get(key);
        if (remembered) {
          req.call.idempotency = 'hit';
          if (!remembered.raw.equals(req.rawBody)) {
            res.status(400).json({ error: 'IdempotentRequestError', description: 'Request parameters do not match the original request with this Idempotency-Key' });
          } else if (!remembered.answer) {
            res.status(409).json({ error: 'Conflict', description: 'A request with this Idempotency-Key is still being processed' });
          } else {
            res.set('x-idempotency-lookup', 'hit').status(remembered.answer.status).json(remembered.answer.body);
          }
          return;
        }
        remembered = { raw: req.rawBody, answer: undefined };
        this.idempotency.set(key, remembered);
        req.call.idempotency = 'miss';
      }
      const fault = this.createFaults.shift() || {};
      const commit = () => {
        const ticket = {
          id: this.tickets.length + 1,
          external_id: t.external_id,
          created_for: t.external_id,
          status: 'new',
          subject: t.subject,
          created_at: new Date().toISOString(),
          updated_at: this.stamp(),
          assignee_id: null,
          group_id: t.group_id === undefined ? null : Number(t.group_id),
          priority: t.priority || null,
          tags: t.tags || [],
          comments: [commentText(t.comment)],
        };
        this.tickets.push(ticket);
        if (remembered) remembered.answer = { status: 201, body: { ticket } };
        return ticket;
      };
      const answer = (ticket) => {
        if (fault.drop) return req.socket.destroy();
        if (key !== undefined) res.set('x-idempotency-lookup', 'miss');
        res.status(201).json({ ticket });
      };
      if (fault.holdUntilNextCreate) {
        this.held.push(() => answer(commit()));
        return;
      }
      // A create held back lands first, just before this one.
      for (const release of this.held.splice(0)) release();
      if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
      answer(commit());
    });
    app.get('/api/v2/tickets', (req, res) => {
      Object.assign(req.call, { faultId: req.query.external_id, kind: 'lookup' });
      res.json({ tickets: this.tickets.filter((t) => t.external_id === req.query.external_id) });
    });
    // The API user faultdesk authenticates as (any credentials: this fake checks none).
    app.get('/api/v2/users/me', (req, res) => {
      req.call.kind = 'me';
      res.json({ user: { id: this.apiUserId, email: 'faultdesk@acme.example', role: 'agent' } });
    });
    app.get('/api/v2/tickets/show_many', (req, res) => {
      const ids = String(req.query.ids || '').split(',').filter((x) => x !== '');
      Object.assign(req.call, { kind: 'show_many', ids });
      if (ids.length > 100) return res.status(400).json({ error: 'InvalidEndpoint', description: 'at most 100 ids' });
      res.json({ tickets: ids.map(find).filter(Boolean) });
    });
    app.get('/api/v2/tickets/:id', (req, res) => {
      const t = find(req.params.id);
      Object.assign(req.call, { faultId: t && t.created_for, kind: 'read' });
      if (t) res.json({ ticket: t });
      else res.status(404).json({ error: 'RecordNotFound' });
    });
    app.put('/api/v2/tickets/:id', (req, res) => {
      const t = find(req.params.id);
      if (!t) {
        res.status(404).json({ error: 'RecordNotFound' });
        return;
      }
      Object.assign(req.call, { faultId: t.created_for, kind: kindOfPut(t, req.body.ticket) });
      if (t.status === 'closed') {
        res.status(422).json({ error: 'RecordInvalid', description: 'Record validation errors', details: { status: [{ description: 'Status: closed prevents ticket update' }] } });
        return;
      }
      if (req.body.ticket.status) t.status = req.body.ticket.status;
      if (req.body.ticket.priority) t.priority = req.body.ticket.priority;
      if (req.body.ticket.group_id !== undefined) t.group_id = req.body.ticket.group_id;
      t.updated_at = this.stamp();
      if (req.body.ticket.external_id !== undefined) t.external_id = req.body.ticket.external_id;
      if (req.body.ticket.comment) t.comments.push(commentText(req.body.ticket.comment));
      res.json({ ticket: t });
    });
    await new Promise((resolve) => {
      this.server = app.listen(0, '127.0.0.1', () => resolve());
    });
    this.url = `http://127.0.0.1:${this.server.address().port}`;
  }

  /** A ticket's updated_at: whole seconds as Zendesk gives them, always later than the last one. */
  stamp() {
    const now = Math.max(Math.floor(this.clock() / 1000) * 1000, (this.lastStamp || 0) + 1000);
    this.lastStamp = now;
    return new Date(now).toISOString().replace('.000Z', 'Z');
  }

  /**
   * A person changes a ticket in the agent UI (`change`: status, assignee_id, group_id, priority,
   * tags, comment) as `actor` ({ id, email, name }); each kind of change is posted to `webhook.url`
   * as a signed event subscription (when `webhook` is set). Resolves to the answers, in order.
   */
  async humanChange(ticketId, change, actor) {
    const t = this.tickets.find((x) => x.id === Number(ticketId));
    if (!t) throw new Error(`no ticket ${ticketId}`);
    const events = [];
    for (const field of ['status', 'assignee_id', 'group_id', 'priority', 'tags']) {
      if (change[field] === undefined) continue;
      const previous = t[field];
      t[field] = change[field];
      const type = { status: 'status_changed', assignee_id: 'agent_assignment_changed', group_id: 'group_assignment_changed', priority: 'priority_changed', tags: 'tags_changed' }[field];
      events.push({ type, event: { previous: upper(field, previous), current: upper(field, change[field]) } });
    }
    if (change.comment !== undefined) {
      t.comments.push(change.comment);
      events.push({ type: 'comment_added', event: { comment: { id: String(900000 + t.comments.length), body: change.comment, is_public: false, author: { id: String(actor.id), name: actor.name || actor.email, is_staff: true } } } });
    }
    t.updated_at = this.stamp();
    const answers = [];
    if (!this.webhook) return answers; // no webhook: a poll will find the change
    for (const e of events) answers.push(await this.deliver(this.eventBody(t, e.type, e.event, actor)));
    return answers;
  }

  /** An event subscription's body for a ticket as it is now. */
  eventBody(t, type, event, actor) {
    return {
      type: `zen:event-type:ticket.${type}`,
      account_id: 12345,
      id: randomUUID(),
      time: new Date(this.clock()).toISOString(),
      zendesk_event_version: '2022-11-06',
      subject: `zen:ticket:${t.id}`,
      detail: {
        actor_id: String(actor.id),
        assignee_id: t.assignee_id === null ? null : String(t.assignee_id),
        external_id: t.external_id,
        group_id: t.group_id === null ? null : String(t.group_id),
        id: String(t.id),
        priority: t.priority ? String(t.priority).toUpperCase() : null,
        status: t.status.toUpperCase(),
        subject: t.subject,
        tags: t.tags,
        updated_at: t.updated_at,
      },
      event,
    };
  }

  /** Posts a body to the webhook as Zendesk does; `opts` may set the invocation id, timestamp or secret (to replay or forge). */
  async deliver(body, opts = {}) {
    const raw = typeof body === 'string' ? body : JSON.stringify(body);
    const timestamp = opts.timestamp || new Date(this.clock()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const signature = createHmac('sha256', opts.secret || this.webhook.secret).update(timestamp + raw).digest('base64');
    const invocation = opts.invocationId || String(Math.floor(Math.random() * 1e15));
    const res = await fetch(this.webhook.url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-Zendesk-Webhook-Signature': signature,
        'X-Zendesk-Webhook-Signature-Timestamp': timestamp,
        'X-Zendesk-Webhook-Id': '01GDXYD7ZTWYP2PQ5JNN1AVZ9Q',
        'X-Zendesk-Webhook-Invocation-Id': invocation,
        'X-Zendesk-Account-Id': '12345',
      },
      body: raw,
    });
    return { status: res.status, body: await res.text(), invocationId: invocation, raw, timestamp };
  }

  /** Tickets created per fault (the external_id they were created with). */
  creates() {
    const counts = new Map();
    for (const t of this.tickets) counts.set(t.created_for, (counts.get(t.created_for) || 0) + 1);
    return counts;
  }

  /** Tickets of one fault that are still being worked on (external_id the fault's, not solved or closed). */
  live(faultId) {
    return this.tickets.filter((t) => t.external_id === faultId && t.status !== 'solved' && t.status !== 'closed');
  }

  async stop() {
    this.held = [];
    if (!this.server) return;
    const closed = new Promise((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }
}

/** Event subscriptions say statuses and priorities in capitals, ids as strings. */
function upper(field, value) {
  if (value === null || value === undefined) return null;
  if (field === 'status' || field === 'priority') return String(value).toUpperCase();
  return Array.isArray(value) ? value : String(value);
}

module.exports = { FakeZendesk };
