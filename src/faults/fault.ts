import type { MailEvent } from '../config/schema';
import type { Alert } from '../sources';
import type { AlertRow, FaultRow, NewAlertRow } from '../store';

export type FaultState = 'open' | 'flapping' | 'resolved';

export interface TimelineEntry {
  at: number;
  event: string;
  detail?: string;
  /** Who did it, for people's actions (a ticket system's user, an operator). */
  by?: string;
  /** Where a person's action was taken: api, cli, console, zendesk, servicenow. */
  via?: string;
}

export interface Timeline {
  omitted: number;
  entries: TimelineEntry[];
}

/** What the fault looked like when it was last mailed about, to tell what changed since. */
export interface MailSnapshot {
  at: number;
  fs: number;
  priority: string;
  state: string;
  firing: number;
  alerts: number;
}

export interface MailLog {
  sent?: Partial<Record<MailEvent, number>>;
  last?: MailSnapshot;
}

/** A person's mark on a fault: who, and when. */
export interface Mark {
  at: number;
  by: string;
}

/** A support tier that held the fault, from when to when (to: null while it holds it). */
export interface TierSpan {
  tier: string;
  from: number;
  to: number | null;
  /** Who moved it there, when a person did. */
  by?: string;
  /** Why it moved: start, due, reopens, severity, reassigned. */
  reason: string;
}

/** A fault as the lifecycle core sees it: the stored row, with its JSON columns read. */
export interface Fault {
  id: string;
  /** category + "\u001f" + key: what identifies a fault. */
  ident: string;
  /** The fault new alerts of its ident join; false once a newer fault took its ident. */
  current: boolean;
  category: string;
  key: string;
  keyLabels: Record<string, string>;
  state: FaultState;
  severity: number;
  priority: string;
  repairTimeHours: number;
  /** The repair-time model the estimate came from. */
  model: { a: number; b: number };
  openedAt: number;
  dueAt: number;
  resolvedAt: number | null;
  updatedAt: number;
  /** When the last ticket update or escalation was scheduled; paces coalesced updates (see outbox/line.ts). */
  lastUpdateAt: number | null;
  alertCount: number;
  firingCount: number;
  /** Times of recent state changes, for flapping detection. */
  stateChanges: number[];
  lastChangeAt: number;
  /** The ticket state faultdesk last asked for. */
  ticketWanted: 'open' | 'solved';
  ticket: { system: string; id: string | null; status: string | null; url: string | null; error: string | null };
  rule: { file: string; line: number };
  summary: string;
  timeline: Timeline;
  /** During a downtime the source announced: ticket updates wait until it ends. */
  muted: boolean;
  mailLog: MailLog;
  /** When the fault was found past its due time and escalated as at risk (once). */
  atRiskAt: number | null;
  /** Resolved by the stale sweep or by hand, not by its alerts: its duration says nothing about repair time. */
  stale: boolean;
  /** A person took it (in the ticket, the API, the CLI or the console). */
  acknowledged: Mark | null;
  /** A person solved its ticket while alerts still fired: no more updates but escalations. */
  handled: Mark | null;
  /** A person closed its ticket (closed, cancelled, won't fix): faultdesk never reopens that ticket. */
  humanClosed: (Mark & { code: string | null }) | null;
  /** A priority a person set on the ticket: faultdesk stops overriding it. */
  priorityPinned: string | null;
  /** The support tier that holds it (null without tiers), and who held it when. */
  tier: string | null;
  tierHistory: TierSpan[];
  /** How often it reopened. */
  reopenCount: number;
  /** The closed ticket its ticket continues. */
  followsTicket: { system: string; id: string } | null;
  /** What faultdesk last heard of its ticket from the ticket system, to tell what people changed. */
  ticketSeen: TicketSeen;
}

/** A ticket's state as its system last told it (absent: not heard yet). */
export interface TicketSeen {
  status?: string;
  assignee?: string | null;
  group?: string | null;
  priority?: string;
}

/** An alert of a fault, as stored (labels and annotations stay JSON text: that is what a repeat is compared by). */
export type AlertRecord = (AlertRow | NewAlertRow) & { id?: number };

/** The ident column: one fault per category and key. */
export function faultIdent(category: string, key: string): string {
  return `${category}\u001f${key}`;
}

/** An alert's identity across deliveries: its source and the source's id of it. */
export function alertIdent(alert: Pick<Alert, 'source' | 'sourceId'>): string {
  return `${alert.source}:${alert.sourceId}`;
}

/** A fault's timeline keeps its first and latest entries; a flapping fault must not grow without bound. */
const TIMELINE_HEAD = 20;
const TIMELINE_MAX = 200;

/** The timeline with one more entry (a new object: the fault it came from is not changed). */
export function withEntry(timeline: Timeline, entry: TimelineEntry): Timeline {
  const entries = [...timeline.entries, entry];
  let omitted = timeline.omitted;
  if (entries.length > TIMELINE_MAX) {
    entries.splice(TIMELINE_HEAD, 1);
    omitted += 1;
  }
  return { omitted, entries };
}

export const EMPTY_TIMELINE: Timeline = { omitted: 0, entries: [] };

export function faultFromRow(row: FaultRow): Fault {
  return {
    id: row.id,
    ident: row.ident,
    current: row.current === 1,
    category: row.category,
    key: row.fault_key,
    keyLabels: JSON.parse(row.key_labels) as Record<string, string>,
    state: row.state as FaultState,
    severity: row.severity,
    priority: row.priority,
    repairTimeHours: row.repair_time_hours,
    model: { a: row.rt_a, b: row.rt_b },
    openedAt: row.opened_at,
    dueAt: row.due_at,
    resolvedAt: row.resolved_at,
    updatedAt: row.updated_at,
    lastUpdateAt: row.last_update_at,
    alertCount: row.alert_count,
    firingCount: row.firing_count,
    stateChanges: JSON.parse(row.state_changes) as number[],
    lastChangeAt: row.last_change_at,
    ticketWanted: row.ticket_wanted === 'solved' ? 'solved' : 'open',
    ticket: { system: row.ticket_system, id: row.ticket_id, status: row.ticket_status, url: row.ticket_url, error: row.ticket_error },
    rule: { file: row.rule_file, line: row.rule_line },
    summary: row.summary,
    timeline: JSON.parse(row.timeline) as Timeline,
    muted: row.muted === 1,
    mailLog: JSON.parse(row.mail_log) as MailLog,
    atRiskAt: row.at_risk_at,
    stale: row.stale === 1,
    acknowledged: mark(row.acknowledged_at, row.acknowledged_by),
    handled: mark(row.handled_at, row.handled_by),
    humanClosed: row.human_closed_at === null ? null : { at: row.human_closed_at, by: row.human_closed_by ?? '', code: row.close_code },
    priorityPinned: row.priority_pinned,
    tier: row.tier,
    tierHistory: JSON.parse(row.tier_history) as TierSpan[],
    reopenCount: row.reopen_count,
    followsTicket: row.follows_ticket === null ? null : splitTicket(row.follows_ticket),
    ticketSeen: JSON.parse(row.ticket_seen) as TicketSeen,
  };
}

function mark(at: number | null, by: string | null): Mark | null {
  return at === null ? null : { at, by: by ?? '' };
}

function splitTicket(text: string): { system: string; id: string } {
  const i = text.indexOf(':');
  return { system: text.slice(0, i), id: text.slice(i + 1) };
}

export function faultToRow(f: Fault): FaultRow {
  return {
    id: f.id,
    ident: f.ident,
    current: f.current ? 1 : null,
    category: f.category,
    fault_key: f.key,
    key_labels: JSON.stringify(f.keyLabels),
    state: f.state,
    severity: f.severity,
    priority: f.priority,
    repair_time_hours: f.repairTimeHours,
    rt_a: f.model.a,
    rt_b: f.model.b,
    opened_at: f.openedAt,
    due_at: f.dueAt,
    resolved_at: f.resolvedAt,
    updated_at: f.updatedAt,
    last_update_at: f.lastUpdateAt,
    alert_count: f.alertCount,
    firing_count: f.firingCount,
    state_changes: JSON.stringify(f.stateChanges),
    last_change_at: f.lastChangeAt,
    ticket_wanted: f.ticketWanted,
    ticket_system: f.ticket.system,
    ticket_id: f.ticket.id,
    ticket_status: f.ticket.status,
    ticket_url: f.ticket.url,
    ticket_error: f.ticket.error,
    rule_file: f.rule.file,
    rule_line: f.rule.line,
    summary: f.summary,
    timeline: JSON.stringify(f.timeline),
    muted: f.muted ? 1 : 0,
    mail_log: JSON.stringify(f.mailLog),
    at_risk_at: f.atRiskAt,
    stale: f.stale ? 1 : 0,
    acknowledged_at: f.acknowledged?.at ?? null,
    acknowledged_by: f.acknowledged?.by ?? null,
    handled_at: f.handled?.at ?? null,
    handled_by: f.handled?.by ?? null,
    human_closed_at: f.humanClosed?.at ?? null,
    human_closed_by: f.humanClosed?.by ?? null,
    close_code: f.humanClosed?.code ?? null,
    priority_pinned: f.priorityPinned,
    tier: f.tier,
    tier_history: JSON.stringify(f.tierHistory),
    reopen_count: f.reopenCount,
    follows_ticket: f.followsTicket ? `${f.followsTicket.system}:${f.followsTicket.id}` : null,
    ticket_seen: JSON.stringify(f.ticketSeen),
  };
}

/** Labels as `a="b", c="d"`, for comments and logs. */
export function labelText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ');
}
