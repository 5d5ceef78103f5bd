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
      if (req.body.ticket.external_id !== undefined) t.external_id = req.body.ticket.external_id;
      if (req.body.ticket.comment) t.comments.push(commentText(req.body.ticket.comment));
      res.json({ ticket: t });
    });
    await new Promise((resolve) => {
      this.server = app.listen(0, '127.0.0.1', () => resolve());
    });
    this.url = `http://127.0.0.1:${this.server.address().port}`;
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

module.exports = { FakeZendesk };
