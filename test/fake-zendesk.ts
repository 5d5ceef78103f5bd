import express from 'express';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';

interface FakeTicket {
  id: number;
  external_id: string;
  status: string;
  subject: string;
  comments: string[];
}

/**
 * A stand-in for Zendesk's Tickets and Uploads API on loopback, for load and
 * failure tests: it keeps tickets, counts every call, and can fail on demand.
 */
export class FakeZendesk {
  tickets: FakeTicket[] = [];
  calls: Array<{ method: string; path: string; at: number }> = [];
  /** While set, every call is answered with this status (and Retry-After, if given). */
  failing: { status: number; retryAfter?: string } | undefined;
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    const app = express();
    app.use(express.json({ limit: '10mb' }));
    app.use(express.raw({ type: () => true, limit: '10mb' }));
    app.use((req, res, next) => {
      this.calls.push({ method: req.method, path: req.path, at: Date.now() });
      if (this.failing) {
        if (this.failing.retryAfter) res.set('Retry-After', this.failing.retryAfter);
        res.status(this.failing.status).json({ error: 'Unavailable' });
        return;
      }
      next();
    });
    app.post('/api/v2/uploads', (_req, res) => {
      res.status(201).json({ upload: { token: `tok-${this.calls.length}` } });
    });
    app.post('/api/v2/tickets', (req, res) => {
      const t = req.body.ticket;
      const ticket = { id: this.tickets.length + 1, external_id: t.external_id, status: 'new', subject: t.subject, comments: [t.comment.body] };
      this.tickets.push(ticket);
      res.status(201).json({ ticket });
    });
    app.get('/api/v2/tickets', (req, res) => {
      res.json({ tickets: this.tickets.filter((t) => t.external_id === req.query.external_id) });
    });
    app.get('/api/v2/tickets/:id', (req, res) => {
      const t = this.tickets.find((x) => x.id === Number(req.params.id));
      if (t) res.json({ ticket: t });
      else res.status(404).json({ error: 'RecordNotFound' });
    });
    app.put('/api/v2/tickets/:id', (req, res) => {
      const t = this.tickets.find((x) => x.id === Number(req.params.id));
      if (!t) {
        res.status(404).json({ error: 'RecordNotFound' });
        return;
      }
      if (req.body.ticket.status) t.status = req.body.ticket.status;
      if (req.body.ticket.comment) t.comments.push(req.body.ticket.comment.body);
      res.json({ ticket: t });
    });
    await new Promise<void>((resolve) => {
      this.server = app.listen(0, '127.0.0.1', () => resolve());
    });
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  creates(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const t of this.tickets) counts.set(t.external_id, (counts.get(t.external_id) ?? 0) + 1);
    return counts;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections();
  }
}
