import { randomUUID } from 'node:crypto';
import type { MailEvent } from '../config/schema';
import { formatDuration } from '../config';
import type { AlertOutcome } from '../metrics';
import { dueAt, repairTimeHours, type RepairTimeModel } from '../estimate';
import { priorityOf, severityOf, type Category, type Classification, type RuleEngine } from '../rules';
import type { Alert } from '../sources';
import type { AlertRow, FaultRow, NewAlertRow, OutboxRow, Repos } from '../store';
import { draftFault } from './draft';
import { appendTimeline, faultIdent, labelText, type OperationKind, type OperationPayload } from './model';

/** The transitions that may be mailed, and as which event. */
const MAIL_EVENT_OF: Partial<Record<Transition['transition'], MailEvent>> = {
  opened: 'open',
  escalated: 'escalate',
  resolved: 'resolve',
  reopened: 'reopen',
  flapping: 'flapping',
};

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
  transition: 'opened' | 'escalated' | 'resolved' | 'reopened' | 'flapping' | 'settled' | 'superseded' | 'at_risk';
  severity: number;
  /** The fault's estimate, and how long it has been open (for estimated-vs-actual metrics). */
  estimateHours: number;
  openHours: number;
  stale: boolean;
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

export interface Applied {
  outcome: AlertOutcome;
  /** The fault the alert went to, if any. */
  faultId: string | null;
}

/**
 * Applies one batch of alerts to the faults they belong to, inside one
 * transaction: loads what the batch touches, decides every transition in
 * memory, then writes faults, alerts and outbox operations together.
 */
export class FaultBatch {
  private readonly faults = new Map<string, FaultRow>();
  /** ident → id of the current fault of that category and key. */
  private readonly current = new Map<string, string>();
  /** alert ident → ids of the current faults that hold that alert. */
  private readonly owners = new Map<string, string[]>();
  private readonly newFaults = new Set<string>();
  private readonly dirtyFaults = new Set<string>();
  private readonly superseded: FaultRow[] = [];
  private readonly alerts = new Map<string, AlertSlot>();
  private readonly ops = new Map<string, PendingOp[]>();
  readonly transitions: Transition[] = [];
  /** What happened that may be worth a mail, for the mail planner. */
  readonly mailEvents: Array<{ fault: FaultRow; event: MailEvent; changes: string[] }> = [];

  private constructor(
    private readonly tx: Repos,
    private readonly now: number,
    private readonly engine: RuleEngine,
    /** Fitted repair-time models; a category without one uses its rule's a and b. */
    private readonly estimates: (category: string) => RepairTimeModel | undefined = () => undefined,
  ) {}

  static async load(
    tx: Repos,
    now: number,
    engine: RuleEngine,
    items: readonly ClassifiedAlert[],
    estimates?: (category: string) => RepairTimeModel | undefined,
  ): Promise<FaultBatch> {
    const batch = new FaultBatch(tx, now, engine, estimates);
    const idents = [...new Set(items.map((i) => faultIdent(i.classification.category.name, i.classification.key)))];
    const alertIdents = [...new Set(items.map((i) => alertIdent(i.alert)))];
    // An alert already in a fault stays with that fault, whatever its labels or the rules say now.
    const owned = await tx.alerts.findInCurrentFaults(alertIdents);
    const rows = await tx.faults.findCurrent(idents);
    const known = new Set(rows.map((f) => f.id));
    const missing = [...new Set(owned.map((a) => a.fault_id))].filter((id) => !known.has(id));
    rows.push(...(await tx.faults.getMany(missing)));
    for (const row of rows) batch.addFault(row);
    for (const row of owned) {
      batch.alerts.set(`${row.fault_id}|${row.ident}`, { row, isNew: false, dirty: false, touched: false });
      batch.owners.set(row.ident, [...(batch.owners.get(row.ident) ?? []), row.fault_id]);
    }
    const faultIds = rows.map((f) => f.id);
    // Read again now that the faults are locked (PostgreSQL): another replica may have changed their
    // alerts between the first read and the lock, and this read is the one that counts.
    for (const row of await tx.alerts.findInFaults(faultIds, alertIdents)) {
      batch.alerts.set(`${row.fault_id}|${row.ident}`, { row, isNew: false, dirty: false, touched: false });
    }
    for (const op of await tx.outbox.pendingForFaults(faultIds)) batch.addLoadedOp(op);
    return batch;
  }

  /** Loads faults by id for time-driven changes (settling flapping faults). */
  static async forFaults(tx: Repos, now: number, engine: RuleEngine, faults: readonly FaultRow[]): Promise<FaultBatch> {
    const batch = new FaultBatch(tx, now, engine);
    for (const f of faults) batch.addFault(f);
    for (const op of await tx.outbox.pendingForFaults(faults.map((f) => f.id))) batch.addLoadedOp(op);
    return batch;
  }

  private addFault(row: FaultRow): void {
    this.faults.set(row.id, row);
    if (row.current === 1) this.current.set(row.ident, row.id);
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

  /** The category a fault was opened under, as the rules have it now. */
  categoryOf(fault: FaultRow, fallback: Category): Category {
    return this.engine.category(fault.category) ?? fallback;
  }

  /** The current fault holding this alert: a live one first, else the latest. */
  private owner(alert: Alert, liveOnly: boolean): FaultRow | undefined {
    const ids = this.owners.get(alertIdent(alert)) ?? [];
    const faults = ids.map((id) => this.faults.get(id)).filter((f): f is FaultRow => f !== undefined && f.current === 1);
    const live = faults.filter((f) => f.state !== 'resolved').sort((a, b) => b.opened_at - a.opened_at)[0];
    if (live || liveOnly) return live;
    return faults.sort((a, b) => b.opened_at - a.opened_at)[0];
  }

  private byKey(c: Classification): FaultRow | undefined {
    const id = this.current.get(faultIdent(c.category.name, c.key));
    return id === undefined ? undefined : this.faults.get(id);
  }

  apply(item: ClassifiedAlert): Applied {
    if (item.alert.note) return this.applyNote(item);
    return item.alert.status === 'firing' ? this.fire(item) : this.resolveAlert(item);
  }

  private fire({ alert, classification }: ClassifiedAlert): Applied {
    let fault = this.owner(alert, true);
    let category = classification.category;
    let fs = classification.fs;
    if (fault) {
      category = this.categoryOf(fault, category);
      fs = severityOf(category, alert.labels);
    } else {
      fault = this.byKey(classification);
      if (fault && fault.state === 'resolved') {
        const slot = this.alerts.get(`${fault.id}|${alertIdent(alert)}`);
        if (slot && isStaleRefire(slot.row, alert)) return this.touch(slot, fault);
        if (!this.canReopen(fault, category)) {
          this.supersede(fault);
          fault = undefined;
        }
      }
    }
    if (!fault) {
      const opened = this.open(alert, classification);
      return { outcome: 'opened', faultId: opened.id };
    }
    const slot = this.alerts.get(`${fault.id}|${alertIdent(alert)}`);
    const wasFiring = fault.firing_count > 0;
    const changes: string[] = [];
    if (!slot) {
      this.addAlert(fault, alert, fs);
      changes.push(`New alert firing: ${labelText(alert.labels)}`);
    } else if (slot.row.status === 'resolved') {
      if (isStaleRefire(slot.row, alert)) return this.touch(slot, fault);
      Object.assign(slot.row, alertColumns(alert, fs), { last_received_at: this.now });
      slot.dirty = true;
      fault.firing_count += 1;
      changes.push(`Alert firing again: ${labelText(alert.labels)}`);
    } else if (sameFiringAlert(slot.row, alert, fs)) {
      return this.touch(slot, fault);
    } else {
      // Still the same firing: it started when it was first seen (some senders stamp each delivery).
      Object.assign(slot.row, alertColumns(alert, fs), { starts_at: Math.min(slot.row.starts_at, alert.startsAt), last_received_at: this.now });
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
    if (fs > fault.severity) this.escalate(fault, category, fs, changes);
    else this.coalesce(fault, category, changes);
    return { outcome, faultId: fault.id };
  }

  private resolveAlert({ alert, classification }: ClassifiedAlert): Applied {
    const fault = this.owner(alert, false) ?? this.byKey(classification);
    if (!fault) return { outcome: 'ignored', faultId: null };
    const category = this.categoryOf(fault, classification.category);
    const slot = this.alerts.get(`${fault.id}|${alertIdent(alert)}`);
    if (!slot) return { outcome: 'ignored', faultId: fault.id };
    if (slot.row.status === 'resolved') return this.touch(slot, fault);
    slot.row.status = 'resolved';
    slot.row.ends_at = alert.endsAt ?? this.now;
    // Some senders resolve with bare labels: keep what the firing alert said.
    if (Object.keys(alert.annotations).length > 0) slot.row.annotations = JSON.stringify(alert.annotations);
    slot.row.last_received_at = this.now;
    slot.dirty = true;
    fault.firing_count -= 1;
    this.markDirty(fault);
    const done = { outcome: 'resolved' as AlertOutcome, faultId: fault.id };
    const change = `Alert resolved: ${labelText(alert.labels)}`;
    if (fault.firing_count > 0) {
      if (fault.state !== 'flapping') this.coalesce(fault, category, [`${change} (${fault.firing_count} still firing)`]);
      return { ...done, outcome: 'updated' };
    }
    if (fault.state === 'flapping') {
      this.recordStateChange(fault, category);
      return done;
    }
    appendTimeline(fault, { at: this.now, event: 'all_alerts_resolved' });
    if (this.recordStateChange(fault, category)) {
      this.startFlapping(fault, category, [change]);
      return done;
    }
    this.resolveFault(fault, category, [change], undefined);
    return done;
  }

  /** Updates about an alert from its source: comments, the source's flapping, downtimes. */
  private applyNote(item: ClassifiedAlert): Applied {
    const { alert, classification } = item;
    const note = alert.note as NonNullable<Alert['note']>;
    if (note.kind === 'comment') {
      // An update of a live problem still carries its state: apply it (it may escalate), then comment.
      const applied = alert.status === 'firing' ? this.fire({ alert: { ...alert, note: undefined }, classification }) : undefined;
      const fault = applied?.faultId ? this.faults.get(applied.faultId) : (this.owner(alert, false) ?? this.byKey(classification));
      if (!fault) return { outcome: 'ignored', faultId: null };
      appendTimeline(fault, { at: this.now, event: 'comment', detail: firstLine(note.text) });
      // When the update escalated the fault (a severity change), one comment says both.
      const escalation = this.pendingOps(fault.id).find((op) => op.kind === 'escalate' && op.id === undefined);
      if (escalation) escalation.payload.note = escalation.payload.note ? `${note.text}\n${escalation.payload.note}` : note.text;
      else if (!fault.muted) this.queue(fault, 'comment', { changes: [], note: note.text });
      this.markDirty(fault);
      return { outcome: applied?.outcome === 'opened' ? 'opened' : 'updated', faultId: fault.id };
    }
    const fault = this.owner(alert, true) ?? this.byKey(classification);
    if (!fault || fault.state === 'resolved') return { outcome: 'ignored', faultId: fault?.id ?? null };
    const category = this.categoryOf(fault, classification.category);
    const applied = { outcome: 'updated' as AlertOutcome, faultId: fault.id };
    switch (note.kind) {
      case 'flapping_start':
        if (fault.state !== 'flapping') this.startFlapping(fault, category, [], note.text);
        return applied;
      case 'flapping_stop':
        if (fault.state === 'flapping') this.settle(fault, category, note.text);
        return applied;
      case 'mute':
        if (!fault.muted) {
          fault.muted = 1;
          this.markDirty(fault);
          appendTimeline(fault, { at: this.now, event: 'muted', detail: firstLine(note.text) });
          this.queue(fault, 'comment', { changes: [], note: `${note.text}\nfaultdesk holds updates of this ticket until it ends.` });
        }
        return applied;
      case 'unmute':
        if (fault.muted) {
          fault.muted = 0;
          this.markDirty(fault);
          appendTimeline(fault, { at: this.now, event: 'unmuted' });
          this.queue(fault, 'update', { changes: [], note: note.text });
        }
        return applied;
      default:
        return applied;
    }
  }

  private open(alert: Alert, c: Classification): FaultRow {
    const { category } = c;
    const fault: FaultRow = {
      ...draftFault(category, c.key, c.keyLabels, c.fs, this.now, { model: this.estimates(category.name) }),
      id: randomUUID(),
      alert_count: 0,
      firing_count: 0,
      summary: alert.annotations.summary ?? alert.labels.alertname ?? category.name,
    };
    appendTimeline(fault, { at: this.now, event: 'opened', detail: `FS ${c.fs}, priority ${fault.priority}` });
    this.addFault(fault);
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
    this.owners.set(row.ident, [...(this.owners.get(row.ident) ?? []), fault.id]);
    fault.alert_count += 1;
    fault.firing_count += 1;
    if (fault.alert_count > 1) appendTimeline(fault, { at: this.now, event: 'alert_added', detail: labelText(alert.labels) });
    this.markDirty(fault);
  }

  private touch(slot: AlertSlot, fault: FaultRow): Applied {
    slot.row.last_received_at = this.now;
    slot.touched = true;
    return { outcome: 'duplicate', faultId: fault.id };
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
    // In a downtime the new priority waits for the update that ends it.
    if (!fault.muted) this.queue(fault, 'escalate', { changes, fromFs: from, toFs: fs });
    this.note(fault, 'escalated', [`Fault severity ${from} → ${fs}, priority ${fromPriority} → ${fault.priority}`, ...changes]);
  }

  /** Changes of an open fault wait in one update operation, sent at most once per interval. */
  private coalesce(fault: FaultRow, category: Category, changes: string[]): void {
    if (changes.length === 0 || fault.muted) return;
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
    this.note(fault, 'resolved', note ? [note, ...changes] : changes);
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
    this.note(fault, 'reopened', changes);
  }

  /** Holds resolves and reopens; `reason` is the source's word when the source detected the flapping. */
  private startFlapping(fault: FaultRow, category: Category, changes: string[], reason?: string): void {
    fault.state = 'flapping';
    fault.resolved_at = null;
    fault.last_change_at = this.now;
    this.markDirty(fault);
    appendTimeline(fault, { at: this.now, event: 'flapping_started', ...(reason ? { detail: reason } : {}) });
    const minutes = Math.round(category.flapping.windowMs / 60_000);
    const quiet = Math.round(category.flapping.quietMs / 60_000);
    const note = reason
      ? `${reason} faultdesk holds resolves and reopens until the source says it stopped, or it has been quiet for ${quiet} minutes.`
      : `This fault is flapping: it changed state more than ${category.flapping.changes} times in ${minutes} minutes. ` +
        `faultdesk holds resolves and reopens until it has been quiet for ${quiet} minutes.`;
    if (!fault.muted) this.queue(fault, 'flapping', { changes, note });
    this.note(fault, 'flapping', [note, ...changes]);
  }

  /** A flapping fault that has been quiet long enough takes the state its alerts are in. */
  settle(fault: FaultRow, category: Category, reason?: string): void {
    const note = reason ?? 'The fault has stopped flapping.';
    fault.state_changes = '[]';
    this.markDirty(fault);
    appendTimeline(fault, { at: this.now, event: 'flapping_ended' });
    if (fault.firing_count === 0) {
      if (fault.ticket_wanted === 'open') {
        this.resolveFault(fault, category, [], `${note} Every alert of it has resolved.`);
      } else {
        fault.state = 'resolved';
        fault.resolved_at = this.now;
        if (!fault.muted) this.queue(fault, 'flapping', { changes: [], note: `${note} It stays resolved.` });
      }
    } else {
      fault.state = 'open';
      if (fault.ticket_wanted === 'solved') {
        fault.ticket_wanted = 'open';
        this.queue(fault, 'reopen', { changes: [], note: `${note} ${fault.firing_count} alert(s) still firing.` });
      } else if (!fault.muted) {
        this.queue(fault, 'flapping', { changes: [], note: `${note} ${fault.firing_count} alert(s) still firing.` });
      }
    }
    this.note(fault, 'settled');
  }

  /** An open fault past its due time: escalated once, with a comment and an at-risk mail. */
  atRisk(fault: FaultRow): void {
    fault.at_risk_at = this.now;
    this.markDirty(fault);
    const over = formatDuration(this.now - fault.due_at);
    const note =
      `At risk: this fault has been open for ${formatDuration(this.now - fault.opened_at)}, ` +
      `${over} past its estimated repair time of ${formatDuration(fault.repair_time_hours * 3_600_000)} (due ${new Date(fault.due_at).toISOString()}).`;
    appendTimeline(fault, { at: this.now, event: 'at_risk' });
    if (!fault.muted) this.queue(fault, 'comment', { changes: [], note });
    this.transitions.push(this.transitionOf(fault, 'at_risk'));
    this.mailEvents.push({ fault, event: 'at_risk', changes: [note] });
  }

  /** No alert of the fault was refreshed for a long time: its source stopped saying it fires. */
  resolveStale(fault: FaultRow, category: Category, firing: readonly AlertRow[], afterMs: number): void {
    for (const row of firing) {
      const slot: AlertSlot = { row: { ...row, status: 'resolved', ends_at: this.now }, isNew: false, dirty: true, touched: false };
      this.alerts.set(`${fault.id}|${row.ident}`, slot);
    }
    fault.firing_count = 0;
    fault.stale = 1;
    this.markDirty(fault);
    const note = `Resolved as stale: no alert of this fault was refreshed for ${formatDuration(afterMs)}, though its source resends firing alerts.`;
    appendTimeline(fault, { at: this.now, event: 'stale' });
    this.resolveFault(fault, category, [], note);
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
    this.current.delete(fault.ident);
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

  private transitionOf(fault: FaultRow, transition: Transition['transition']): Transition {
    return {
      faultId: fault.id,
      category: fault.category,
      key: fault.fault_key,
      transition,
      severity: fault.severity,
      estimateHours: fault.repair_time_hours,
      openHours: (this.now - fault.opened_at) / 3_600_000,
      stale: fault.stale === 1,
    };
  }

  private note(fault: FaultRow, transition: Transition['transition'], changes: string[] = []): void {
    this.transitions.push(this.transitionOf(fault, transition));
    const event = MAIL_EVENT_OF[transition];
    if (event) this.mailEvents.push({ fault, event, changes: [...changes] });
  }

  /** Every alert row the batch read or wrote, with its fault, as they stand after save(). */
  *alertSlots(): Iterable<{ row: AlertRow | NewAlertRow; fault: FaultRow | undefined }> {
    for (const slot of this.alerts.values()) yield { row: slot.row, fault: this.faults.get(slot.row.fault_id) };
  }

  /** Writes everything the batch changed; call inside the transaction it was loaded in. Counts the operations due now. */
  async save(): Promise<{ dueNow: number }> {
    // Superseded faults are written first: the new fault takes over their unique ident.
    for (const fault of this.superseded) await this.tx.faults.update(fault);
    const changed: FaultRow[] = [];
    for (const id of this.dirtyFaults) {
      const fault = this.faults.get(id);
      if (!fault) continue;
      if (this.newFaults.has(id)) await this.tx.faults.insert(fault);
      else changed.push(fault);
    }
    await this.tx.faults.updateMany(changed);
    const inserts: NewAlertRow[] = [];
    const updates: AlertRow[] = [];
    const touched: number[] = [];
    for (const slot of this.alerts.values()) {
      if (slot.isNew) inserts.push(slot.row);
      else if (slot.dirty) updates.push(slot.row as AlertRow);
      else if (slot.touched) touched.push((slot.row as AlertRow).id);
    }
    await this.tx.alerts.updateMany(updates);
    await this.tx.alerts.insert(inserts);
    await this.tx.alerts.touch(touched, this.now);
    // Only operations due now wake the outbox: a coalesced update waits for its interval anyway.
    let dueNow = 0;
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
          if (op.nextAttemptAt <= this.now) dueNow += 1;
        }
      }
    }
    return { dueNow };
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

/** Whether a firing delivery says nothing new; its start time is not news (see fire()). */
function sameFiringAlert(row: AlertRow | NewAlertRow, alert: Alert, fs: number): boolean {
  return (
    row.fs === fs &&
    row.labels === JSON.stringify(alert.labels) &&
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

function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
}
