import type { Generated } from 'kysely';

/**
 * Table shapes, shared by every dialect. Times are epoch milliseconds; JSON
 * columns hold text so that SQLite and PostgreSQL read back the same values.
 */
export interface FaultTable {
  id: string;
  /** category + "\u001f" + key: what identifies a fault. */
  ident: string;
  /** 1 for the fault that new alerts of its ident join; NULL once superseded (unique with ident). */
  current: number | null;
  category: string;
  fault_key: string;
  key_labels: string;
  state: string;
  severity: number;
  priority: string;
  repair_time_hours: number;
  rt_a: number;
  rt_b: number;
  opened_at: number;
  due_at: number;
  resolved_at: number | null;
  updated_at: number;
  /** When the last update or escalation was scheduled; paces coalesced updates. */
  last_update_at: number | null;
  alert_count: number;
  firing_count: number;
  /** Times of recent state changes, for flapping detection (JSON array). */
  state_changes: string;
  last_change_at: number;
  /** The ticket state faultdesk last asked for: open or solved. */
  ticket_wanted: string;
  ticket_system: string;
  ticket_id: string | null;
  ticket_status: string | null;
  ticket_url: string | null;
  ticket_error: string | null;
  rule_file: string;
  rule_line: number;
  summary: string;
  timeline: string;
  /** 1 during a downtime the source announced: ticket updates wait until it ends. */
  muted: number;
  /** When each kind of mail about this fault was last queued, and what the fault looked like then (JSON). */
  mail_log: string;
  /** When the fault was found past its due time and escalated as at risk (once). */
  at_risk_at: number | null;
  /** 1 when the stale sweep resolved it. */
  stale: number;
  /** The human loop: who took the fault, and when. */
  acknowledged_at: number | null;
  acknowledged_by: string | null;
  /** A person solved the ticket while alerts still fired: no more updates but escalations. */
  handled_at: number | null;
  handled_by: string | null;
  /** A person closed (or cancelled, or won't fix) the ticket: faultdesk never reopens it. */
  human_closed_at: number | null;
  human_closed_by: string | null;
  close_code: string | null;
  /** A priority a person set on the ticket: faultdesk stops overriding it. */
  priority_pinned: string | null;
  /** The support tier that holds the fault, and who held it when (JSON array). */
  tier: string | null;
  tier_history: string;
  /** How often the fault reopened, for tier escalation. */
  reopen_count: number;
  /** The closed ticket this fault's ticket continues ("system:id"). */
  follows_ticket: string | null;
  /** What faultdesk last heard of its ticket (status, assignee, group, priority; JSON), to tell what people changed. */
  ticket_seen: string;
}

export interface RepairTimeFitTable {
  id: Generated<number>;
  category: string;
  a: number;
  b: number;
  samples: number;
  rmse_hours: number;
  fitted_at: number;
}

export interface SatisfactionTable {
  id: Generated<number>;
  fault_id: string;
  category: string;
  /** 1–10 */
  score: number;
  /** api, or the ticket system it was pulled from */
  source: string;
  external_id: string | null;
  comment: string | null;
  rated_at: number;
}

export interface AlertTable {
  id: Generated<number>;
  fault_id: string;
  /** source + ":" + source id */
  ident: string;
  source: string;
  source_id: string;
  status: string;
  labels: string;
  annotations: string;
  starts_at: number;
  ends_at: number | null;
  generator_url: string | null;
  fs: number;
  first_received_at: number;
  last_received_at: number;
}

export interface OutboxTable {
  id: Generated<number>;
  /**
   * The ordering line: operations of one line and system are delivered one
   * after another, in id order. `fault:<id>` for a fault's operations,
   * `digest:<recipients>` for digest mails.
   */
  line: string;
  /** The fault the operation is about (a foreign key); null for a digest. */
  fault_id: string | null;
  system: string;
  kind: string;
  payload: string;
  /** pending | running | done | parked */
  state: string;
  attempts: number;
  next_attempt_at: number;
  claimed_until: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

export interface TicketTable {
  id: Generated<number>;
  fault_id: string;
  status: string;
  subject: string;
  body: string;
  priority: string;
  fields: string;
  created_at: number;
  updated_at: number;
}

export interface TicketCommentTable {
  id: Generated<number>;
  ticket_id: number;
  body: string;
  created_at: number;
  op_key: string | null;
}

export interface TicketAttachmentTable {
  id: Generated<number>;
  ticket_id: number;
  filename: string;
  content_type: string;
  /** Empty for a fault record (record_format set): it is rendered from the fault when read. */
  content: string;
  created_at: number;
  /** markdown | json: this attachment is the fault's record, kept by reference; null: content as stored. */
  record_format: string | null;
}

/** Inbound deliveries and changes already applied, so a retried webhook or a poll of the same change does nothing twice. */
export interface InboundSeenTable {
  key: string;
  seen_at: number;
}

/** Where a poller got to (a time or an opaque cursor), so that it survives a restart. */
export interface CursorTable {
  name: string;
  value: string;
  updated_at: number;
}

/** What faultdesk wrote back to a monitoring system about a fault; one row per fault and system. */
export interface WritebackTable {
  fault_id: string;
  system: string;
  /** The system's id of what was written (an Alertmanager silence id). */
  ref: string | null;
  /** 1 while the acknowledgement stands in the system, 0 once released. */
  active: number;
  /** When what was written ends by itself (a silence's endsAt), if it does. */
  active_until: number | null;
  updated_at: number;
}

/** A command waiting for the agent on a monitoring host (Nagios' external commands). */
export interface WritebackCommandTable {
  id: Generated<number>;
  system: string;
  fault_id: string;
  command: string;
  created_at: number;
  /** When the agent last fetched it (it may fetch again until it confirms). */
  fetched_at: number | null;
  /** When the agent confirmed it wrote it. */
  done_at: number | null;
}

export interface Database {
  faults: FaultTable;
  alerts: AlertTable;
  outbox: OutboxTable;
  local_tickets: TicketTable;
  local_ticket_comments: TicketCommentTable;
  local_ticket_attachments: TicketAttachmentTable;
  repair_time_fits: RepairTimeFitTable;
  job_runs: { name: string; slot: number; started_at: number };
  satisfaction: SatisfactionTable;
  inbound_seen: InboundSeenTable;
  cursors: CursorTable;
  writebacks: WritebackTable;
  writeback_commands: WritebackCommandTable;
}
