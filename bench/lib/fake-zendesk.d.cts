export interface FakeTicket {
  id: number;
  external_id: string;
  /** The external_id it was created with (faultdesk renames a duplicate's). */
  created_for: string;
  status: string;
  subject: string;
  created_at: string;
  /** Each comment as an agent reads it (html_body rendered to text). */
  comments: string[];
}

export interface FakeCall {
  method: string;
  path: string;
  at: number;
  /** The fault the call was about (the ticket's external_id), for ticket calls. */
  faultId?: string;
  kind?: 'create' | 'lookup' | 'read' | 'resolve' | 'reopen' | 'escalate' | 'update' | 'flapping' | 'comment';
  /** The status it was failed with, while `failing` was set. */
  failed?: number;
  /** The HTTP status it was answered with (none when the connection was dropped). */
  status?: number;
  idempotencyKey?: string;
  /** For creates with an Idempotency-Key: whether the key was new (miss) or seen before (hit). */
  idempotency?: 'hit' | 'miss';
}

/** One create's injected fault: answer late (the ticket is still made), drop the connection after making it, or make it only when the next create arrives (just before that one). */
export interface CreateFault {
  delayMs?: number;
  drop?: boolean;
  holdUntilNextCreate?: boolean;
}

export declare class FakeZendesk {
  tickets: FakeTicket[];
  calls: FakeCall[];
  failing: { status: number; retryAfter?: string } | undefined;
  createFaults: CreateFault[];
  url: string;
  start(): Promise<void>;
  creates(): Map<string, number>;
  live(faultId: string): FakeTicket[];
  stop(): Promise<void>;
}
