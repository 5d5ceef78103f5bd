import type { Clock } from '../clock';
import type { Logger } from '../log';
import type { AlertOutcome, Metrics } from '../metrics';
import type { RuleEngine } from '../rules';
import type { Alert, SourceName } from '../sources';
import type { Category } from '../rules';
import type { AlertRow, FaultRow, Repos, Store } from '../store';
import type { RepairTimeModel } from '../estimate';
import type { MailEvent } from '../config/schema';
import { FaultBatch, alertIdent, type ClassifiedAlert, type Transition } from './lifecycle';
import type { KnownAlerts } from './known-alerts';

export interface IngestResult {
  received: number;
  outcomes: Partial<Record<AlertOutcome, number>>;
  /** Ids of the faults the alerts joined, in the order of the alerts (null for dropped or ignored ones). */
  faults: Array<string | null>;
  /** The fault transitions the alerts caused, in order (opened, escalated, resolved, reopened, flapping, ...). */
  transitions: Array<{ fault: string; transition: string }>;
}

/** Decides which fault events become mails (src/notify); the faults stage only hands them over. */
export interface MailPlanning {
  plan(
    tx: Repos,
    now: number,
    events: ReadonlyArray<{ fault: FaultRow; event: MailEvent; changes: string[] }>,
    categoryOf: (name: string) => Category | undefined,
  ): Promise<number>;
}

export interface FaultServiceDeps {
  store: Store;
  rules: () => RuleEngine;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /** Called after a commit that queued outbox operations, so delivery starts at once. */
  onOperationsQueued?: () => void;
  /** Queues the mails the changes call for, in the same transaction; absent without e-mail. */
  mail?: MailPlanning;
  /**
   * The committed state of firing alerts, to answer repeats without a transaction;
   * only when this process is the store's only writer (SQLite).
   */
  known?: KnownAlerts;
  /** Fitted repair-time models for new faults. */
  estimates?: (category: string) => RepairTimeModel | undefined;
}

/** Last-seen times written per transaction by flushTouches(). */
const TOUCHES_PER_TRANSACTION = 200;

/** A request's alerts waiting to be written with the group they join. */
interface PendingIngest {
  engine: RuleEngine;
  items: Array<ClassifiedAlert & { index: number }>;
  outcomes: AlertOutcome[];
  faultIds: Array<string | null>;
  transitions: Transition[];
  resolve: (transitions: Transition[]) => void;
  reject: (err: unknown) => void;
}

export class FaultService {
  private waiting: PendingIngest[] = [];
  private writing = false;
  private touchFlushes: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: FaultServiceDeps) {}

  /**
   * Classifies the alerts and applies them to their faults in one transaction
   * (shared with the requests that arrive at the same moment; see commit()).
   * When this resolves, the alerts, the fault changes and the outbox
   * operations are committed; when it throws, nothing of them is.
   */
  async ingest(source: SourceName, alerts: readonly Alert[]): Promise<IngestResult> {
    const engine = this.deps.rules(); // one rule set for the whole batch, even across a reload
    const now = this.deps.clock.now();
    const outcomes: AlertOutcome[] = new Array(alerts.length);
    const faultIds: Array<string | null> = new Array(alerts.length).fill(null);
    const full = this.answerRepeats(engine, alerts, now, outcomes, faultIds);
    const kept: Array<ClassifiedAlert & { index: number }> = [];
    for (const index of full) {
      const alert = alerts[index] as Alert;
      const classification = engine.classify(alert);
      if (classification.category.action === 'drop') outcomes[index] = 'dropped';
      else kept.push({ alert, classification, index });
    }
    const transitions = kept.length > 0 ? await this.commit({ engine, items: kept, outcomes, faultIds }) : [];
    const counts: Partial<Record<AlertOutcome, number>> = {};
    for (const outcome of outcomes) counts[outcome] = (counts[outcome] ?? 0) + 1;
    for (const [outcome, n] of Object.entries(counts)) this.deps.metrics.alertsReceived.inc({ source, outcome }, n);
    this.report(transitions);
    return {
      received: alerts.length,
      outcomes: counts,
      faults: faultIds,
      transitions: transitions.map((t) => ({ fault: t.faultId, transition: t.transition })),
    };
  }

  /**
   * Applies a request's alerts together with those of every request waiting
   * beside it, in one transaction, in arrival order: the same as one request
   * after another, with one commit (and one set of queries) for all. Requests
   * that arrive while a group is being written form the next group. Resolves
   * with the request's transitions once the group is committed.
   */
  private commit(request: Omit<PendingIngest, 'resolve' | 'reject' | 'transitions'>): Promise<Transition[]> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ ...request, transitions: [], resolve, reject });
      // Wait a turn of the event loop, so that requests read in the same turn join the group.
      if (!this.writing) {
        this.writing = true;
        setImmediate(() => void this.writeGroups());
      }
    });
  }

  private async writeGroups(): Promise<void> {
    try {
      await this.writeWaitingGroups();
    } finally {
      this.writing = false;
    }
  }

  private async writeWaitingGroups(): Promise<void> {
    while (this.waiting.length > 0) {
      // One rule set per group: a request classified before a reload waits for the next one.
      const engine = (this.waiting[0] as PendingIngest).engine;
      const group = this.waiting.filter((p) => p.engine === engine);
      this.waiting = this.waiting.filter((p) => p.engine !== engine);
      try {
        await this.writeGroup(engine, group);
        for (const p of group) p.resolve(p.transitions);
      } catch (err) {
        if (group.length === 1) {
          (group[0] as PendingIngest).reject(err);
          continue;
        }
        // One request may be what fails: each on its own, so that only that one is refused.
        for (const p of group) {
          try {
            await this.writeGroup(engine, [p]);
            p.resolve(p.transitions);
          } catch (alone) {
            p.reject(alone);
          }
        }
      }
    }
  }

  private async writeGroup(engine: RuleEngine, group: readonly PendingIngest[]): Promise<void> {
    const items = group.flatMap((p) => p.items);
    // Another replica may open the same fault or lock the same rows at the same moment: the
    // loser's transaction rolls back whole and is tried again, and then finds the winner's fault.
    for (let attempt = 1; ; attempt++) {
      const now = this.deps.clock.now();
      let operations = 0;
      try {
        const batch = await this.deps.store.transaction(async (tx) => {
          const batch = await FaultBatch.load(tx, now, engine, items, this.deps.estimates);
          for (const p of group) {
            const before = batch.transitions.length;
            for (const item of p.items) {
              const applied = batch.apply(item);
              p.outcomes[item.index] = applied.outcome;
              p.faultIds[item.index] = applied.faultId;
            }
            p.transitions = batch.transitions.slice(before);
          }
          operations = (await batch.save()).dueNow;
          if (this.deps.mail) operations += await this.deps.mail.plan(tx, now, batch.mailEvents, (name) => engine.category(name));
          return batch;
        });
        this.deps.known?.learn(batch.alertSlots());
        if (operations > 0) this.deps.onOperationsQueued?.();
        return;
      } catch (err) {
        if (attempt >= 5 || !this.deps.store.isRetryable(err)) throw err;
        await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
      }
    }
  }

  /**
   * Answers the deliveries that repeat what is committed (KnownAlerts) and
   * returns the indexes of the rest, which take the full path. Every delivery
   * of an alert that takes the full path takes it, so a payload's alerts
   * still apply in order.
   */
  private answerRepeats(engine: RuleEngine, alerts: readonly Alert[], now: number, outcomes: AlertOutcome[], faultIds: Array<string | null>): number[] {
    const known = this.deps.known;
    if (!known) return alerts.map((_, i) => i);
    known.useRules(engine);
    const idents = alerts.map(alertIdent);
    const repeats = alerts.map((alert, i) => known.repeat(alert, idents[i] as string, now));
    const slow = new Set<string>();
    repeats.forEach((r, i) => r === undefined && slow.add(idents[i] as string));
    const full: number[] = [];
    repeats.forEach((r, i) => {
      if (r === undefined || slow.has(idents[i] as string)) {
        full.push(i);
      } else {
        outcomes[i] = 'duplicate';
        faultIds[i] = r.faultId;
      }
    });
    return full;
  }

  /**
   * Writes the last-seen times of repeats answered from memory (KnownAlerts),
   * in one transaction. Called every second and when stopping: a crash loses
   * at most that second of last-seen times, never an alert or a change.
   */
  flushTouches(): Promise<number> {
    // One flush at a time: the timer's and the last one at stop run one after the other.
    const run = this.touchFlushes.then(() => this.flushTouchesNow());
    this.touchFlushes = run.catch(() => undefined);
    return run;
  }

  private async flushTouchesNow(): Promise<number> {
    const known = this.deps.known;
    if (!known) return 0;
    const touches = known.takeTouches();
    if (touches.size === 0) return 0;
    // Rounded down to the second (never later than seen), one statement per second of them, in
    // transactions of a few hundred rows with a turn of the event loop between: a flush of
    // thousands must not hold up the requests waiting behind it.
    const byTime = new Map<number, number[]>();
    for (const [id, seen] of touches) {
      const at = seen - (seen % 1000);
      const ids = byTime.get(at);
      if (ids) ids.push(id);
      else byTime.set(at, [id]);
    }
    try {
      for (const [at, ids] of byTime) {
        for (let i = 0; i < ids.length; i += TOUCHES_PER_TRANSACTION) {
          const part = ids.slice(i, i + TOUCHES_PER_TRANSACTION);
          await this.deps.store.transaction((tx) => tx.alerts.touch(part, at));
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      }
    } catch (err) {
      // The remembered last-seen times are no longer what is stored: the next deliveries write them.
      known.forget();
      this.deps.logger.warn('could not write last-seen times of repeated alerts', { alerts: touches.size, err });
      return 0;
    }
    return touches.size;
  }

  /** Flapping faults that have been quiet long enough take the state of their alerts; returns how many settled. */
  async settleFlapping(): Promise<number> {
    const engine = this.deps.rules();
    const now = this.deps.clock.now();
    const categoryOf = (name: string) => engine.category(name) ?? engine.rules.fallback;
    const transitions = await this.changeFaults(
      now,
      async (tx) => (await tx.faults.listCurrentInState('flapping')).filter((f) => now - f.last_change_at >= categoryOf(f.category).flapping.quietMs),
      (batch, fault) => batch.settle(fault, categoryOf(fault.category)),
    );
    return transitions.filter((t) => t.transition === 'settled').length;
  }

  /** Open faults past their due time are escalated once: a ticket comment and an at-risk mail. */
  async escalateAtRisk(): Promise<number> {
    const now = this.deps.clock.now();
    const transitions = await this.changeFaults(now, (tx) => tx.faults.overdueNotFlagged(now), (batch, fault) => batch.atRisk(fault));
    return transitions.length;
  }

  /** Faults whose sources stopped resending their firing alerts are resolved as stale, with a note. */
  async sweepStale(afterMs: number, sources: readonly string[]): Promise<number> {
    if (afterMs <= 0) return 0;
    const engine = this.deps.rules();
    const now = this.deps.clock.now();
    const firing = new Map<string, AlertRow[]>();
    const transitions = await this.changeFaults(
      now,
      async (tx) => {
        const ids = await tx.faults.getMany(await tx.alerts.staleFaults(now - afterMs, sources));
        for (const f of ids) firing.set(f.id, await tx.alerts.firingOf(f.id));
        return ids;
      },
      (batch, fault) => batch.resolveStale(fault, engine.category(fault.category) ?? engine.rules.fallback, firing.get(fault.id) ?? [], afterMs),
    );
    return transitions.filter((t) => t.transition === 'resolved').length;
  }

  /** Loads faults, changes each in one batch and commits it with its operations and mails. */
  private async changeFaults(
    now: number,
    find: (tx: Repos) => Promise<FaultRow[]>,
    change: (batch: FaultBatch, fault: FaultRow) => void,
  ): Promise<Transition[]> {
    const engine = this.deps.rules();
    let transitions: Transition[] = [];
    await this.deps.store.transaction(async (tx) => {
      const faults = await find(tx);
      if (faults.length === 0) return;
      const batch = await FaultBatch.forFaults(tx, now, engine, faults);
      for (const fault of faults) change(batch, fault);
      await batch.save();
      if (this.deps.mail) await this.deps.mail.plan(tx, now, batch.mailEvents, (name) => engine.category(name));
      transitions = batch.transitions;
    });
    if (transitions.length > 0) this.deps.known?.forget();
    this.report(transitions);
    if (transitions.length > 0) this.deps.onOperationsQueued?.();
    return transitions;
  }

  private report(transitions: readonly Transition[]): void {
    for (const t of transitions) {
      this.deps.metrics.faultTransitions.inc({ transition: t.transition });
      if (t.transition === 'opened') this.deps.metrics.repairEstimate.observe({ category: t.category }, t.estimateHours);
      if (t.transition === 'resolved' && !t.stale) this.deps.metrics.repairActual.observe({ category: t.category }, t.openHours);
      this.deps.logger.info('fault transition', {
        fault: t.faultId,
        transition: t.transition,
        category: t.category,
        key: t.key,
        severity: t.severity,
      });
    }
  }
}
