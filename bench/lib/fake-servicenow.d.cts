export interface FakeIncident {
  sys_id: string;
  number: string;
  /** 1 New, 2 In Progress, 3 On Hold, 6 Resolved, 7 Closed, 8 Canceled. */
  state: string;
  correlation_id?: string;
  short_description?: string;
  description?: string;
  sys_created_on: string;
  /** Work notes and comments, oldest first. */
  journal: Array<{ field: 'work_notes' | 'comments'; text: string; created_by?: string }>;
  sys_updated_on?: string;
  sys_updated_by?: string;
  sys_mod_count?: string;
  attachments: Array<{ sys_id: string; file_name: string; size_bytes: string }>;
  [field: string]: unknown;
}

export interface FakeSnCall {
  method: string;
  path: string;
  at: number;
  faultId?: string;
  kind?: string;
  failed?: number;
  /** The HTTP status it was answered with (none when the connection was dropped). */
  status?: number;
}

/** One create's injected fault: answer late (the insert still happens), drop the connection after the insert, or insert only when the next create arrives (just before that one). */
export interface CreateFault {
  delayMs?: number;
  drop?: boolean;
  holdUntilNextCreate?: boolean;
}

export declare class FakeServiceNow {
  constructor(options?: { username?: string; password?: string });
  incidents: FakeIncident[];
  calls: FakeSnCall[];
  ignoredQuery: string[];
  createFaults: CreateFault[];
  failing: { status: number; retryAfter?: string } | undefined;
  url: string;
  /** The time records are stamped with. */
  clock: () => number;
  start(): Promise<void>;
  live(faultId: string): FakeIncident[];
  /** A person changes an incident in the UI (journal fields add an entry); stamped as the instance stamps it. */
  humanChange(sysId: string, change: Record<string, string | null>, user: string): FakeIncident;
  stop(): Promise<void>;
}
