import { createHash } from 'node:crypto';
import type { Clock } from '../clock';
import type { RepairTimeModel } from '../estimate';
import { notFound } from '../errors';
import type { Logger } from '../log';
import type { AlertOutcome, Metrics } from '../metrics';
import type { RuleEngine } from '../rules';
import type { Alert, SourceName } from '../sources';
import { withStoreRetry, type Repos, type Store } from '../store';
import type { Actor, HumanEvent, TimerEvent } from './events';
import type { StaleWindow } from './stale';
import type { LoopSettings } from './policy';
import { GroupCommit } from './group-commit';
import type { RepeatCache } from './repeat-cache';
import type { TicketEvent } from '../tickets/inbound/types';
import { faultFromRow } from './fault';
import { toTicketChanged, type InboundSettings } from './ticket-events';
import { UnitOfWork, type ClassifiedAlert, type MailPlanning, type Transition } from './unit-of-work';

export interface IngestResult {
  received: number;
  outcomes: Partial<Record<AlertOutcome, number>>;
  /** Ids of the faults the alerts joined, in the order of the alerts (null for dropped or ignored ones). */
  faults: Array<string | null>;
  /** The fault transitions the alerts caused, in order (opened, escalated, resolved, reopened, flapping, ...). */
  transitions: Array<{ fault: string; transition: string }>;
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
  /** Answers repeats from memory; only where this process is the store's only writer (SQLite). */
  repeats?: RepeatCache;
  /** Fitted repair-time models for new faults. */
  estimates?: (category: string) => RepairTimeModel | undefined;
  /** Tiers and what follows a person's close (read at each use: a reload changes them). */
  loop?: () => LoopSettings;
  /** The monitoring systems acknowledgements are written back to. */
  writebackTargets?: readonly string[];
  /** How to read each listened-to ticket system's changes (read at each use: a reload changes them). */
  inbound?: () => Partial<Record<TicketEvent['system'], InboundSettings>>;
}

/** What became of a change heard from a ticket system; a small fixed set, so it can be a metric label. */
export type TicketEventOutcome = 'applied' | 'duplicate' | 'own' | 'unknown_ticket';

/** Names a comment heard from a ticket: its own id when the system gives one, else its ticket and text. */
function commentKey(event: TicketEvent): string {
  const c = event.comment!;
  return c.id ? `${event.system}:comment:${c.id}` : `${event.system}:comment:${event.ticketId}:${createHash('sha256').update(c.text).digest('base64url')}`;
}

/** A request's alerts waiting to be written with the group they join. */
interface PendingIngest {
  engine: RuleEngine;
  items: Array<ClassifiedAlert & { index: number }>;
  outcomes: AlertOutcome[];
  faultIds: Array<string | null>;
  transitions: Transition[];
}

/**
 * The faults stage's face: alerts in (classified, repeats answered from
 * memory, the rest written in groups through the unit of work), and the
 * events of timers and people.
 */
export class FaultService {
  private readonly groups: GroupCommit<PendingIngest>;

  constructor(private readonly deps: FaultServiceDeps) {
    // One rule set per group: a request classified before a reload waits for the next group.
    this.groups = new GroupCommit((group) => this.writeGroup(group), (a, b) => a.engine === b.engine);
  }

  /**
   * Classifies the alerts and applies them to their faults in one transaction
   * (shared with the requests that arrive at the same moment). When this
   * resolves, the alerts, the fault changes and the outbox operations are
   * committed; when it throws, nothing of them is.
   */
  async ingest(source: SourceName, alerts: readonly Alert[]): Promise<IngestResult> {
    const engine = this.deps.rules(); // one rule set for the whole batch, even across a reload
    const now = this.deps.clock.now();
    const outcomes: AlertOutcome[] = new Array(alerts.length);
    const faultIds: Array<string | null> = new Array(alerts.length).fill(null);
    const full = this.deps.repeats ? this.deps.repeats.answer(engine, alerts, now, outcomes, faultIds) : alerts.map((_, i) => i);
    const items: PendingIngest['items'] = [];
    for (const index of full) {
      const alert = alerts[index] as Alert;
      const classification = engine.classify(alert);
      if (classification.category.action === 'drop') outcomes[index] = 'dropped';
      else items.push({ alert, classification, index });
    }
    const request: PendingIngest = { engine, items, outcomes, faultIds, transitions: [] };
    if (items.length > 0) await this.groups.submit(request);
    const counts: Partial<Record<AlertOutcome, number>> = {};
    for (const outcome of outcomes) counts[outcome] = (counts[outcome] ?? 0) + 1;
    for (const [outcome, n] of Object.entries(counts)) this.deps.metrics.alertsReceived.inc({ source, outcome }, n);
    this.report(request.transitions);
    return {
      received: alerts.length,
      outcomes: counts,
      faults: faultIds,
      transitions: request.transitions.map((t) => ({ fault: t.faultId, transition: t.transition })),
    };
  }

  /** One transaction for a group of requests, retried whole when it lost a race to another replica. */
  private async writeGroup(group: readonly PendingIngest[]): Promise<void> {
    const engine = (group[0] as PendingIngest).engine;
    const items = group.flatMap((p) => p.items);
    const { store } = this.deps;
    const { uow, dueNow } = await withStoreRetry(store, () =>
      store.transaction(async (tx) => {
        const uow = await UnitOfWork.forAlerts(tx, this.deps.clock.now(), this.uowDeps(engine), items);
        for (const p of group) {
          const before = uow.transitions.length;
          for (const item of p.items) {
            const applied = uow.apply(item);
            p.outcomes[item.index] = applied.outcome;
            p.faultIds[item.index] = applied.faultId;
          }
          p.transitions = uow.transitions.slice(before);
        }
        return { uow, ...(await uow.save()) };
      }),
    );
    this.deps.repeats?.learn(uow.alertSlots());
    if (dueNow > 0) this.deps.onOperationsQueued?.();
  }

  private uowDeps(engine: RuleEngine) {
    return { engine, estimates: this.deps.estimates, mail: this.deps.mail, loop: this.deps.loop?.(), writebackTargets: this.deps.writebackTargets };
  }

  /**
   * Resolves once no alerts are being written, or after `maxWaitMs`: the outbox
   * workers wait for it before they take the writer, so that in a storm the
   * alerts are stored first and the tickets catch up after.
   */
  ingestIdle(maxWaitMs: number): Promise<void> {
    return this.groups.whenIdle(maxWaitMs);
  }

  /** Writes the last-seen times of repeats answered from memory (see RepeatCache). */
  flushTouches(): Promise<number> {
    return this.deps.repeats?.flush() ?? Promise.resolve(0);
  }

  /** Flapping faults that have been quiet long enough take the state of their alerts; returns how many settled. */
  async settleFlapping(): Promise<number> {
    const engine = this.deps.rules();
    const now = this.deps.clock.now();
    const quietMs = (category: string) => (engine.category(category) ?? engine.rules.fallback).flapping.quietMs;
    const transitions = await this.changeFaults(
      async (tx) => (await tx.faults.listCurrentInState('flapping')).filter((f) => now - f.last_change_at >= quietMs(f.category)).map((f) => f.id),
      () => ({ type: 'flapping_quiet' }),
    );
    return transitions.filter((t) => t.transition === 'settled').length;
  }

  /** Open faults past their due time are escalated once: a ticket comment and an at-risk mail. */
  async escalateAtRisk(): Promise<number> {
    const now = this.deps.clock.now();
    const transitions = await this.changeFaults(
      async (tx) => (await tx.faults.overdueNotFlagged(now)).map((f) => f.id),
      () => ({ type: 'due_passed' }),
    );
    return transitions.length;
  }

  /**
   * Faults whose sources went silent are resolved as stale, with a note: a fault
   * is swept when every firing alert of it comes from the sources of one window
   * and none was received within it.
   */
  async sweepStale(windows: readonly StaleWindow[]): Promise<number> {
    let resolved = 0;
    for (const { afterMs, sources, resends } of windows) {
      const now = this.deps.clock.now();
      const transitions = await this.changeFaults(
        (tx) => tx.alerts.staleFaults(now - afterMs, sources),
        async (tx, id) => ({ type: 'stale', afterMs, resends, firing: await tx.alerts.firingOf(id) }),
      );
      resolved += transitions.filter((t) => t.transition === 'resolved').length;
    }
    return resolved;
  }

  /** An operator resolves a fault by hand (its source will never send the recovery), with a reason on the timeline. */
  async resolveByHand(faultId: string, actor: Actor, reason: string): Promise<Transition[]> {
    return this.act(faultId, async (tx) => ({ type: 'resolve', ...actor, reason, firing: await tx.alerts.firingOf(faultId) }));
  }

  /** A timer event for the faults `find` names (e.g. write-backs due again); returns the transitions. */
  tick(find: (tx: Repos) => Promise<string[]>, event: TimerEvent): Promise<Transition[]> {
    return this.changeFaults(find, () => event);
  }

  /** A person's action on a fault (an operator's resolve; the human loop's events). Throws not_found for an unknown fault. */
  async act(faultId: string, event: (tx: Repos) => Promise<HumanEvent>): Promise<Transition[]> {
    let found = true;
    const transitions = await this.changeFaults(
      async (tx) => {
        found = (await tx.faults.get(faultId)) !== undefined;
        return found ? [faultId] : [];
      },
      (tx) => event(tx),
    );
    if (!found) throw notFound(`fault ${faultId}`);
    return transitions;
  }

  /**
   * Changes heard from a ticket system (a webhook delivery or a poll), each applied to its fault in
   * a transaction of its own that also records the change's id (and the delivery's, when given): a
   * change heard twice, by a retried delivery or by a webhook and a poll, is applied once. A ticket
   * of no fault of ours (a trigger fires for every ticket) is ignored.
   */
  async onTicketEvents(events: readonly TicketEvent[], options: { deliveryKey?: string } = {}): Promise<TicketEventOutcome[]> {
    const outcomes: TicketEventOutcome[] = [];
    let deliveryKey = options.deliveryKey;
    for (const event of events) {
      outcomes.push(await this.onTicketEvent(event, deliveryKey));
      deliveryKey = undefined; // recorded with the first change (or found before it)
    }
    if (deliveryKey !== undefined && events.length === 0) {
      const key = deliveryKey;
      await withStoreRetry(this.deps.store, () => this.deps.store.repos.inbound.remember(key, this.deps.clock.now()));
    }
    return outcomes;
  }

  private async onTicketEvent(event: TicketEvent, deliveryKey: string | undefined): Promise<TicketEventOutcome> {
    const engine = this.deps.rules();
    const { store } = this.deps;
    const settings = this.deps.inbound?.()[event.system] ?? { wontFix: [], ownUsers: [], tierOfGroup: () => undefined };
    const { outcome, transitions, dueNow } = await withStoreRetry(store, () =>
      store.transaction(async (tx) => {
        const none = (outcome: TicketEventOutcome) => ({ outcome, transitions: [] as Transition[], dueNow: 0 });
        const now = this.deps.clock.now();
        if (deliveryKey !== undefined && !(await tx.inbound.remember(deliveryKey, now))) return none('duplicate');
        const byId = event.faultId ? await tx.faults.get(event.faultId) : undefined;
        // The fault the ticket belongs to: named by the ticket's external id, but only while that ticket is the fault's.
        const row = byId && byId.ticket_system === event.system && byId.ticket_id === event.ticketId ? byId : await tx.faults.findByTicket(event.system, event.ticketId);
        if (!row) return none('unknown_ticket');
        if (!(await tx.inbound.remember(event.changeId, now))) return none('duplicate');
        // A trigger or business rule sends the latest comment with every update: each comment is taken once.
        const heard = event.comment && !(await tx.inbound.remember(commentKey(event), now)) ? { ...event, comment: undefined } : event;
        const human = toTicketChanged(heard, faultFromRow(row), settings);
        const uow = await UnitOfWork.forFaults(tx, now, this.uowDeps(engine), [row.id]);
        uow.applyToFault(row.id, human, engine.rules.fallback);
        const saved = await uow.save();
        return { outcome: (human.own ? 'own' : 'applied') as TicketEventOutcome, transitions: uow.transitions, dueNow: saved.dueNow };
      }),
    );
    if (transitions.length > 0) this.deps.repeats?.forget();
    this.report(transitions);
    if (dueNow > 0 || transitions.length > 0) this.deps.onOperationsQueued?.();
    return outcome;
  }

  /** Loads faults by id, applies an event to each in one unit of work, and commits it with its operations and mails. */
  private async changeFaults(find: (tx: Repos) => Promise<string[]>, eventOf: (tx: Repos, id: string) => Promise<TimerEvent | HumanEvent> | TimerEvent | HumanEvent): Promise<Transition[]> {
    const engine = this.deps.rules();
    const { store } = this.deps;
    const { transitions, dueNow } = await withStoreRetry(store, () =>
      store.transaction(async (tx) => {
        const ids = await find(tx);
        if (ids.length === 0) return { transitions: [] as Transition[], dueNow: 0 };
        const uow = await UnitOfWork.forFaults(tx, this.deps.clock.now(), this.uowDeps(engine), ids);
        for (const id of ids) uow.applyToFault(id, await eventOf(tx, id), engine.rules.fallback);
        const saved = await uow.save();
        return { transitions: uow.transitions, dueNow: saved.dueNow };
      }),
    );
    if (transitions.length > 0) this.deps.repeats?.forget();
    this.report(transitions);
    if (dueNow > 0 || transitions.length > 0) this.deps.onOperationsQueued?.();
    return transitions;
  }

  private report(transitions: readonly Transition[]): void {
    for (const t of transitions) {
      this.deps.metrics.faultTransitions.inc({ transition: t.transition });
      if (t.transition === 'opened') this.deps.metrics.repairEstimate.observe({ category: t.category }, t.estimateHours);
      if (t.transition === 'resolved' && !t.stale) this.deps.metrics.repairActual.observe({ category: t.category }, t.openHours);
      if (t.transition === 'tier_escalated' && t.tier) this.deps.metrics.tierEscalations.inc({ tier: t.tier });
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
