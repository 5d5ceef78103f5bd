import { alertView, humanLoopJson, timelineJson } from '../faults';
import type { AlertRow, FaultRow, LocalTicketRow, OutboxRow, WritebackRow } from '../store';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A fault as the API shows it (the operator's contract: id, state, category, key, severity, ...). */
export function faultJson(f: FaultRow) {
  return {
    id: f.id,
    state: f.state,
    category: f.category,
    key: f.fault_key,
    keyLabels: JSON.parse(f.key_labels) as Record<string, string>,
    summary: f.summary,
    severity: f.severity,
    priority: f.priority,
    repairTimeHours: Math.round(f.repair_time_hours * 1000) / 1000,
    openedAt: iso(f.opened_at),
    dueAt: iso(f.due_at),
    resolvedAt: iso(f.resolved_at),
    updatedAt: iso(f.updated_at),
    alerts: f.alert_count,
    firingAlerts: f.firing_count,
    rule: { file: f.rule_file, line: f.rule_line },
    current: f.current === 1,
    ticket: f.ticket_id ? { system: f.ticket_system, id: f.ticket_id, status: f.ticket_status, url: f.ticket_url } : null,
    ticketSystem: f.ticket_system,
    ticketError: f.ticket_error,
    ...humanLoopJson(f),
  };
}

export function faultDetailJson(f: FaultRow, alerts: AlertRow[], ops: OutboxRow[]) {
  return {
    ...faultJson(f),
    alerts: alerts.map(alertView),
    alertCount: f.alert_count,
    timeline: timelineJson(f.timeline),
    operations: ops.map(operationJson),
  };
}

/** What was written back to a monitoring system about a fault (an Alertmanager silence's id as ref). */
export function writebackJson(w: WritebackRow) {
  return { system: w.system, ref: w.ref, active: w.active === 1, until: iso(w.active_until), updatedAt: iso(w.updated_at) };
}

export function operationJson(o: OutboxRow) {
  return {
    id: o.id,
    faultId: o.fault_id,
    kind: o.kind,
    system: o.system,
    state: o.state,
    attempts: o.attempts,
    nextAttemptAt: iso(o.next_attempt_at),
    lastError: o.last_error,
    createdAt: iso(o.created_at),
    updatedAt: iso(o.updated_at),
  };
}

export function ticketJson(
  t: LocalTicketRow,
  comments: Array<{ ticket_id: number; body: string; created_at: number }>,
  attachments: Array<{ id: number; ticket_id: number; filename: string; content_type: string; created_at: number; size: unknown; record_format?: string | null }>,
) {
  return {
    id: String(t.id),
    faultId: t.fault_id,
    status: t.status,
    subject: t.subject,
    body: t.body,
    priority: t.priority,
    fields: JSON.parse(t.fields) as Record<string, unknown>,
    createdAt: iso(t.created_at),
    updatedAt: iso(t.updated_at),
    comments: comments.filter((c) => c.ticket_id === t.id).map((c) => ({ body: c.body, createdAt: iso(c.created_at) })),
    attachments: attachments
      .filter((a) => a.ticket_id === t.id)
      .map((a) => ({
        id: String(a.id),
        filename: a.filename,
        contentType: a.content_type,
        // The fault record is rendered when read (it follows the fault): no stored size.
        size: a.record_format ? null : Number(a.size),
        ...(a.record_format ? { faultRecord: true } : {}),
        createdAt: iso(a.created_at),
        url: `/api/v1/tickets/${t.id}/attachments/${a.id}`,
      })),
  };
}
