import { randomUUID } from 'node:crypto';
import type { AlertOutcome } from '../metrics';
import { dueAt, repairTimeHours } from '../estimate';
import { priorityOf, type Category, type Classification } from '../rules';
import type { Alert } from '../sources';
import type { AlertRow, FaultRow, NewAlertRow, OutboxRow, Repos } from '../store';
import { appendTimeline, EMPTY_TIMELINE, faultIdent, labelText, type OperationKind, type OperationPayload } from './model';

/** How many change lines one ticket comment lists before it summarises the rest. */
const MAX_CHANGES = 50;

export interface ClassifiedAlert {
  alert: Alert;
  classification: Classification;
}

export interface Transition {
  faultId: string;
  category: string;
  key: string;
  transition: 'opened' | 'escalated' | 'resolved' | 'reopened' | 'flapping' | 'settled' | 'superseded';
  severity: number;
}

interface PendingOp {
  id?: number;
  faultId: string;
  system: string;
  kind: OperationKind;
  payload: OperationPayload;
  nextAttemptAt: number;
  dirty: boolean;
  deleted: boolean;
}

interface AlertSlot {
  row: AlertRow | NewAlertRow;
  isNew: boolean;
  dirty: boolean;
  touched: boolean;
}

/**
 * Applies one batch of alerts to the faults they belong to, inside one
 * transaction: loads what the batch touches, decides every transition in
 * memory, then writes faults, alerts and outbox operations together.
 */
export class FaultBatch {
  private readonly faults = new Map<string, FaultRow>();
  private readonly newFaults = new Set<string>();
  private readonly dirtyFaults = new Set<string>();
  private readonly superseded: FaultRow[] = [];
  private readonly alerts = new Map<string, AlertSlot>();
  private readonly ops = new Map<string, PendingOp[]>();
  readonly transitions: Transition[] = [];

  private constructor(
    private readonly tx: Repos,
    private readonly now: number,
  ) {}

  static async load(tx: Repos, now: number, items: readonly ClassifiedAlert[]): Promise<FaultBatch> {
    const batch = new FaultBatch(tx, now);
    const idents = [...new Set(items.map((i) => faultIdent(i.classification.category.name, i.classification.key)))];
    for (const row of await tx.faults.findCurrent(idents)) batch.faults.set(row.ident, row);
    const faultIds = [...batch.faults.values()].map((f) => f.id);
    const alertIdents = [...new Set(items.map((i) => alertIdent(i.alert)))];
    for (const row of await tx.alerts.findInFaults(faultIds, alertIdents)) {
      batch.alerts.set(`${row.fault_id}|${row.ident}`, { row, isNew: false, dirty: false, touched: false });
    }
    for (const op of await tx.outbox.pendingForFaults(faultIds)) batch.addLoadedOp(op);
    return batch;
  }

  /** Loads faults by id for time-driven changes (settling flapping faults). */
  static async forFaults(tx: Repos, now: number, faults: readonly FaultRow[]): Promise<FaultBatch> {
    const batch = new FaultBatch(tx, now);
    for (const f of faults) batch.faults.set(f.ident, f);
    for (const op of await tx.outbox.pendingForFaults(faults.map((f) => f.id))) batch.addLoadedOp(op);
    return batch;
  }

  private addLoadedOp(op: OutboxRow): void {
    const list = this.ops.get(op.fault_id) ?? [];
    list.push({
      id: op.id,
      faultId: op.fault_id,
      system: op.system,
      kind: op.kind as OperationKind,
      payload: JSON.parse(op.payload) as OperationPayload,
      nextAttemptAt: op.next_attempt_at,
      dirty: false,
      deleted: false,
    });
    this.ops.set(op.fault_id, list);
  }

  /** The id of the fault the alert belongs to after `apply`, if any. */
  faultIdOf(item: ClassifiedAlert): string | null {
    return this.faults.get(faultIdent(item.classification.category.name, item.classification.key))?.id ?? null;
  }

  apply(item: ClassifiedAlert): AlertOutcome {
    return item.alert.status === 'firing' ? this.fire(item) : this.resolveAlert(item);
  }

  private fire({ alert, classification }: ClassifiedAlert): AlertOutcome {
    const { category } = classification;
    const ident = faultIdent(category.name, classification.key);
    let fault = this.faults.get(ident);
    if (fault && fault.state === 'resolved') {
      const slot = this.alerts.get(`${fault.id}|${alertIdent(alert)}`);
      if (slot && isStaleRefire(slot.row, alert)) return this.touch(slot);
      if (!this.canReopen(fault, category)) {
        this.supersede(fault);
        fault = undefined;
      }
    }
    if (!fault) {
      this.open(alert, classification);
      return 'opened';
    }
    const slot = this.alerts.get(`${fault.id}|${alertIdent(alert)}`);
    const wasFiring = fault.firing_count > 0;
    const changes: string[] = [];
    if (!slot) {
      this.addAlert(fault, alert, classification.fs);
      changes.push(`New alert firing: ${labelText(alert.labels)}`);
    } else if (slot.row.status === 'resolved') {
      if (isStaleRefire(slot.row, alert)) return this.touch(slot);
      Object.assign(slot.row, alertColumns(alert, classification.fs), { last_received_at: this.now });
      slot.dirty = true;
      fault.firing_count += 1;
      changes.push(`Alert firing again: ${labelText(alert.labels)}`);
    } else if (sameFiringAlert(slot.row, alert, classification.fs)) {
      return this.touch(slot);
    } else {
      Object.assign(slot.row, alertColumns(alert, classification.fs), { last_received_at: this.now });
      slot.dirty = true;
      changes.push(`Alert changed: ${labelText(alert.labels)}`);
    }
    this.markDirty(fault);

    let outcome: AlertOutcome = 'updated';
    if (fault.state === 'resolved') {
      this.reopen(fault, category, changes);
      if ((fault.state as string) === 'open') outcome = 'reopened';
      changes.length = 0;
    } else if (fault.state === 'flapping' && slot) {
      // A flapping fault's alerts flipping back: one more state change, and no ticket comment.
      if (!wasFiring) this.recordStateChange(fault, category);
      changes.length = 0;
    }
    if (classification.fs > fault.severity) this.escalate(fault, category, classification.fs, changes);
    else this.coalesce(fault, category, changes);
    return outcome;
  }

  private resolveAlert({ alert, classification }: ClassifiedAlert): AlertOutcome {
    const { category } = classification;
    const fault = this.faults.get(faultIdent(category.name, classification.key));
    if (!fault) return 'ignored';
    const slot = this.alerts.get(`${fault.id}|${alertIdent(alert)}`);
    if (!slot) return 'ignored';
    if (slot.row.status === 'resolved') return this.touch(slot);
    slot.row.status = 'resolved';
    slot.row.ends_at = alert.endsAt ?? this.now;
    // Some senders resolve with bare labels: keep what the firing alert said.
    if (Object.keys(alert.annotations).length > 0) slot.row.annotations = JSON.stringify(alert.annotations);
    slot.row.last_received_at = this.now;
    slot.dirty = true;
    fault.firing_count -= 1;
    this.markDirty(fault);
    const change = `Alert resolved: ${labelText(alert.labels)}`;
    if (fault.firing_count > 0 && fault.state === 'flapping') return 'updated';
    if (fault.firing_count > 0) {
      this.coalesce(fault, category, [`${change} (${fault.firing_count} still firing)`]);
      return 'updated';
    }
    if (fault.state === 'flapping') {
      this.recordStateChange(fault, category);
      return 'resolved';
    }
    appendTimeline(fault, { at: this.now, event: 'all_alerts_resolved' });
    if (this.recordStateChange(fault, category)) {
      this.startFlapping(fault, category, [change]);
      return 'resolved';
    }
    this.resolveFault(fault, category, [change], undefined);
    return 'resolved';
  }

  private open(alert: Alert, c: Classification): FaultRow {
    const { category } = c;
    const hours = repairTimeHours(category.repairTime, c.fs);
    const fault: FaultRow = {
      id: randomUUID(),
      ident: faultIdent(category.name, c.key),
      current: 1,
      category: category.name,
      fault_key: c.key,
      key_labels: JSON.stringify(c.keyLabels),
      state: 'open',
      severity: c.fs,
      priority: priorityOf(category, c.fs),
      repair_time_hours: hours,
      rt_a: category.repairTime.a,
      rt_b: category.repairTime.b,
      opened_at: this.now,
      due_at: dueAt(this.now, hours),
      resolved_at: null,
      updated_at: this.now,
      last_update_at: null,
      alert_count: 0,
      firing_count: 0,
      state_changes: '[]',
      last_change_at: this.now,
      ticket_wanted: 'open',
      ticket_system: category.ticket.system,
      ticket_id: null,
      ticket_status: null,
      ticket_url: null,
      ticket_error: null,
      rule_file: category.file,
      rule_line: category.line,
      summary: alert.annotations.summary ?? alert.labels.alertname ?? category.name,
      timeline: EMPTY_TIMELINE,
    };
    appendTimeline(fault, { at: this.now, event: 'opened', detail: `FS ${c.fs}, priority ${fault.priority}` });
    this.faults.set(fault.ident, fault);
    this.newFaults.add(fault.id);
    this.addAlert(fault, alert, c.fs);
    this.queue(fault, 'create', { changes: [] });
    this.note(fault, 'opened');
    return fault;
  }

  private addAlert(fault: FaultRow, alert: Alert, fs: number): void {
    const row: NewAlertRow = {
      fault_id: fault.id,
      ident: alertIdent(alert),
      source: alert.source,
      source_id: alert.sourceId,
      first_received_at: this.now,
      last_received_at: this.now,
      ...alertColumns(alert, fs),
    };
    this.alerts.set(`${fault.id}|${row.ident}`, { row, isNew: true, dirty: true, touched: false });
    fault.alert_count += 1;
    fault.firing_count += 1;
    if (fault.alert_count > 1) appendTimeline(fault, { at: this.now, event: 'alert_added', detail: labelText(alert.labels) });
    this.markDirty(fault);
  }

  private touch(slot: AlertSlot): AlertOutcome {
    slot.row.last_received_at = this.now;
    slot.touched = true;
    return 'duplicate';
  }

  private escalate(fault: FaultRow, category: Category, fs: number, changes: string[]): void {
    const from = fault.severity;
    const fromPriority = fault.priority;
    fault.severity = fs;
    fault.priority = priorityOf(category, fs);
    fault.repair_time_hours = repairTimeHours({ a: fault.rt_a, b: fault.rt_b }, fs);
    fault.due_at = dueAt(fault.opened_at, fault.repair_time_hours);
    fault.last_update_at = this.now;
    appendTimeline(fault, { at: this.now, event: 'escalated', detail: `FS ${from} → ${fs}, priority ${fromPriority} → ${fault.priority}` });
    this.queue(fault, 'escalate', { changes, fromFs: from, toFs: fs });
    this.note(fault, 'escalated');
  }

  /** Changes of an open fault wait in one update operation, sent at most once per interval. */
  private coalesce(fault: FaultRow, category: Category, changes: string[]): void {
    if (changes.length === 0) return;
    const ops = this.pendingOps(fault.id);
    if (ops.some((op) => op.kind === 'create')) return; // the create renders the fault as it is when sent
    const waiting = ops.find((op) => op.kind === 'update');
    if (waiting) {
      waiting.payload.changes = mergeChanges(waiting.payload.changes, changes);
      waiting.dirty = true;
      return;
    }
    const next = Math.max(this.now, (fault.last_update_at ?? fault.opened_at) + category.updateIntervalMs);
    fault.last_update_at = next;
    this.markDirty(fault);
    this.addOp(fault, 'update', { changes }, next);
  }

  private resolveFault(fault: FaultRow, category: Category, changes: string[], note: string | undefined): void {
    fault.state = 'resolved';
    fault.resolved_at = this.now;
    fault.ticket_wanted = category.ticket.solveOnResolve ? 'solved' : fault.ticket_wanted;
    appendTimeline(fault, { at: this.now, event: 'resolved' });
    this.queue(fault, 'resolve', { changes, solve: category.ticket.solveOnResolve, note });
    this.note(fault, 'resolved');
  }

  private reopen(fault: FaultRow, category: Category, changes: string[]): void {
    if (this.recordStateChange(fault, category)) {
      this.startFlapping(fault, category, changes);
      return;
    }
    fault.state = 'open';
    fault.resolved_at = null;
    fault.ticket_wanted = 'open';
    appendTimeline(fault, { at: this.now, event: 'reopened' });
    this.queue(fault, 'reopen', { changes });
    this.note(fault, 'reopened');
  }

  private startFlapping(fault: FaultRow, category: Category, changes: string[]): void {
    fault.state = 'flapping';
    fault.resolved_at = null;
    appendTimeline(fault, { at: this.now, event: 'flapping_started' });
    const minutes = Math.round(category.flapping.windowMs / 60_000);
    this.queue(fault, 'flapping', {
      changes,
      note:
        `This fault is flapping: it changed state more than ${category.flapping.changes} times in ${minutes} minutes. ` +
        `faultdesk holds resolves and reopens until it has been quiet for ${Math.round(category.flapping.quietMs / 60_000)} minutes.`,
    });
    this.note(fault, 'flapping');
  }

  /** A flapping fault that has been quiet long enough takes the state its alerts are in. */
  settle(fault: FaultRow, category: Category): void {
    const note = 'The fault has stopped flapping.';
    fault.state_changes = '[]';
    this.markDirty(fault);
    appendTimeline(fault, { at: this.now, event: 'flapping_ended' });
    if (fault.firing_count === 0) {
      if (fault.ticket_wanted === 'open') {
        this.resolveFault(fault, category, [], `${note} Every alert of it has resolved.`);
      } else {
        fault.state = 'resolved';
        fault.resolved_at = this.now;
        this.queue(fault, 'flapping', { changes: [], note: `${note} It stays resolved.` });
      }
    } else {
      fault.state = 'open';
      if (fault.ticket_wanted === 'solved') {
        fault.ticket_wanted = 'open';
        this.queue(fault, 'reopen', { changes: [], note: `${note} ${fault.firing_count} alert(s) still firing.` });
      } else {
        this.queue(fault, 'flapping', { changes: [], note: `${note} ${fault.firing_count} alert(s) still firing.` });
      }
    }
    this.note(fault, 'settled');
  }

  /** Records a state change; true when it makes the fault flapping. */
  private recordStateChange(fault: FaultRow, category: Category): boolean {
    const since = this.now - category.flapping.windowMs;
    const changes = (JSON.parse(fault.state_changes) as number[]).filter((t) => t > since);
    changes.push(this.now);
    fault.state_changes = JSON.stringify(changes);
    fault.last_change_at = this.now;
    this.markDirty(fault);
    return fault.state !== 'flapping' && changes.length > category.flapping.changes;
  }

  private canReopen(fault: FaultRow, category: Category): boolean {
    return fault.ticket_status !== 'closed' && this.now - (fault.resolved_at ?? 0) <= category.reopenWithinMs;
  }

  private supersede(fault: FaultRow): void {
    fault.current = null;
    fault.updated_at = this.now;
    this.superseded.push(fault);
    this.note(fault, 'superseded');
  }

  /** Queues an operation that goes out at once; a waiting update is folded into it. */
  private queue(fault: FaultRow, kind: OperationKind, payload: OperationPayload): void {
    const waiting = this.pendingOps(fault.id).find((op) => op.kind === 'update');
    if (waiting && kind !== 'create') {
      payload.changes = mergeChanges(waiting.payload.changes, payload.changes);
      waiting.deleted = true;
    }
    this.markDirty(fault);
    this.addOp(fault, kind, payload, this.now);
  }

  private addOp(fault: FaultRow, kind: OperationKind, payload: OperationPayload, at: number): void {
    const list = this.ops.get(fault.id) ?? [];
    list.push({ faultId: fault.id, system: fault.ticket_system, kind, payload, nextAttemptAt: at, dirty: true, deleted: false });
    this.ops.set(fault.id, list);
  }

  private pendingOps(faultId: string): PendingOp[] {
    return (this.ops.get(faultId) ?? []).filter((op) => !op.deleted);
  }

  private markDirty(fault: FaultRow): void {
    fault.updated_at = this.now;
    this.dirtyFaults.add(fault.id);
  }

  private note(fault: FaultRow, transition: Transition['transition']): void {
    this.transitions.push({ faultId: fault.id, category: fault.category, key: fault.fault_key, transition, severity: fault.severity });
  }

  /** Writes everything the batch changed; call inside the transaction it was loaded in. */
  async save(): Promise<{ operations: number }> {
    // Superseded faults are written first: the new fault takes over their unique ident.
    for (const fault of this.superseded) await this.tx.faults.update(fault);
    const byId = new Map([...this.faults.values()].map((f) => [f.id, f]));
    for (const id of this.dirtyFaults) {
      const fault = byId.get(id);
      if (!fault) continue;
      if (this.newFaults.has(id)) await this.tx.faults.insert(fault);
      else await this.tx.faults.update(fault);
    }
    const inserts: NewAlertRow[] = [];
    const touched: number[] = [];
    for (const slot of this.alerts.values()) {
      if (slot.isNew) inserts.push(slot.row);
      else if (slot.dirty) await this.tx.alerts.update(slot.row as AlertRow);
      else if (slot.touched) touched.push((slot.row as AlertRow).id);
    }
    await this.tx.alerts.insert(inserts);
    await this.tx.alerts.touch(touched, this.now);
    let operations = 0;
    for (const list of this.ops.values()) {
      for (const op of list) {
        if (op.deleted && op.id !== undefined) await this.tx.outbox.delete(op.id);
        if (op.deleted || !op.dirty) continue;
        const payload = JSON.stringify(op.payload);
        if (op.id !== undefined) {
          await this.tx.outbox.replacePayload(op.id, payload, op.nextAttemptAt, this.now);
        } else {
          await this.tx.outbox.insert({
            fault_id: op.faultId,
            system: op.system,
            kind: op.kind,
            payload,
            state: 'pending',
            attempts: 0,
            next_attempt_at: op.nextAttemptAt,
            claimed_until: null,
            last_error: null,
            created_at: this.now,
            updated_at: this.now,
          });
          operations += 1;
        }
      }
    }
    return { operations };
  }
}

export function alertIdent(alert: Pick<Alert, 'source' | 'sourceId'>): string {
  return `${alert.source}:${alert.sourceId}`;
}

function alertColumns(alert: Alert, fs: number) {
  return {
    status: alert.status,
    labels: JSON.stringify(alert.labels),
    annotations: JSON.stringify(alert.annotations),
    starts_at: alert.startsAt,
    ends_at: alert.status === 'resolved' ? (alert.endsAt ?? alert.receivedAt) : null,
    generator_url: alert.generatorURL ?? null,
    fs,
  };
}

/**
 * A firing delivery of an alert instance we already saw resolve (same or older
 * start): a late duplicate from a retry or an HA peer, not a new firing.
 */
function isStaleRefire(row: AlertRow | NewAlertRow, alert: Alert): boolean {
  return row.status === 'resolved' && alert.startsAt <= row.starts_at;
}

function sameFiringAlert(row: AlertRow | NewAlertRow, alert: Alert, fs: number): boolean {
  return (
    row.fs === fs &&
    row.starts_at === alert.startsAt &&
    row.annotations === JSON.stringify(alert.annotations) &&
    (row.generator_url ?? undefined) === alert.generatorURL
  );
}

function mergeChanges(a: string[], b: string[]): string[] {
  const merged = [...a, ...b];
  if (merged.length <= MAX_CHANGES) return merged;
  const rest = merged.length - (MAX_CHANGES - 1);
  return [...merged.slice(0, MAX_CHANGES - 1), `… and ${rest} more changes`];
}
