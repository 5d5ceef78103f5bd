import type { Category } from '../rules';
import type { AlertRow, FaultRow } from '../store';
import { renderSubject, ticketContext } from './render';

/**
 * A fault's ticket subject: the category's subject template over the fault
 * and its alerts, on one line (a fallback naming what is broken if the
 * template fails). The one place a subject is made: the ticket, the mails,
 * explain and rule tests all show this.
 */
export function ticketSubject(fault: FaultRow, alerts: readonly AlertRow[], category: Category | undefined, now?: number): string {
  return renderSubject(category, ticketContext(fault, alerts, category, { now }));
}
