import type { Clock } from '../clock';
import type { Logger } from '../log';
import type { AlertOutcome, Metrics } from '../metrics';
import type { RuleEngine } from '../rules';
import type { Alert, SourceName } from '../sources';
import type { Category } from '../rules';
import type { FaultRow, Repos, Store } from '../store';
import type { MailEvent } from '../config/schema';
import { FaultBatch, type ClassifiedAlert, type Transition } from './lifecycle';

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
}

export class FaultService {
  constructor(private readonly deps: FaultServiceDeps) {}

  /**
   * Classifies the alerts and applies them to their faults in one transaction.
   * When this resolves, the alerts, the fault changes and the outbox
   * operations are committed; when it throws, nothing is.
   */
  async ingest(source: SourceName, alerts: readonly Alert[]): Promise<IngestResult> {
    const engine = this.deps.rules(); // one rule set for the whole batch, even across a reload
    const now = this.deps.clock.now();
    const outcomes: AlertOutcome[] = new Array(alerts.length);
    const kept: Array<ClassifiedAlert & { index: number }> = [];
    alerts.forEach((alert, index) => {
      const classification = engine.classify(alert);
      if (classification.category.action === 'drop') outcomes[index] = 'dropped';
      else kept.push({ alert, classification, index });
    });
    const faultIds: Array<string | null> = alerts.map(() => null);
    let transitions: Transition[] = [];
    let operations = 0;
    if (kept.length > 0) {
      await this.deps.store.transaction(async (tx) => {
        const batch = await FaultBatch.load(tx, now, engine, kept);
        for (const item of kept) {
          const applied = batch.apply(item);
          outcomes[item.index] = applied.outcome;
          faultIds[item.index] = applied.faultId;
        }
        ({ operations } = await batch.save());
        if (this.deps.mail) operations += await this.deps.mail.plan(tx, now, batch.mailEvents, (name) => engine.category(name));
        transitions = batch.transitions;
      });
    }
    const counts: Partial<Record<AlertOutcome, number>> = {};
    for (const outcome of outcomes) {
      counts[outcome] = (counts[outcome] ?? 0) + 1;
      this.deps.metrics.alertsReceived.inc({ source, outcome });
    }
    this.report(transitions);
    if (operations > 0) this.deps.onOperationsQueued?.();
    return {
      received: alerts.length,
      outcomes: counts,
      faults: faultIds,
      transitions: transitions.map((t) => ({ fault: t.faultId, transition: t.transition })),
    };
  }

  /** Flapping faults that have been quiet long enough take the state of their alerts; returns how many settled. */
  async settleFlapping(): Promise<number> {
    const engine = this.deps.rules();
    const now = this.deps.clock.now();
    let transitions: Transition[] = [];
    let settled = 0;
    await this.deps.store.transaction(async (tx) => {
      const flapping = await tx.faults.listCurrentInState('flapping');
      const categoryOf = (name: string) => engine.category(name) ?? engine.rules.fallback;
      const quiet = flapping.filter((f) => now - f.last_change_at >= categoryOf(f.category).flapping.quietMs);
      if (quiet.length === 0) return;
      const batch = await FaultBatch.forFaults(tx, now, engine, quiet);
      for (const fault of quiet) batch.settle(fault, categoryOf(fault.category));
      await batch.save();
      if (this.deps.mail) await this.deps.mail.plan(tx, now, batch.mailEvents, (name) => engine.category(name));
      transitions = batch.transitions;
      settled = quiet.length;
    });
    this.report(transitions);
    if (settled > 0) this.deps.onOperationsQueued?.();
    return settled;
  }

  private report(transitions: readonly Transition[]): void {
    for (const t of transitions) {
      this.deps.metrics.faultTransitions.inc({ transition: t.transition });
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
