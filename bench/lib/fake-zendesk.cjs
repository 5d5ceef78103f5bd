// A stand-in for Zendesk's Tickets and Uploads API on loopback, shared by the load
// and failure tests (test/) and the storm benchmark (bench/): it keeps tickets,
// records every call, and can fail on demand. Request and response shapes follow
// shared/reference (Zendesk Tickets API).
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
    this.server = undefined;
    this.url = '';
  }

  async start() {
    const app = express();
    app.use(express.json({ limit: '10mb' }));
    app.use(express.raw({ type: () => true, limit: '10mb' }));
    app.use((req, res, next) => {
      const call = { method: req.method, path: req.path, at: Date.now() };
      this.calls.push(call);
      req.call = call;
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
    app.post('/api/v2/tickets', (req, res) => {
      const t = req.body.ticket;
      const ticket = { id: this.tickets.length + 1, external_id: t.external_id, status: 'new', subject: t.subject, comments: [commentText(t.comment)] };
      this.tickets.push(ticket);
      Object.assign(req.call, { faultId: t.external_id, kind: 'create' });
      res.status(201).json({ ticket });
    });
    app.get('/api/v2/tickets', (req, res) => {
      Object.assign(req.call, { faultId: req.query.external_id, kind: 'lookup' });
      res.json({ tickets: this.tickets.filter((t) => t.external_id === req.query.external_id) });
    });
    app.get('/api/v2/tickets/:id', (req, res) => {
      const t = find(req.params.id);
      Object.assign(req.call, { faultId: t && t.external_id, kind: 'read' });
      if (t) res.json({ ticket: t });
      else res.status(404).json({ error: 'RecordNotFound' });
    });
    app.put('/api/v2/tickets/:id', (req, res) => {
      const t = find(req.params.id);
      if (!t) {
        res.status(404).json({ error: 'RecordNotFound' });
        return;
      }
      Object.assign(req.call, { faultId: t.external_id, kind: kindOfPut(t, req.body.ticket) });
      if (req.body.ticket.status) t.status = req.body.ticket.status;
      if (req.body.ticket.comment) t.comments.push(commentText(req.body.ticket.comment));
      res.json({ ticket: t });
    });
    await new Promise((resolve) => {
      this.server = app.listen(0, '127.0.0.1', () => resolve());
    });
    this.url = `http://127.0.0.1:${this.server.address().port}`;
  }

  /** Tickets created per fault (external_id). */
  creates() {
    const counts = new Map();
    for (const t of this.tickets) counts.set(t.external_id, (counts.get(t.external_id) || 0) + 1);
    return counts;
  }

  async stop() {
    await new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    if (this.server) this.server.closeAllConnections();
  }
}

module.exports = { FakeZendesk };
