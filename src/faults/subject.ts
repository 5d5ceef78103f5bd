import type { Category } from '../rules';
import type { AlertRow, FaultRow } from '../store';
import { ticketContext } from './render';

/**
 * A fault's ticket subject: the category's subject template over the fault
 * and its alerts, on one line. The one place a subject is made: the ticket,
 * the mails, explain and rule tests all show this.
 */
export function ticketSubject(fault: FaultRow, alerts: readonly AlertRow[], category: Category | undefined): string {
  const text = category ? category.ticket.subject.render(ticketContext(fault, alerts, category)) : `${fault.category} ${fault.fault_key}`;
  return text.replace(/\s+/g, ' ').trim();
}
