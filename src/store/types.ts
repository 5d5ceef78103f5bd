import type { Insertable, Selectable } from 'kysely';
import type { AlertTable, FaultTable, OutboxTable, TicketAttachmentTable, TicketCommentTable, TicketTable, WritebackCommandTable, WritebackTable } from './schema';

export type FaultRow = Selectable<FaultTable>;
export type AlertRow = Selectable<AlertTable>;
export type NewAlertRow = Insertable<AlertTable>;
export type OutboxRow = Selectable<OutboxTable>;
export type NewOutboxRow = Insertable<OutboxTable>;
export type LocalTicketRow = Selectable<TicketTable>;
export type WritebackRow = Selectable<WritebackTable>;
export type WritebackCommandRow = Selectable<WritebackCommandTable>;
export type LocalTicketCommentRow = Selectable<TicketCommentTable>;
export type LocalTicketAttachmentInfo = Omit<Selectable<TicketAttachmentTable>, 'content'> & { size: number };

/**
 * One narrow store per stage of the flow. Each has a SQL implementation
 * (src/store/sql/, SQLite, PostgreSQL and MySQL/MariaDB through Kysely) and an in-memory
 * fake (src/store/memory/) that the core's unit tests use.
 */

export interface FaultFilter {
  state?: string;
  /** Faults in any of these states (the console's "live": open and flapping). */
  states?: readonly string[];
  category?: string;
  /** Faults held by this support tier. */
  tier?: string;
  /** Only faults a person acknowledged (true) or did not (false). */
  acknowledged?: boolean;
  /**
   * opened (the default): newest first. urgency: live faults before resolved
   * ones, then by fault severity, newest first (the console's order).
   */
  order?: 'opened' | 'urgency';
  limit: number;
  offset: number;
}

/** Faults, as the lifecycle and the read API need them. */
export interface FaultStore {
  /**
   * Whether findCurrent and getMany lock the rows they return until commit (PostgreSQL and MySQL,
   * which replicas share). Where they do not, the store has one writer (SQLite, memory) and
   * what a transaction has read stays as read until it ends.
   */
  readonly locksRows: boolean;
  /** The current fault of each ident (locked until commit where replicas share the store). */
  findCurrent(idents: readonly string[]): Promise<FaultRow[]>;
  /** Faults by id (locked likewise). */
  getMany(ids: readonly string[]): Promise<FaultRow[]>;
  get(id: string): Promise<FaultRow | undefined>;
  insertMany(rows: readonly FaultRow[]): Promise<void>;
  /**
   * Writes faults that exist. Where `was` holds a row as it was read in this transaction, a store
   * may write only the columns that differ from it (SQLite does: fewer pages and no index entries
   * touched); the others write whole rows.
   */
  updateMany(rows: readonly FaultRow[], was?: ReadonlyMap<string, FaultRow>): Promise<void>;
  setTicket(id: string, ticket: { ticket_id?: string | null; ticket_status?: string | null; ticket_url?: string | null; ticket_error?: string | null }): Promise<void>;
  list(filter: FaultFilter): Promise<FaultRow[]>;
  listCurrentInState(state: string): Promise<FaultRow[]>;
  /** Resolved faults whose durations say how long repairs take (not the ones the stale sweep closed). */
  resolvedSince(since: number): Promise<Array<{ category: string; severity: number; opened_at: number; resolved_at: number | null }>>;
  /** Live faults past their due time that have not been escalated as at risk yet. */
  overdueNotFlagged(now: number): Promise<FaultRow[]>;
  countOverdue(now: number): Promise<number>;
  findByTicket(system: string, ticketId: string): Promise<FaultRow | undefined>;
  countByState(): Promise<Record<string, number>>;
  countByCategoryAndState(): Promise<Array<{ category: string; state: string; n: number }>>;
  /** Live faults (current, not resolved) by their tier. */
  countByTier(): Promise<Array<{ tier: string; n: number }>>;
}

/** The alerts of faults. */
export interface AlertStore {
  /** Alerts with these idents held by current faults (any state). */
  findInCurrentFaults(idents: readonly string[]): Promise<AlertRow[]>;
  /** Alerts with these idents that belong to these faults. */
  findInFaults(faultIds: readonly string[], idents: readonly string[]): Promise<AlertRow[]>;
  /** Live faults whose firing alerts all come from `sources` and none of which was received since `cutoff`. */
  staleFaults(cutoff: number, sources: readonly string[]): Promise<string[]>;
  firingOf(faultId: string): Promise<AlertRow[]>;
  /** Inserts the rows and sets the id of each. */
  insert(rows: ReadonlyArray<NewAlertRow & { id?: number }>): Promise<void>;
  /** Writes alerts that exist; `was` as for faults. */
  updateMany(rows: readonly AlertRow[], was?: ReadonlyMap<number, AlertRow>): Promise<void>;
  touch(ids: readonly number[], at: number): Promise<void>;
  listByFault(faultId: string, limit?: number): Promise<AlertRow[]>;
}

/** The outbox: durable operations for ticket systems and e-mail, in ordering lines. */
export interface OutboxStore {
  insert(row: NewOutboxRow): Promise<number>;
  /** Inserts many, in order (their ids follow that order), in as few statements as the parameter limit allows. */
  insertMany(rows: readonly NewOutboxRow[]): Promise<void>;
  /** Operations of these faults' lines not yet taken by a worker, oldest first. */
  pendingOfFaults(faultIds: readonly string[]): Promise<OutboxRow[]>;
  /** Rewrites what a waiting operation carries; it stays due when it was. */
  replacePayload(id: number, payload: string, now: number): Promise<void>;
  /** Removes an operation no worker has taken yet (it was folded into another). */
  delete(id: number): Promise<void>;
  /** Due operations that are first in line (an older one of their line and system is not waiting). */
  due(now: number, limit: number, system: string): Promise<OutboxRow[]>;
  /** Claims up to `limit` due operations first in line, skipping rows another replica is claiming. */
  claimDue(now: number, limit: number, system: string, leaseUntil: number): Promise<OutboxRow[]>;
  /** Takes one operation if nobody else has; true when this caller got it. */
  claim(id: number, now: number, leaseUntil: number): Promise<boolean>;
  complete(id: number, now: number): Promise<void>;
  retryLater(id: number, nextAttemptAt: number, error: string, now: number): Promise<void>;
  park(id: number, error: string, now: number): Promise<void>;
  /** Operations whose worker died mid-flight go back in line. */
  releaseExpiredClaims(now: number): Promise<number>;
  statsBySystem(): Promise<Array<{ system: string; depth: number; parked: number; oldestCreatedAt: number | null }>>;
  listByFault(faultId: string): Promise<OutboxRow[]>;
  list(filter: { state?: string; system?: string; limit: number; offset: number }): Promise<OutboxRow[]>;
  /** Puts parked operations back in line (all, or those named); how many. */
  retryParked(now: number, which: { ids?: readonly number[]; faultId?: string }): Promise<number>;
}

/** What the mail planner reads: the mails queued recently, for digests. */
export interface MailStore {
  /** Mail operations of these kinds created since `since`, oldest first. */
  recent(kinds: readonly string[], since: number): Promise<OutboxRow[]>;
}

/** The local ticket system's tickets. */
export interface LocalTicketStore {
  /** The fault's newest ticket that is not closed. */
  findOpenByFault(faultId: string): Promise<LocalTicketRow | undefined>;
  get(id: number): Promise<LocalTicketRow | undefined>;
  insert(row: Omit<LocalTicketRow, 'id'>): Promise<number>;
  update(id: number, set: Partial<Omit<LocalTicketRow, 'id'>>): Promise<void>;
  addComment(ticketId: number, body: string, at: number, opKey?: string | null): Promise<void>;
  hasComment(opKey: string): Promise<boolean>;
  /** With `record`, the attachment is the fault's record by reference: its content is not stored. */
  addAttachment(ticketId: number, a: { filename: string; contentType: string; content: string; record?: string }, at: number): Promise<void>;
  /** Whether the ticket holds the fault's record by reference already. */
  hasRecord(ticketId: number): Promise<boolean>;
  list(filter: { status?: string; /** One ticket, with its comments and attachments. */ id?: number; limit: number; offset: number }): Promise<{
    tickets: LocalTicketRow[];
    comments: LocalTicketCommentRow[];
    attachments: LocalTicketAttachmentInfo[];
  }>;
  attachment(id: number): Promise<(LocalTicketAttachmentInfo & { content: string }) | undefined>;
}

export interface FitRow {
  category: string;
  a: number;
  b: number;
  samples: number;
  rmse_hours: number;
  fitted_at: number;
}

/** Fitted repair-time models. */
export interface FitStore {
  insert(row: FitRow): Promise<void>;
  /** The newest fit of each category. */
  latest(): Promise<FitRow[]>;
}

export interface RatingRow {
  fault_id: string;
  category: string;
  score: number;
  source: string;
  external_id: string | null;
  comment: string | null;
  rated_at: number;
}

/** Satisfaction ratings. */
export interface SatisfactionStore {
  /** Stores a rating; one pulled from a ticket system is stored once (by its own id). */
  insert(row: RatingRow): Promise<boolean>;
  summary(since: number): Promise<Array<{ category: string; sum: number; n: number }>>;
  lastPulled(source: string): Promise<number | undefined>;
}

/**
 * What the human loop has heard from the ticket systems: the changes and deliveries already
 * applied (so a retried webhook, or a poll of a change a webhook brought, does nothing twice), and
 * where each poller got to.
 */
export interface InboundStore {
  /** Records a key (a change id, a delivery's invocation id); false when it was recorded before. */
  remember(key: string, at: number): Promise<boolean>;
  /** Forgets keys recorded before `before`; how many. */
  forget(before: number): Promise<number>;
  /** A poller's cursor, as it last saved it. */
  cursor(name: string): Promise<string | undefined>;
  saveCursor(name: string, value: string, at: number): Promise<void>;
}

/** Scheduled jobs shared by replicas. */
export interface JobStore {
  /**
   * Runs `work` unless another replica runs the same job now or ran it in this
   * second. True when this caller ran it.
   */
  runOnce(name: string, now: number, work: () => Promise<unknown>): Promise<boolean>;
}

/** Write-back to monitoring: what was written per fault and system, and the commands an agent fetches. */
export interface WritebackStore {
  get(faultId: string, system: string): Promise<WritebackRow | undefined>;
  listByFault(faultId: string): Promise<WritebackRow[]>;
  /** Inserts or replaces the row of its fault and system. */
  put(row: WritebackRow): Promise<void>;
  /**
   * Faults still acknowledged and not resolved whose write-back to `system` is active and ends
   * before `before` (a silence to extend), oldest end first.
   */
  renewalsDue(system: string, before: number, limit: number): Promise<string[]>;
  /** Queues a command for the system's agent; its id. */
  queueCommand(row: { system: string; fault_id: string; command: string; created_at: number }): Promise<number>;
  /** Commands the agent has not confirmed yet, oldest first; marks them fetched. */
  fetchCommands(system: string, limit: number, now: number): Promise<WritebackCommandRow[]>;
  /** The agent wrote the command: confirmed now, confirmed before, or never queued. */
  completeCommand(system: string, id: number, now: number): Promise<'confirmed' | 'already' | 'unknown'>;
  /** How many commands wait for the system's agent, and since when. */
  commandBacklog(system: string): Promise<{ waiting: number; oldestCreatedAt: number | null }>;
}

/** What one batch of the retention purge deleted. */
export interface PurgeCounts {
  faults: number;
  alerts: number;
  outbox: number;
  localTickets: number;
}

/** Deletes what is past retention; each call is one small batch for one short transaction. */
export interface RetentionStore {
  /**
   * Deletes up to `limit` faults resolved before `before` (oldest first) with their alerts,
   * outbox rows and local tickets (comments, attachments). A fault whose outbox still holds
   * an undelivered or parked operation is kept; so is every fault not resolved.
   */
  purgeFaults(before: number, limit: number): Promise<PurgeCounts>;
  /** Deletes up to `limit` delivered digest mails older than `before`; how many. */
  purgeLoose(before: number, limit: number): Promise<number>;
}

/** The stores of every stage, over one executor: the root connection or a transaction. */
export interface Repos {
  faults: FaultStore;
  alerts: AlertStore;
  outbox: OutboxStore;
  mail: MailStore;
  localTickets: LocalTicketStore;
  fits: FitStore;
  satisfaction: SatisfactionStore;
  inbound: InboundStore;
  writebacks: WritebackStore;
  retention: RetentionStore;
}

/** The SQL dialects: mysql is MySQL and MariaDB. */
export type Dialect = 'sqlite' | 'postgres' | 'mysql';

export interface Store {
  readonly dialect: Dialect | 'memory';
  /** The stores outside any transaction, for reads and single statements. */
  readonly repos: Repos;
  readonly jobs: JobStore;
  /** Runs `work` in one transaction: all of it commits, or none of it. */
  transaction<T>(work: (tx: Repos) => Promise<T>): Promise<T>;
  /** True while the database answers. */
  ping(): Promise<boolean>;
  /** The store's size on disk in bytes (SQLite pages in use and free; PostgreSQL and MySQL faultdesk's tables and indexes). */
  sizeBytes(): Promise<number>;
  /**
   * Gives up to `maxPages` freed pages back to the file system where the store can (a SQLite
   * file made with incremental vacuum); the number of free pages left to give back.
   */
  compact(maxPages: number): Promise<number>;
  /** Whether an error is a lost race another attempt may win: unique conflicts, deadlocks, serialization. */
  isRetryable(err: unknown): boolean;
  close(): Promise<void>;
}
