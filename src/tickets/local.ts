import type { Clock } from '../clock';
import type { Store } from '../store';
import { TicketClosedError, TicketSystemError, type NewTicket, type TicketChange, type TicketRef, type TicketSystem } from './types';

/**
 * Tickets kept in faultdesk's own database: the default system, useful out of
 * the box and as a shadow mode for new rules.
 */
export class LocalTicketSystem implements TicketSystem {
  readonly name = 'local' as const;
  readonly recordsByReference = true;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  async findByFault(faultId: string): Promise<TicketRef | undefined> {
    const row = await this.store.repos.localTickets.findOpenByFault(faultId);
    return row ? { id: String(row.id), status: row.status } : undefined;
  }

  /**
   * Idempotent by fault: a create for a fault that has a ticket not closed
   * returns that ticket; once it is closed, a recurrence gets a new one.
   */
  async create(ticket: NewTicket): Promise<TicketRef> {
    return this.store.transaction(async (tx) => {
      const existing = await tx.localTickets.findOpenByFault(ticket.faultId);
      if (existing) return { id: String(existing.id), status: existing.status };
      const now = this.clock.now();
      const body = ticket.relatedTicketId ? `${ticket.body}\n\nFollows closed ticket ${ticket.relatedTicketId}.` : ticket.body;
      const id = await tx.localTickets.insert({
        fault_id: ticket.faultId,
        status: 'open',
        subject: ticket.subject,
        body,
        priority: ticket.priority,
        fields: JSON.stringify(ticket.fields),
        created_at: now,
        updated_at: now,
      });
      for (const a of ticket.attachments) await tx.localTickets.addAttachment(id, a, now);
      return { id: String(id), status: 'open' };
    });
  }

  update(ref: TicketRef, change: TicketChange): Promise<TicketRef> {
    return this.change(ref, change, undefined);
  }

  resolve(ref: TicketRef, change: TicketChange & { solve: boolean }): Promise<TicketRef> {
    return this.change(ref, change, change.solve ? 'solved' : undefined);
  }

  reopen(ref: TicketRef, change: TicketChange): Promise<TicketRef> {
    return this.change(ref, change, 'open');
  }

  close(ref: TicketRef, change: TicketChange): Promise<TicketRef> {
    return this.change(ref, change, 'closed');
  }

  private async change(ref: TicketRef, change: TicketChange, status: string | undefined): Promise<TicketRef> {
    return this.store.transaction(async (tx) => {
      const id = Number(ref.id);
      const row = await tx.localTickets.get(id);
      if (!row) throw new TicketSystemError(`local ticket ${ref.id} does not exist`, 'not_found', false);
      if (row.status === 'closed') throw new TicketClosedError(ref.id);
      // Delivered before a crash, and now again: it is already there.
      if (change.idempotencyKey && (await tx.localTickets.hasComment(change.idempotencyKey))) return { id: ref.id, status: row.status };
      const now = this.clock.now();
      await tx.localTickets.addComment(id, change.comment, now, change.idempotencyKey ?? null);
      // The record is kept by reference, and shows the fault as it is whenever it is read: once is enough.
      const hasRecord = (change.attachments ?? []).some((a) => a.record) && (await tx.localTickets.hasRecord(id));
      for (const a of change.attachments ?? []) if (!(a.record && hasRecord)) await tx.localTickets.addAttachment(id, a, now);
      const next = status ?? row.status;
      await tx.localTickets.update(id, {
        status: next,
        priority: change.priority ?? row.priority,
        ...(change.subject ? { subject: change.subject } : {}),
        // The tier's group, as local tickets keep fields.
        ...(change.group !== undefined ? { fields: JSON.stringify({ ...(JSON.parse(row.fields) as object), group: change.group }) } : {}),
        updated_at: now,
      });
      return { id: ref.id, status: next };
    });
  }
}
