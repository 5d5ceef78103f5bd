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
  updated_at: string;
  assignee_id: number | string | null;
  group_id: number | string | null;
  priority: string | null;
  tags: string[];
}

/** A person's change in the agent UI (see FakeZendesk.humanChange). */
export interface HumanChange {
  status?: string;
  assignee_id?: number | string | null;
  group_id?: number | string | null;
  priority?: string;
  tags?: string[];
  comment?: string;
}

export interface Delivery {
  status: number;
  body: string;
  invocationId: string;
  raw: string;
  timestamp: string;
}

export interface FakeCall {
  method: string;
  path: string;
  at: number;
  /** The fault the call was about (the ticket's external_id), for ticket calls. */
  faultId?: string;
  kind?: 'create' | 'lookup' | 'read' | 'show_many' | 'me' | 'resolve' | 'reopen' | 'escalate' | 'update' | 'flapping' | 'comment';
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
  /** Where humanChange posts its events, and the signing secret. */
  webhook: { url: string; secret: string } | undefined;
  /** The id GET /api/v2/users/me answers with (faultdesk's API user). */
  apiUserId: number;
  /** The time webhooks are signed with and tickets stamped with. */
  clock: () => number;
  start(): Promise<void>;
  humanChange(ticketId: number | string, change: HumanChange, actor: { id: number | string; email?: string; name?: string }): Promise<Delivery[]>;
  eventBody(ticket: FakeTicket, type: string, event: Record<string, unknown>, actor: { id: number | string }): Record<string, unknown>;
  deliver(body: unknown, opts?: { invocationId?: string; timestamp?: string; secret?: string }): Promise<Delivery>;
  creates(): Map<string, number>;
  live(faultId: string): FakeTicket[];
  stop(): Promise<void>;
}
