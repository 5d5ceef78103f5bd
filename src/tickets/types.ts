import type { Clock } from '../clock';
import { DeliveryError, type FailureReason } from '../delivery';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import type { FieldValue, TicketSystemName } from '../rules';

export type { FieldValue } from '../rules';

export interface TicketRef {
  id: string;
  /** The system's own status word (local: open, solved, closed). */
  status: string;
  url?: string;
}

export interface Attachment {
  filename: string;
  contentType: string;
  content: string;
  /**
   * The fault record in this format: a system that holds the fault itself (local tickets) keeps a
   * reference and renders the record when it is read, so the record is stored once, with the fault.
   */
  record?: RecordFormat;
}

export type RecordFormat = 'markdown' | 'json';

export interface NewTicket {
  faultId: string;
  /** Stable across retries of one create operation: a connector that must resend the same request (Zendesk's Idempotency-Key) remembers it by this. */
  idempotencyKey?: string;
  subject: string;
  body: string;
  /** faultdesk's priority word from the category's bands (e.g. urgent, high, normal, low). */
  priority: string;
  /** Fault severity, 1–10, for systems that derive their own levels from it. */
  fs: number;
  /** The category's fields for this system, rendered. */
  fields: Record<string, FieldValue>;
  attachments: Attachment[];
  /** A closed ticket this one continues, when a fault recurs after its ticket was closed. */
  relatedTicketId?: string;
}

export interface TicketChange {
  comment: string;
  /** The same for every delivery of one operation: a system that can, writes it once. */
  idempotencyKey?: string;
  /** A new priority (escalations, the update after a downtime), with the FS it came from. */
  priority?: string;
  fs?: number;
  attachments?: Attachment[];
  /** The category's fields, rendered: some systems need them to resolve (close codes). */
  fields?: Record<string, FieldValue>;
  /** The group of the support tier the fault moved to (Zendesk group_id, ServiceNow assignment_group). */
  group?: FieldValue;
  /** A new subject (an escalation changed what the fault is). */
  subject?: string;
}

export type { FailureReason } from '../delivery';

/** A ticket system's failure. */
export class TicketSystemError extends DeliveryError {
  constructor(
    message: string,
    reason: FailureReason,
    retryable: boolean,
    retryAfterMs?: number,
    /**
     * The request may have been carried out even so (a timeout, a dropped
     * connection, a 5xx, a 409 while the same request is still in progress):
     * for a create, the ticket may exist.
     */
    readonly uncertain = false,
  ) {
    super(message, reason, retryable, retryAfterMs);
    this.name = 'TicketSystemError';
  }
}

/** The ticket is closed for good: a recurrence needs a new ticket. */
export class TicketClosedError extends TicketSystemError {
  constructor(id: string) {
    super(`ticket ${id} is closed and cannot be reopened`, 'closed', false);
    this.name = 'TicketClosedError';
  }
}

/**
 * A help-desk system. Every method may be called again after a crash or a
 * timeout, so `create` callers look up `findByFault` first when an earlier
 * attempt may have reached the system.
 */
export interface TicketSystem {
  readonly name: TicketSystemName;
  /** The system keeps the fault record by reference (Attachment.record) and never reads its content. */
  readonly recordsByReference?: boolean;
  findByFault(faultId: string): Promise<TicketRef | undefined>;
  create(ticket: NewTicket): Promise<TicketRef>;
  /** A comment, and a priority change when given. */
  update(ref: TicketRef, change: TicketChange): Promise<TicketRef>;
  /** A comment, and the solved state when `solve` is true. */
  resolve(ref: TicketRef, change: TicketChange & { solve: boolean }): Promise<TicketRef>;
  /** A comment and the open state; throws TicketClosedError for a closed ticket. */
  reopen(ref: TicketRef, change: TicketChange): Promise<TicketRef>;
  /** A comment and the closed state: a person closed the fault through faultdesk. */
  close(ref: TicketRef, change: TicketChange): Promise<TicketRef>;
  /** Customer satisfaction ratings given since `since` (ms), for systems that collect them. */
  satisfactionRatings?(since: number): Promise<PulledRating[]>;
}

/** A satisfaction rating as a ticket system reports it. */
export interface PulledRating {
  id: string;
  ticketId: string;
  /** The system's own word or number (Zendesk: good, bad). */
  score: string;
  comment?: string;
  ratedAt: number;
}

/** What a connector to an external ticket system needs besides its options. */
export interface ConnectorDeps {
  logger: Logger;
  clock: Clock;
  /** Counts the duplicates a connector found and canceled. */
  metrics: Pick<Metrics, 'ticketDuplicates'>;
}
