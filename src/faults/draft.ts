import { dueAt, repairTimeHours, type RepairTimeModel } from '../estimate';
import { priorityOf, type Category } from '../rules';
import type { FaultRow } from '../store';
import { EMPTY_TIMELINE, faultIdent } from './model';

/** A fault as it would be opened now: what the lifecycle opens, and what explain and rule tests show. */
export function draftFault(
  category: Category,
  key: string,
  keyLabels: Record<string, string>,
  fs: number,
  now: number,
  options: { firing?: boolean; model?: RepairTimeModel } = {},
): FaultRow {
  const model = options.model ?? category.repairTime;
  const hours = repairTimeHours(model, fs);
  return {
    id: '(new)',
    ident: faultIdent(category.name, key),
    current: 1,
    category: category.name,
    fault_key: key,
    key_labels: JSON.stringify(keyLabels),
    state: 'open',
    severity: fs,
    priority: priorityOf(category, fs),
    repair_time_hours: hours,
    rt_a: model.a,
    rt_b: model.b,
    opened_at: now,
    due_at: dueAt(now, hours),
    resolved_at: null,
    updated_at: now,
    last_update_at: null,
    alert_count: 1,
    firing_count: options.firing === false ? 0 : 1,
    state_changes: '[]',
    last_change_at: now,
    ticket_wanted: 'open',
    ticket_system: category.ticket.system,
    ticket_id: null,
    ticket_status: null,
    ticket_url: null,
    ticket_error: null,
    rule_file: category.file,
    rule_line: category.line,
    summary: '',
    timeline: EMPTY_TIMELINE,
    muted: 0,
    mail_log: '{}',
    at_risk_at: null,
    stale: 0,
  };
}
