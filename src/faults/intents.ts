import type { MailEvent } from '../config/schema';

/** What an outbox operation asks of a ticket system. */
export type OperationKind = 'create' | 'update' | 'escalate' | 'resolve' | 'reopen' | 'flapping' | 'comment' | 'assign' | 'close';

export interface OperationPayload {
  /** What changed, one line each, for the ticket comment. */
  changes: string[];
  /** escalate: severity before and after. */
  fromFs?: number;
  toFs?: number;
  /** resolve: set the ticket solved, or only comment. */
  solve?: boolean;
  /** A sentence that heads the comment (flapping, settling). */
  note?: string;
}

/**
 * What must happen outside because of a decision: the output of decide(),
 * turned into outbox operations by the unit of work (outbox/line.ts for a
 * fault's ticket line, notify/planner.ts for mails).
 */
export type Intent = TicketIntent | MailIntent | WritebackIntent;

export interface TicketIntent {
  kind: 'ticket';
  op: OperationKind;
  payload: OperationPayload;
  /** An update that waits for the fault's update interval and gathers the changes until then. */
  paced?: boolean;
  /** A source's comment that joins an escalation queued in the same batch (one comment says both). */
  joinsEscalation?: boolean;
}

/**
 * Telling the monitoring systems the fault's alerts came from (src/writeback): acknowledge (an
 * Alertmanager silence, a Zabbix acknowledgement, a Nagios ACKNOWLEDGE_*_PROBLEM) so nobody is paged
 * again for what is being worked on, or release (expire the silence) when that ends.
 */
export interface WritebackIntent {
  kind: 'writeback';
  action: 'acknowledge' | 'release';
  /** Who acknowledged, for the monitoring system's record. */
  by?: string;
  /** Why it is released: resolved, closed (a person closed the ticket), withdrawn. */
  reason?: 'resolved' | 'closed' | 'withdrawn';
}

export interface MailIntent {
  kind: 'mail';
  event: MailEvent;
  changes: string[];
}

export type TransitionName =
  | 'opened'
  | 'escalated'
  | 'resolved'
  | 'reopened'
  | 'flapping'
  | 'settled'
  | 'superseded'
  | 'at_risk'
  | 'acknowledged'
  | 'handled'
  | 'closed_by_human'
  | 'tier_escalated'
  | 'tier_changed';
