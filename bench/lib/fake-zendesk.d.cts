export interface FakeTicket {
  id: number;
  external_id: string;
  status: string;
  subject: string;
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
}

export declare class FakeZendesk {
  tickets: FakeTicket[];
  calls: FakeCall[];
  failing: { status: number; retryAfter?: string } | undefined;
  url: string;
  start(): Promise<void>;
  creates(): Map<string, number>;
  stop(): Promise<void>;
}
