import type { Response } from 'express';
import { z } from 'zod';
import { notFound } from '../../errors';
import { renderRecord } from '../../faults/render';
import type { RuleEngine } from '../../rules';
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
export function ticketRoutes(routes: Registrar, store: Store, rules: () => RuleEngine): void {
  routes.get('/api/v1/tickets', viewer, async (req, res) => {
    const q = parseQuery(listQuery, req);
    const { tickets, comments, attachments } = await store.repos.localTickets.list({ status: q.status, limit: q.limit, offset: q.offset });
    res.json({ tickets: tickets.map((t) => ticketJson(t, comments, attachments)) });
  });

  routes.get('/api/v1/tickets/:id/attachments/:attachment', viewer, async (req, res) => {
    await sendAttachment(store, rules, String(req.params.id), Number(req.params.attachment), res);
  });
}

/** An attachment of a local ticket (the API's route and the console's): the fault record, kept by reference, rendered as it is now. */
export async function sendAttachment(store: Store, rules: () => RuleEngine, ticketId: string, attachmentId: number, res: Response): Promise<void> {
  const a = await store.repos.localTickets.attachment(attachmentId);
  if (!a || String(a.ticket_id) !== ticketId) throw notFound('attachment');
  let content = a.content;
  if (a.record_format) {
    const ticket = await store.repos.localTickets.get(a.ticket_id);
    const fault = ticket && (await store.repos.faults.get(ticket.fault_id));
    if (!fault) throw notFound('attachment');
    const record = renderRecord(fault, await store.repos.alerts.listByFault(fault.id), rules().category(fault.category));
    content = a.record_format === 'json' ? record.json : record.markdown;
  }
  // Shown as its own type, never sniffed or run as a page of ours, whatever an alert put in a record.
  res
    .type(a.content_type)
    .set('Content-Disposition', `inline; filename="${a.filename.replace(/[^\w.-]/g, '_')}"`)
    .set('X-Content-Type-Options', 'nosniff')
    .set('Content-Security-Policy', "default-src 'none'; sandbox")
    .send(content);
}
