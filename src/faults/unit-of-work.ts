import type { RepairTimeModel } from '../estimate';
import type { AlertOutcome } from '../metrics';
import { applyOutboxChanges, type OutboxChange } from '../outbox/enqueue';
import { planTicketLine, type WaitingOperation } from '../outbox/line';
import { severityOf, type Category, type Classification, type RuleEngine } from '../rules';
import type { Alert } from '../sources';
import type { AlertRow, FaultRow, MailStore, OutboxRow, Repos } from '../store';
import { decide, type Decision } from './decide';
import { newFaultId } from './fault-id';
import type { FaultEvent, HumanEvent, TimerEvent } from './events';
import { alertIdent, faultFromRow, faultIdent, faultToRow, type AlertRecord, type Fault, type MailLog } from './fault';
import type { MailIntent, OperationKind, OperationPayload, TicketIntent, TransitionName, WritebackIntent } from './intents';
import { policyOf, type LoopSettings, type Policy } from './policy';
import type { Category as RuleCategory } from '../rules';
import type { MailEvent } from '../config/schema';

export interface ClassifiedAlert {
  alert: Alert;
  classification: Classification;
}

/** What became of one alert, and the fault it went to. */
export interface AppliedAlert {
  outcome: AlertOutcome;
  faultId: string | null;
  /** What the alert's row became: new to its fault, changed, or only seen again. */
  alertWrite?: 'insert' | 'update' | 'touch';
}

export interface Transition {
  faultId: string;
  category: string;
  key: string;
  transition: TransitionName;
  severity: number;
  /** The fault's estimate, and how long it has been open (for estimated-vs-actual metrics). */
  estimateHours: number;
  openHours: number;
  stale: boolean;
  /** The tier that holds the fault after it. */
  tier: string | null;
}

/** Decides which fault events become mails (src/notify); the faults stage only hands them over. */
export interface MailPlanning {
  plan(
    mail: MailStore,
    now: number,
    events: ReadonlyArray<{ fault: Fault; event: MailEvent; changes: string[] }>,
    categoryOf: (name: string) => RuleCategory | undefined,
  ): Promise<{ changes: OutboxChange[]; mailLogs: Map<string, MailLog> }>;
}

export interface UnitOfWorkDeps {
  engine: RuleEngine;
  /** Fitted repair-time models for new faults; a category without one uses its rule's. */
  estimates?: (category: string) => RepairTimeModel | undefined;
  /** Queues the mails the changes call for; absent without e-mail. */
  mail?: MailPlanning;
  /** Names new faults (tests pass a counter). */
  newId?: () => string;
  /** The config's tiers and what happens after a person closes a ticket. */
  loop?: LoopSettings;
  /** The monitoring systems write-backs go to (the sources configured under writeback). */
  writebackTargets?: readonly string[];
}

interface AlertSlot {
  record: AlertRecord;
  write?: 'insert' | 'update' | 'touch';
}

/**
 * One unit of work: loads the faults a batch of events touches, applies
 * decide() to each event in order, then saves the changed faults, alerts and
 * outbox operations, all in the transaction it was given. Ingest, the
 * scheduled jobs, people's actions and the dry run (explain) all go through it.
 */
export class UnitOfWork {
  private readonly faults = new Map<string, Fault>();
  /** Faults as loaded, before this batch's decisions. */
  private readonly originals = new Map<string, Fault>();
  /** Rows as read, so that save() writes only what changed. */
  private readonly loadedFaults = new Map<string, FaultRow>();
  private readonly loadedAlerts = new Map<number, AlertRow>();
  private readonly changed = new Set<string>();
  /** ident → id of the current fault of that category and key. */
  private readonly current = new Map<string, string>();
  /** alert ident → ids of the current faults that hold that alert. */
  private readonly owners = new Map<string, string[]>();
  private readonly slots = new Map<string, AlertSlot>();
  private readonly waiting = new Map<string, WaitingOperation[]>();
  private readonly ticketIntents = new Map<string, TicketIntent[]>();
  /** The category each fault's intents were decided under (its lines are paced by it). */
  private readonly categories = new Map<string, Category>();
  private readonly mailIntents: Array<{ faultId: string; intent: MailIntent }> = [];
  private readonly writebacks: Array<{ faultId: string; intent: WritebackIntent }> = [];
  /** Policies by category and whether the fault is new (only a new one uses a fitted model): one per batch. */
  private readonly policies = new Map<Category, { existing?: Policy; opening?: Policy }>();
  readonly transitions: Transition[] = [];

  private constructor(
    private readonly tx: Repos,
    private readonly now: number,
    private readonly deps: UnitOfWorkDeps,
  ) {}

  /** Loads what a batch of alerts touches: their faults by key, the faults that hold them, their waiting operations. */
  static async forAlerts(tx: Repos, now: number, deps: UnitOfWorkDeps, items: readonly ClassifiedAlert[]): Promise<UnitOfWork> {
    const uow = new UnitOfWork(tx, now, deps);
    const idents = [...new Set(items.map((i) => faultIdent(i.classification.category.name, i.classification.key)))];
    const alertIdents = [...new Set(items.map((i) => alertIdent(i.alert)))];
    // An alert already in a fault stays with that fault, whatever its labels or the rules say now.
    const owned = await tx.alerts.findInCurrentFaults(alertIdents);
    const rows = await tx.faults.findCurrent(idents);
    const known = new Set(rows.map((f) => f.id));
    const missing = [...new Set(owned.map((a) => a.fault_id))].filter((id) => !known.has(id));
    rows.push(...(await tx.faults.getMany(missing)));
    for (const row of rows) uow.addLoaded(row);
    for (const row of owned) {
      uow.addLoadedAlert(row);
      uow.owners.set(row.ident, [...(uow.owners.get(row.ident) ?? []), row.fault_id]);
    }
    const faultIds = rows.map((f) => f.id);
    // Read again now that the faults are locked (PostgreSQL, MySQL): another replica may have changed
    // their alerts between the first read and the lock, and this read is the one that counts. A store
    // with one writer would read the same rows again.
    if (tx.faults.locksRows) for (const row of await tx.alerts.findInFaults(faultIds, alertIdents)) uow.addLoadedAlert(row);
    uow.addWaiting(await tx.outbox.pendingOfFaults(faultIds));
    return uow;
  }

  /** Loads faults by id, for events about whole faults (timers, people's actions). */
  static async forFaults(tx: Repos, now: number, deps: UnitOfWorkDeps, ids: readonly string[]): Promise<UnitOfWork> {
    const uow = new UnitOfWork(tx, now, deps);
    const rows = await tx.faults.getMany(ids);
    for (const row of rows) uow.addLoaded(row);
    uow.addWaiting(await tx.outbox.pendingOfFaults(rows.map((r) => r.id)));
    return uow;
  }

  private addLoaded(row: FaultRow): void {
    const fault = faultFromRow(row);
    this.loadedFaults.set(row.id, row);
    this.faults.set(fault.id, fault);
    this.originals.set(fault.id, fault);
    if (fault.current) this.current.set(fault.ident, fault.id);
  }

  private addLoadedAlert(row: AlertRow): void {
    this.slots.set(slotKey(row.fault_id, row.ident), { record: row });
    this.loadedAlerts.set(row.id, row);
  }

  private addWaiting(ops: readonly OutboxRow[]): void {
    for (const op of ops) {
      const fault = op.fault_id === null ? undefined : this.faults.get(op.fault_id);
      // Only the fault's ticket line is planned here; its mails are the mail planner's.
      if (!fault || op.system !== fault.ticket.system) continue;
      const list = this.waiting.get(fault.id) ?? [];
      list.push({ id: op.id, kind: op.kind as OperationKind, payload: JSON.parse(op.payload) as OperationPayload, nextAttemptAt: op.next_attempt_at });
      this.waiting.set(fault.id, list);
    }
  }

  /** A fault as the batch leaves it so far. */
  fault(id: string): Fault | undefined {
    return this.faults.get(id);
  }

  /** A fault as it was stored before this batch (undefined for one the batch opened). */
  original(id: string): Fault | undefined {
    return this.originals.get(id);
  }

  /** The category a fault was opened under, as the rules have it now. */
  private categoryOf(fault: Fault, fallback: Category): Category {
    return this.deps.engine.category(fault.category) ?? fallback;
  }

  /** The current fault holding this alert: a live one first, else the latest. */
  private owner(alert: Alert, liveOnly: boolean): Fault | undefined {
    const faults = (this.owners.get(alertIdent(alert)) ?? []).map((id) => this.faults.get(id)).filter((f): f is Fault => f !== undefined && f.current);
    const live = faults.filter((f) => f.state !== 'resolved').sort((a, b) => b.openedAt - a.openedAt)[0];
    if (live || liveOnly) return live;
    return faults.sort((a, b) => b.openedAt - a.openedAt)[0];
  }

  private byKey(c: Classification): Fault | undefined {
    const id = this.current.get(faultIdent(c.category.name, c.key));
    return id === undefined ? undefined : this.faults.get(id);
  }

  /** Applies one alert: routes it to its fault, decides, and records what the decision wrote. */
  apply({ alert, classification: c }: ClassifiedAlert): AppliedAlert {
    const opening = { key: c.key, keyLabels: c.keyLabels };
    let fault: Fault | undefined;
    let category = c.category;
    let fs = c.fs;
    if (alert.note && alert.note.kind !== 'comment') {
      fault = this.owner(alert, true) ?? this.byKey(c);
    } else if (alert.status === 'firing') {
      fault = this.owner(alert, true);
      if (fault) {
        category = this.categoryOf(fault, c.category);
        fs = severityOf(category, alert.labels);
      } else {
        fault = this.byKey(c);
      }
    } else {
      fault = this.owner(alert, false) ?? this.byKey(c);
    }
    // A fault's id is drawn only when the event may open one.
    const eventFor = (target: Fault | undefined, follows?: Decision['follows']): FaultEvent => {
      const record = target ? this.slots.get(slotKey(target.id, alertIdent(alert)))?.record : undefined;
      const newId = target ? '' : this.deps.newId ? this.deps.newId() : newFaultId(this.now);
      const more = follows ? { follows } : {};
      if (alert.note) return { type: 'alert_note', alert, note: alert.note, record, fs, newId, opening, ...more };
      return alert.status === 'firing' ? { type: 'alert_firing', alert, record, fs, newId, opening, ...more } : { type: 'alert_resolved', alert, record };
    };
    let decision = this.decide(fault, eventFor(fault), fault ? this.categoryOf(fault, category) : category);
    if (decision.superseded) {
      fs = c.fs;
      decision = this.decide(undefined, eventFor(undefined, decision.follows), c.category);
    }
    const write = decision.alerts.find((w) => w.record.ident === alertIdent(alert))?.write;
    return { outcome: decision.outcome, faultId: decision.fault?.id ?? fault?.id ?? null, ...(write ? { alertWrite: write } : {}) };
  }

  private policy(category: Category, opening: boolean): Policy {
    let cached = this.policies.get(category);
    if (!cached) this.policies.set(category, (cached = {}));
    if (opening) return (cached.opening ??= policyOf(category, this.deps.estimates?.(category.name), this.deps.loop));
    return (cached.existing ??= policyOf(category, undefined, this.deps.loop));
  }

  /** Applies an event about a whole fault (a timer, a person's action); false when the fault is not loaded. */
  applyToFault(id: string, event: TimerEvent | HumanEvent, fallback: Category): boolean {
    const fault = this.faults.get(id);
    if (!fault) return false;
    this.decide(fault, event, this.categoryOf(fault, fallback));
    return true;
  }

  private decide(fault: Fault | undefined, event: FaultEvent, category: Category): Decision {
    const decision = decide(fault, event, this.policy(category, fault === undefined), this.now);
    const after = decision.fault;
    if (after) {
      this.faults.set(after.id, after);
      if (decision.changed) this.changed.add(after.id);
      if (after.current) this.current.set(after.ident, after.id);
      else if (this.current.get(after.ident) === after.id) this.current.delete(after.ident);
      this.categories.set(after.id, category);
      for (const intent of decision.intents) {
        if (intent.kind === 'ticket') this.ticketIntents.set(after.id, [...(this.ticketIntents.get(after.id) ?? []), intent]);
        else if (intent.kind === 'mail') this.mailIntents.push({ faultId: after.id, intent });
        else this.writebacks.push({ faultId: after.id, intent });
      }
      for (const name of decision.transitions) this.transitions.push(this.transitionOf(after, name));
    }
    for (const { record, write } of decision.alerts) {
      const key = slotKey(record.fault_id, record.ident);
      const slot = this.slots.get(key);
      if (!slot && write === 'insert') this.owners.set(record.ident, [...(this.owners.get(record.ident) ?? []), record.fault_id]);
      // A row inserted by this batch stays an insert; a changed one is not demoted to a touch.
      const merged = slot?.write === 'insert' ? 'insert' : slot?.write === 'update' && write === 'touch' ? 'update' : write;
      this.slots.set(key, { record, write: merged });
    }
    return decision;
  }

  private transitionOf(f: Fault, transition: TransitionName): Transition {
    return {
      faultId: f.id,
      category: f.category,
      key: f.key,
      transition,
      severity: f.severity,
      estimateHours: f.repairTimeHours,
      openHours: (this.now - f.openedAt) / 3_600_000,
      stale: f.stale,
      tier: f.tier,
    };
  }

  /** Every alert the batch read or wrote, with its fault, as they stand after save(). */
  *alertSlots(): Iterable<{ record: AlertRecord; fault: Fault | undefined }> {
    for (const slot of this.slots.values()) yield { record: slot.record, fault: this.faults.get(slot.record.fault_id) };
  }

  /**
   * One write-back operation per monitoring system the fault's alerts came from (and that is
   * configured), in the fault's line; acknowledgements are rare, so the sources are read here.
   */
  private async planWritebacks(): Promise<OutboxChange[]> {
    const targets = new Set(this.deps.writebackTargets ?? []);
    if (targets.size === 0 || this.writebacks.length === 0) return [];
    const sources = new Map<string, Set<string>>();
    const changes: OutboxChange[] = [];
    for (const { faultId, intent } of this.writebacks) {
      let of = sources.get(faultId);
      if (!of) {
        of = new Set((await this.tx.alerts.listByFault(faultId)).map((a) => a.source));
        // Alerts this batch added are not stored yet.
        for (const slot of this.slots.values()) if (slot.record.fault_id === faultId) of.add(slot.record.source);
        sources.set(faultId, of);
      }
      for (const system of of) {
        if (!targets.has(system)) continue;
        const payload = { ...(intent.by ? { by: intent.by } : {}), ...(intent.reason ? { reason: intent.reason } : {}) };
        changes.push({ type: 'insert', op: { line: { fault: faultId }, system, kind: intent.action, payload, nextAttemptAt: this.now } });
      }
    }
    return changes;
  }

  /**
   * Writes everything the batch changed, in the transaction it was loaded in:
   * faults, alerts, the faults' ticket lines and the mails. Returns how many
   * new operations are due now (they wake the outbox).
   */
  async save(): Promise<{ dueNow: number }> {
    const outbox: OutboxChange[] = [];
    for (const [faultId, intents] of this.ticketIntents) {
      const fault = this.faults.get(faultId) as Fault;
      const category = this.categories.get(faultId) as Category;
      const plan = planTicketLine(
        {
          faultId,
          system: fault.ticket.system,
          waiting: this.waiting.get(faultId) ?? [],
          lastUpdateAt: fault.lastUpdateAt,
          openedAt: fault.openedAt,
          updateIntervalMs: category.updateIntervalMs,
        },
        intents,
        this.now,
      );
      outbox.push(...plan.changes);
      if (plan.lastUpdateAt !== fault.lastUpdateAt) this.faults.set(faultId, { ...fault, lastUpdateAt: plan.lastUpdateAt });
    }
    if (this.deps.mail && this.mailIntents.length > 0) {
      const events = this.mailIntents.map(({ faultId, intent }) => ({ fault: this.faults.get(faultId) as Fault, event: intent.event, changes: intent.changes }));
      const plan = await this.deps.mail.plan(this.tx.mail, this.now, events, (name) => this.deps.engine.category(name));
      outbox.push(...plan.changes);
      for (const [faultId, mailLog] of plan.mailLogs) {
        this.faults.set(faultId, { ...(this.faults.get(faultId) as Fault), mailLog });
        this.changed.add(faultId);
      }
    }

    outbox.push(...(await this.planWritebacks()));

    // Superseded faults first: the new fault takes over their unique ident.
    const superseded: Fault[] = [];
    const inserts: Fault[] = [];
    const updates: Fault[] = [];
    for (const id of this.changed) {
      const f = this.faults.get(id) as Fault;
      if (!this.originals.has(id)) inserts.push(f);
      else if (!f.current) superseded.push(f);
      else updates.push(f);
    }
    await this.tx.faults.updateMany(superseded.map(faultToRow), this.loadedFaults);
    await this.tx.faults.insertMany(inserts.map(faultToRow));
    await this.tx.faults.updateMany(updates.map(faultToRow), this.loadedFaults);

    const newAlerts: AlertRecord[] = [];
    const changedAlerts: AlertRow[] = [];
    const touched: number[] = [];
    for (const slot of this.slots.values()) {
      if (slot.write === 'insert') newAlerts.push(slot.record);
      else if (slot.write === 'update') changedAlerts.push(slot.record as AlertRow);
      else if (slot.write === 'touch' && slot.record.id !== undefined) touched.push(slot.record.id);
    }
    await this.tx.alerts.updateMany(changedAlerts, this.loadedAlerts);
    await this.tx.alerts.insert(newAlerts);
    await this.tx.alerts.touch(touched, this.now);
    return { dueNow: await applyOutboxChanges(this.tx.outbox, outbox, this.now) };
  }
}

function slotKey(faultId: string, ident: string): string {
  return `${faultId}|${ident}`;
}
