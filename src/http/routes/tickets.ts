import { z } from 'zod';
import { notFound } from '../../errors';
import type { Store } from '../../store';
import { ticketJson } from '../views';
import { parseQuery } from './query';
import { viewer, type Registrar } from './registrar';

const listQuery = z.strictObject({
  status: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});

/** The local ticket system's tickets. */
export function ticketRoutes(routes: Registrar, store: Store): void {
  routes.get('/api/v1/tickets', viewer, async (req, res) => {
    const q = parseQuery(listQuery, req);
    const { tickets, comments, attachments } = await store.repos.localTickets.list({ status: q.status, limit: q.limit, offset: q.offset });
    res.json({ tickets: tickets.map((t) => ticketJson(t, comments, attachments)) });
  });

  routes.get('/api/v1/tickets/:id/attachments/:attachment', viewer, async (req, res) => {
    const a = await store.repos.localTickets.attachment(Number(req.params.attachment));
    if (!a || String(a.ticket_id) !== req.params.id) throw notFound('attachment');
    // Shown as its own type, never sniffed or run as a page of ours, whatever an alert put in a record.
    res
      .type(a.content_type)
      .set('Content-Disposition', `inline; filename="${a.filename.replace(/[^\w.-]/g, '_')}"`)
      .set('X-Content-Type-Options', 'nosniff')
      .set('Content-Security-Policy', "default-src 'none'; sandbox")
      .send(a.content);
  });
}
