/**
 * A change people made to a ticket, as faultdesk hears of it from a ticket
 * system: a Zendesk webhook (event subscription or trigger), a ServiceNow
 * business rule, or a poll. Every way of hearing gives the same TicketEvent,
 * so hearing one change twice (webhook and poll, or a retried delivery)
 * changes nothing twice: `changeId` names the change, not the delivery.
 *
 * The faults stage turns it into the human events of decide() by comparing
 * it with what it knows of the fault's ticket (src/faults/ticket-events.ts).
 */
export interface TicketEvent {
  system: 'zendesk' | 'servicenow';
  /** The system's own id of the ticket (Zendesk ticket id, ServiceNow sys_id). */
  ticketId: string;
  /** faultdesk's fault id when the system sent it (Zendesk external_id, ServiceNow correlation_id). */
  faultId?: string;
  /**
   * Names this change across deliveries and polls, e.g. `zendesk:ticket:35436:audit:123` or
   * `servicenow:<sys_id>:<sys_mod_count>`; a comment's own id when the change is a comment.
   */
  changeId: string;
  /** When the change was made (epoch ms). */
  at: number;
  /** Who made it, as the system names them; used for the timeline and to ignore faultdesk's own API user. */
  actor?: { id?: string; email?: string; name?: string };
  /**
   * The ticket's status after the change, in faultdesk's words: new, working (Zendesk open,
   * ServiceNow In Progress), waiting (Zendesk pending/hold, ServiceNow On Hold), solved (Zendesk
   * solved, ServiceNow Resolved), closed (Zendesk closed, ServiceNow Closed), cancelled (ServiceNow Canceled).
   */
  status?: 'new' | 'working' | 'waiting' | 'solved' | 'closed' | 'cancelled';
  /** ServiceNow close_code, when the change resolved or closed it. */
  closeCode?: string;
  /** Zendesk tags after the change. */
  tags?: string[];
  /** The assignee after the change (id, e-mail or name; null: unassigned); absent: not known. */
  assignee?: string | null;
  /** The group after the change (Zendesk group_id, ServiceNow assignment_group sys_id or name). */
  group?: string | null;
  /** The group's name, when the system sent it besides its id (a tier may be configured by either). */
  groupName?: string;
  /** The priority after the change, in the system's words (Zendesk low…urgent, ServiceNow 1–5). */
  priority?: string;
  /** A comment people added with this change. */
  comment?: { id?: string; text: string; author?: string; public?: boolean };
}
