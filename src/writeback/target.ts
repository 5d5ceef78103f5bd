import type { AlertRow, FaultRow, OutboxRow, WritebackRow } from '../store';

/** What an outbox write-back operation carries (planned by the unit of work from a WritebackIntent). */
export interface WritebackPayload {
  /** Who acknowledged. */
  by?: string;
  /** Why the acknowledgement ends: the fault resolved, a person closed the ticket, or the ack was withdrawn. */
  reason?: 'resolved' | 'closed' | 'withdrawn';
}

export type WritebackAction = 'acknowledge' | 'release';

/** Everything a target needs to decide what to write for one operation; read before it writes. */
export interface WritebackContext {
  op: OutboxRow;
  action: WritebackAction;
  payload: WritebackPayload;
  fault: FaultRow;
  /** The fault's alerts that came from this target's source. */
  alerts: readonly AlertRow[];
  /** What was written to this system about the fault before (undefined: nothing yet). */
  state: WritebackRow | undefined;
  now: number;
}

/** What the handler records once a write succeeded: the new state, and commands for an agent. */
export interface WritebackOutcome {
  state?: Pick<WritebackRow, 'ref' | 'active' | 'active_until'>;
  /** Commands queued for the system's agent (Nagios without local access to its command file). */
  commands?: string[];
}

/** One planned write: what it is (for the log and the dry run), and the call that makes it. */
export interface WritebackPlan {
  /** A secret-free sentence of what is written where. */
  describe: string;
  /** Nothing to write (already acknowledged, nothing to release): the operation is done as it is. */
  noop?: boolean;
  run(): Promise<WritebackOutcome>;
}

/** A monitoring system faultdesk writes back to; its name is the source's. */
export interface WritebackTarget {
  readonly system: string;
  plan(ctx: WritebackContext): WritebackPlan;
}

/** Nothing to do: the operation completes and the state stays as it is. */
export function noop(describe: string): WritebackPlan {
  return { describe, noop: true, run: async () => ({}) };
}

/** The ticket a fault's write-back names: "zendesk ticket #42 (https://…)", or that it has none yet. */
export function ticketText(fault: FaultRow): string {
  if (!fault.ticket_id) return `no ${fault.ticket_system} ticket yet`;
  return `${fault.ticket_system} ticket #${fault.ticket_id}${fault.ticket_url ? ` (${fault.ticket_url})` : ''}`;
}
