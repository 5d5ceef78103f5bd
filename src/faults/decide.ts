import { formatDuration } from '../config';
import { dueAt, repairTimeHours } from '../estimate';
import type { AlertOutcome } from '../metrics';
import type { Alert, AlertNote } from '../sources';
import type { AlertEvent, FaultEvent, HumanEvent, TimerEvent } from './events';
import { alertIdent, faultIdent, labelText, withEntry, EMPTY_TIMELINE, type AlertRecord, type Fault, type TimelineEntry } from './fault';
import type { Intent, OperationKind, OperationPayload, TransitionName, WritebackIntent } from './intents';
import type { MailEvent } from '../config/schema';
import type { Policy } from './policy';

/** An alert row the decision wrote: a new one, a changed one, or one only seen again. */
export interface AlertWrite {
  record: AlertRecord;
  write: 'insert' | 'update' | 'touch';
}

export interface Decision {
  /** The fault after the event (undefined when the event found none and opened none). */
  fault: Fault | undefined;
  alerts: AlertWrite[];
  intents: Intent[];
  /** For alert events: what became of the alert. */
  outcome: AlertOutcome;
  /** Whether the fault changed (and must be written). */
  changed: boolean;
  transitions: TransitionName[];
  /**
   * The fault was resolved too long ago to reopen (or its ticket is closed):
   * it gave up its ident, and the event must be decided again with no fault.
   */
  superseded?: boolean;
  /** With superseded: the closed ticket the next fault's ticket continues. */
  follows?: { system: string; id: string };
}

/** The transitions that are mailed, and as which event. */
const MAIL_EVENT_OF: Partial<Record<TransitionName, MailEvent>> = {
  opened: 'open',
  escalated: 'escalate',
  resolved: 'resolve',
  reopened: 'reopen',
  flapping: 'flapping',
};

/**
 * The fault lifecycle: what an event does to a fault, and what must happen
 * outside because of it. Pure: no I/O, no clock, no store; the input fault is
 * not changed. Every case of DESIGN.md's "Fault lifecycle" is a row of
 * test/faults/decide.test.ts.
 */
export function decide(fault: Fault | undefined, event: FaultEvent, policy: Policy, now: number): Decision {
  const d = new Decider(fault, policy, now);
  switch (event.type) {
    case 'alert_firing':
      d.fire(event);
      break;
    case 'alert_resolved':
      d.resolveAlert(event);
      break;
    case 'alert_note':
      d.note(event);
      break;
    case 'flapping_quiet':
    case 'due_passed':
    case 'writeback_due':
    case 'stale':
      d.timer(event);
      break;
    default:
      d.human(event);
  }
  return d.decision();
}

/** One decision in the making: a copy of the fault, changed step by step. */
class Decider {
  private f: Fault | undefined;
  private readonly alerts: AlertWrite[] = [];
  private readonly intents: Intent[] = [];
  private readonly transitions: TransitionName[] = [];
  private outcome: AlertOutcome = 'ignored';
  private superseded = false;
  private follows: { system: string; id: string } | undefined;
  private changed = false;
  /** Where the person's action being decided came from (api, cli, console, zendesk…), for the timeline. */
  private via: string | undefined;

  constructor(
    fault: Fault | undefined,
    private readonly policy: Policy,
    private readonly now: number,
  ) {
    this.f = fault && { ...fault };
  }

  decision(): Decision {
    if (this.f && this.changed) this.f.updatedAt = this.now;
    return {
      fault: this.f,
      alerts: this.alerts,
      intents: this.intents,
      outcome: this.outcome,
      changed: this.changed,
      transitions: this.transitions,
      ...(this.superseded ? { superseded: true } : {}),
      ...(this.follows ? { follows: this.follows } : {}),
    };
  }

  // --- alert events -------------------------------------------------------

  fire(event: Extract<AlertEvent, { fs: number }>): void {
    const { alert, fs } = event;
    let f = this.f;
    const record = event.record;
    if (f && f.state === 'resolved') {
      if (record && isStaleRefire(record, alert)) return this.touch(record);
      if (!this.canReopen(f)) return this.supersede(f);
    }
    if (!f) {
      this.open(event);
      this.outcome = 'opened';
      return;
    }
    const wasFiring = f.firingCount > 0;
    let changes: string[] = [];
    if (!record) {
      this.addAlert(f, alert, fs);
      changes.push(`New alert firing: ${labelText(alert.labels)}`);
    } else if (record.status === 'resolved') {
      if (isStaleRefire(record, alert)) return this.touch(record);
      this.writeAlert({ ...record, ...alertColumns(alert, fs), last_received_at: this.now });
      f.firingCount += 1;
      changes.push(`Alert firing again: ${labelText(alert.labels)}`);
    } else if (sameFiringAlert(record, alert, fs)) {
      return this.touch(record);
    } else {
      // Still the same firing: it started when it was first seen (some senders stamp each delivery).
      this.writeAlert({ ...record, ...alertColumns(alert, fs), starts_at: Math.min(record.starts_at, alert.startsAt), last_received_at: this.now });
      changes.push(`Alert changed: ${labelText(alert.labels)}`);
    }
    this.changed = true;
    this.outcome = 'updated';
    f = this.f as Fault;
    if (f.state === 'resolved') {
      this.reopen(f, changes);
      if ((f.state as string) === 'open') this.outcome = 'reopened';
      changes = [];
    } else if (f.state === 'flapping' && event.record) {
      // A flapping fault's alerts flipping back: one more state change, and no ticket comment.
      if (!wasFiring) this.recordStateChange(f);
      changes = [];
    }
    if (fs > f.severity) {
      // The alert that escalates says what the fault is now (WARNING became CRITICAL).
      if (alert.annotations.summary) f.summary = alert.annotations.summary;
      this.escalate(f, fs, changes);
    } else this.coalesce(f, changes);
  }

  resolveAlert(event: Extract<AlertEvent, { type: 'alert_resolved' }>): void {
    const f = this.f;
    if (!f) return;
    const { alert, record } = event;
    if (!record) return;
    if (record.status === 'resolved') return this.touch(record);
    const annotations = Object.keys(alert.annotations).length > 0 ? JSON.stringify(alert.annotations) : record.annotations;
    // Some senders resolve with bare labels: keep what the firing alert said.
    this.writeAlert({ ...record, status: 'resolved', ends_at: alert.endsAt ?? this.now, annotations, last_received_at: this.now });
    f.firingCount -= 1;
    this.changed = true;
    this.outcome = 'resolved';
    const change = `Alert resolved: ${labelText(alert.labels)}`;
    if (f.firingCount > 0) {
      if (f.state !== 'flapping') this.coalesce(f, [`${change} (${f.firingCount} still firing)`]);
      this.outcome = 'updated';
      return;
    }
    if (f.state === 'flapping') {
      this.recordStateChange(f);
      return;
    }
    this.entry(f, { event: 'all_alerts_resolved' });
    if (this.recordStateChange(f)) return this.startFlapping(f, [change]);
    this.resolveFault(f, [change], undefined);
  }

  note(event: Extract<AlertEvent, { type: 'alert_note' }>): void {
    const note = event.note;
    if (note.kind === 'comment') return this.comment(event, note);
    const f = this.f;
    if (!f || f.state === 'resolved') return;
    this.outcome = 'updated';
    switch (note.kind) {
      case 'flapping_start':
        if (f.state !== 'flapping') this.startFlapping(f, [], note.text);
        return;
      case 'flapping_stop':
        if (f.state === 'flapping') this.settle(f, note.text);
        return;
      case 'mute':
        if (!f.muted) {
          f.muted = true;
          this.entry(f, { event: 'muted', detail: firstLine(note.text) });
          this.ticket(f, 'comment', { changes: [], note: `${note.text}\nfaultdesk holds updates of this ticket until it ends.` });
        }
        return;
      case 'unmute':
        if (f.muted) {
          f.muted = false;
          this.entry(f, { event: 'unmuted' });
          this.ticket(f, 'update', { changes: [], note: note.text }, true);
        }
        return;
    }
  }

  /** A comment from the source; an update of a live problem still carries its state: apply it (it may escalate), then comment. */
  private comment(event: Extract<AlertEvent, { type: 'alert_note' }>, note: AlertNote): void {
    if (event.alert.status === 'firing') {
      // An update's text is the comment, not news about the alert: the alert keeps what it said.
      const annotations = event.record ? (JSON.parse(event.record.annotations) as Record<string, string>) : event.alert.annotations;
      this.fire({ ...event, type: 'alert_firing', alert: { ...event.alert, annotations, note: undefined } });
      if (this.superseded) return;
    }
    const f = this.f;
    if (!f) {
      this.outcome = 'ignored';
      return;
    }
    this.changed = true;
    this.entry(f, { event: 'comment', detail: firstLine(note.text) });
    if (!f.muted) this.intents.push({ kind: 'ticket', op: 'comment', payload: { changes: [], note: note.text }, joinsEscalation: true });
    this.outcome = this.outcome === 'opened' ? 'opened' : 'updated';
  }

  // --- timer events -------------------------------------------------------

  timer(event: TimerEvent): void {
    const f = this.f;
    if (!f) return;
    switch (event.type) {
      case 'flapping_quiet':
        if (f.state === 'flapping') this.settle(f);
        return;
      case 'due_passed':
        if (f.state !== 'resolved' && f.atRiskAt === null) this.atRisk(f);
        return;
      case 'writeback_due':
        if (f.acknowledged && f.state !== 'resolved' && !f.humanClosed) this.writeback({ kind: 'writeback', action: 'acknowledge', by: f.acknowledged.by });
        return;
      case 'stale':
        if (f.state === 'resolved') return;
        this.resolveByHand(
          f,
          event.firing,
          'stale',
          event.resends === false
            ? `Resolved as stale: nothing was heard of this fault's alerts for ${formatDuration(event.afterMs)}; their source sends a recovery once, and it never came.`
            : `Resolved as stale: no alert of this fault was refreshed for ${formatDuration(event.afterMs)}, though its source resends firing alerts.`,
        );
        return;
    }
  }

  // --- human events -------------------------------------------------------

  human(event: HumanEvent): void {
    const f = this.f;
    if (!f) return;
    const { by, via } = event;
    this.via = via;
    // What a person did in the ticket system is there already; what they did elsewhere goes to the ticket.
    const fromTicket = via === f.ticket.system;
    switch (event.type) {
      case 'resolve':
        if (f.state === 'resolved') return;
        this.resolveByHand(f, event.firing, 'resolved_by_hand', `Resolved by ${by} (${via}): ${event.reason}`, by);
        return;
      case 'acknowledge':
        this.acknowledge(f, by, via, event.text);
        return;
      case 'unacknowledge':
        if (!f.acknowledged) return;
        f.acknowledged = null;
        this.changed = true;
        this.entry(f, { event: 'unacknowledged', ...(event.text ? { detail: bounded(event.text) } : {}), by });
        if (!fromTicket) this.ticket(f, 'comment', { changes: [], note: `Acknowledgement withdrawn by ${by}.` });
        this.writeback({ kind: 'writeback', action: 'release', reason: 'withdrawn' });
        return;
      case 'comment':
        this.entry(f, { event: 'comment', detail: bounded(event.text), by });
        if (!fromTicket) this.ticket(f, 'comment', { changes: [], note: `Comment by ${by}: ${event.text}` });
        this.changed = true;
        return;
      case 'assign':
        if (event.assignee) this.acknowledge(f, by, via);
        if (event.tier && event.tier !== f.tier) this.moveTier(f, event.tier, 'reassigned', by, !fromTicket);
        return;
      case 'solve':
        if (f.handled || f.humanClosed) return;
        f.ticket = { ...f.ticket, status: 'solved' };
        f.ticketWanted = 'solved';
        this.changed = true;
        if (f.state === 'resolved') {
          this.entry(f, { event: 'solved_by_human', by });
          return;
        }
        // Solved while alerts still fire: handled. Escalations still go through; the rest waits for the alerts.
        f.handled = { at: this.now, by };
        this.entry(f, { event: 'handled', detail: event.text ? bounded(event.text) : 'ticket solved while alerts still fire', by });
        this.transitions.push('handled');
        return;
      case 'close':
        if (f.humanClosed) return;
        if (!fromTicket) this.ticket(f, 'close', { changes: [], note: `Closed by ${by}${event.code ? ` (${event.code})` : ''}${event.text ? `: ${event.text}` : '.'}` });
        f.humanClosed = { at: this.now, by, code: event.code ?? null };
        f.ticket = { ...f.ticket, status: 'closed' };
        this.changed = true;
        this.entry(f, { event: 'closed_by_human', ...(event.code ? { detail: event.code } : {}), by });
        this.transitions.push('closed_by_human');
        this.writeback({ kind: 'writeback', action: 'release', reason: 'closed' });
        return;
      case 'reopen':
        if (!f.handled && !f.humanClosed && f.ticket.status !== 'solved') return;
        f.handled = null;
        f.humanClosed = null;
        f.ticket = { ...f.ticket, status: 'open' };
        f.ticketWanted = 'open';
        this.changed = true;
        this.entry(f, { event: 'reopened_by_human', by });
        return;
      case 'ticket_changed':
        this.ticketChanged(f, event);
        return;
      case 'priority':
        if (f.priorityPinned === event.priority) return;
        f.priorityPinned = event.priority;
        this.changed = true;
        this.entry(f, { event: 'priority_set', detail: event.priority, by });
        return;
    }
  }

  /**
   * What people changed in the ticket, told by comparing what its system says now with what it
   * said before: the same change heard twice (a webhook and a poll) is acted on once.
   */
  private ticketChanged(f: Fault, event: Extract<HumanEvent, { type: 'ticket_changed' }>): void {
    const seen = f.ticketSeen;
    const { by, via } = event;
    const actor = { by, via };
    if (event.own) return this.remember(f, event);
    if (event.comment) this.human({ type: 'comment', text: event.comment.text, by: event.comment.author ?? by, via });
    if (event.status !== undefined && event.status !== seen.status) {
      const wasDone = seen.status === 'solved' || seen.status === 'closed' || f.handled !== null;
      switch (event.status) {
        case 'closed':
        case 'cancelled':
          this.human({ type: 'close', ...actor, ...(event.closeCode ? { code: event.closeCode } : {}) });
          break;
        case 'solved':
          if (event.wontFix) this.human({ type: 'close', ...actor, code: event.closeCode ?? "won't fix" });
          // faultdesk solved it itself when the alerts resolved (an echo that came without its actor).
          else if (!(f.state === 'resolved' && f.ticketWanted === 'solved')) this.human({ type: 'solve', ...actor });
          break;
        case 'working':
        case 'waiting':
          if (wasDone) this.human({ type: 'reopen', ...actor });
          this.acknowledge(f, by, via);
          break;
        default:
          break;
      }
    }
    if (event.assignee && event.assignee !== seen.assignee) this.acknowledge(f, by, via);
    if (event.group !== undefined && event.group !== seen.group) {
      if (event.tier && event.tier !== f.tier) this.moveTier(f, event.tier, 'reassigned', by, false);
      else if (!event.tier && seen.group !== undefined && event.group !== null) {
        this.entry(f, { event: 'reassigned', detail: `group ${event.group}`, by });
      }
    }
    // Without a priority heard before, a change is a person's only when it is known not to be faultdesk's own.
    if (event.priority !== undefined && event.priority !== seen.priority && (seen.priority !== undefined || event.priorityNotOwn === true)) {
      this.human({ type: 'priority', priority: event.priority, ...actor });
    }
    this.remember(f, event);
  }

  /** Remembers what the ticket system says the ticket is now. */
  private remember(f: Fault, event: Extract<HumanEvent, { type: 'ticket_changed' }>): void {
    const seen = f.ticketSeen;
    const next = { ...seen };
    if (event.status !== undefined) next.status = event.status;
    if (event.assignee !== undefined) next.assignee = event.assignee;
    if (event.group !== undefined) next.group = event.group;
    if (event.priority !== undefined) next.priority = event.priority;
    if (JSON.stringify(next) !== JSON.stringify(seen)) {
      f.ticketSeen = next;
      this.changed = true;
    }
  }

  private acknowledge(f: Fault, by: string, via: string, text?: string): void {
    if (f.acknowledged) return;
    f.acknowledged = { at: this.now, by };
    this.changed = true;
    this.entry(f, { event: 'acknowledged', ...(text ? { detail: bounded(text) } : {}), by });
    if (via !== f.ticket.system) this.ticket(f, 'comment', { changes: [], note: `Acknowledged by ${by}${text ? `: ${text}` : '.'}` });
    this.transitions.push('acknowledged');
    if (f.state !== 'resolved') this.writeback({ kind: 'writeback', action: 'acknowledge', by });
  }

  /** The next tier up, for a reason; nothing at the top or without tiers. */
  private tierUp(f: Fault, reason: 'due' | 'reopens' | 'severity'): void {
    const { tiers } = this.policy;
    const at = f.tier === null ? -1 : tiers.indexOf(f.tier);
    const next = tiers[at + 1];
    if (next === undefined || at < 0) return;
    this.moveTier(f, next, reason);
  }

  private moveTier(f: Fault, tier: string, reason: string, by?: string, tellTicket = true): void {
    const from = f.tier;
    f.tier = tier;
    f.tierHistory = [...f.tierHistory.map((span) => (span.to === null ? { ...span, to: this.now } : span)), { tier, from: this.now, to: null, ...(by ? { by } : {}), reason }];
    this.changed = true;
    const why = TIER_REASONS[reason] ?? reason;
    this.entry(f, { event: 'tier_changed', detail: `${from ?? '–'} → ${tier} (${why})`, ...(by ? { by } : {}) });
    if (tellTicket) this.ticket(f, 'assign', { changes: [], note: `Moved to ${tier}${by ? ` by ${by}` : ''}: ${why}.` });
    this.transitions.push(by ? 'tier_changed' : 'tier_escalated');
  }

  // --- transitions ----------------------------------------------------------

  private open(event: Extract<AlertEvent, { fs: number }>): void {
    const { alert, fs, opening, newId } = event;
    const { policy, now } = this;
    const hours = repairTimeHours(policy.model, fs);
    const f: Fault = {
      id: newId,
      ident: faultIdent(policy.category, opening.key),
      current: true,
      category: policy.category,
      key: opening.key,
      keyLabels: opening.keyLabels,
      state: 'open',
      severity: fs,
      priority: policy.priorityOf(fs),
      repairTimeHours: hours,
      model: { a: policy.model.a, b: policy.model.b },
      openedAt: now,
      dueAt: dueAt(now, hours),
      resolvedAt: null,
      updatedAt: now,
      lastUpdateAt: null,
      alertCount: 0,
      firingCount: 0,
      stateChanges: [],
      lastChangeAt: now,
      ticketWanted: 'open',
      ticket: { system: policy.ticketSystem, id: null, status: null, url: null, error: null },
      rule: policy.rule,
      summary: alert.annotations.summary ?? alert.labels.alertname ?? policy.category,
      timeline: EMPTY_TIMELINE,
      muted: false,
      mailLog: {},
      atRiskAt: null,
      stale: false,
      acknowledged: null,
      handled: null,
      humanClosed: null,
      priorityPinned: null,
      tier: policy.startTier,
      tierHistory: policy.startTier === null ? [] : [{ tier: policy.startTier, from: now, to: null, reason: 'start' }],
      reopenCount: 0,
      followsTicket: event.follows ?? null,
      ticketSeen: {},
    };
    this.f = f;
    this.changed = true;
    this.entry(f, { event: 'opened', detail: `FS ${fs}, priority ${f.priority}` });
    this.addAlert(f, alert, fs);
    this.ticket(f, 'create', { changes: [] });
    this.transition('opened');
  }

  private addAlert(f: Fault, alert: Alert, fs: number): AlertRecord {
    const record: AlertRecord = {
      fault_id: f.id,
      ident: alertIdent(alert),
      source: alert.source,
      source_id: alert.sourceId,
      first_received_at: this.now,
      last_received_at: this.now,
      ...alertColumns(alert, fs),
    };
    this.alerts.push({ record, write: 'insert' });
    f.alertCount += 1;
    f.firingCount += 1;
    if (f.alertCount > 1) this.entry(f, { event: 'alert_added', detail: labelText(alert.labels) });
    return record;
  }

  private writeAlert(record: AlertRecord): void {
    this.alerts.push({ record, write: 'update' });
  }

  private touch(record: AlertRecord): void {
    this.alerts.push({ record: { ...record, last_received_at: this.now }, write: 'touch' });
    this.outcome = 'duplicate';
  }

  private escalate(f: Fault, fs: number, changes: string[]): void {
    const from = f.severity;
    const fromPriority = f.priority;
    f.severity = fs;
    f.priority = this.policy.priorityOf(fs);
    f.repairTimeHours = repairTimeHours(f.model, fs);
    f.dueAt = dueAt(f.openedAt, f.repairTimeHours);
    this.entry(f, { event: 'escalated', detail: `FS ${from} → ${fs}, priority ${fromPriority} → ${f.priority}` });
    // In a downtime the new priority waits for the update that ends it.
    this.ticket(f, 'escalate', { changes, fromFs: from, toFs: fs }, true);
    this.transition('escalated', [`Fault severity ${from} → ${fs}, priority ${fromPriority} → ${f.priority}`, ...changes]);
    const { atFs } = this.policy.tierEscalation;
    if (atFs > 0 && from < atFs && fs >= atFs) this.tierUp(f, 'severity');
  }

  /** Changes of an open fault wait in one update, sent at most once per update interval (outbox/line.ts). */
  private coalesce(f: Fault, changes: string[]): void {
    // A person solved the ticket while alerts fired (handled): no more updates, only escalations.
    if (changes.length === 0 || f.muted || f.handled) return;
    this.intents.push({ kind: 'ticket', op: 'update', payload: { changes }, paced: true });
  }

  private resolveFault(f: Fault, changes: string[], note: string | undefined): void {
    f.state = 'resolved';
    f.resolvedAt = this.now;
    this.entry(f, { event: 'resolved' });
    if (f.handled) {
      // Solved by a person already: one comment, no second solve.
      const said = note ?? `Every alert of this fault has resolved; ${f.handled.by} solved the ticket already.`;
      this.ticket(f, 'comment', { changes, note: said });
    } else {
      if (this.policy.solveOnResolve) f.ticketWanted = 'solved';
      this.ticket(f, 'resolve', { changes, solve: this.policy.solveOnResolve, note });
    }
    this.transition('resolved', note ? [note, ...changes] : changes);
    if (f.acknowledged) this.writeback({ kind: 'writeback', action: 'release', reason: 'resolved' });
  }

  /** Resolves a fault whose alerts will not resolve by themselves: the stale sweep, or an operator. */
  private resolveByHand(f: Fault, firing: readonly AlertRecord[], event: string, note: string, by?: string): void {
    for (const record of firing) this.writeAlert({ ...record, status: 'resolved', ends_at: this.now });
    f.firingCount = 0;
    f.stale = true;
    this.changed = true;
    this.entry(f, { event, ...(by ? { detail: note, by } : {}) });
    this.resolveFault(f, [], note);
  }

  private reopen(f: Fault, changes: string[]): void {
    if (this.recordStateChange(f)) return this.startFlapping(f, changes);
    f.state = 'open';
    f.resolvedAt = null;
    f.reopenCount += 1;
    if (f.humanClosed) {
      // Within the quiet period after a person closed the ticket: the fault fires again, the ticket is left alone.
      this.entry(f, { event: 'reopened', detail: `quiet: the ticket was closed by ${f.humanClosed.by}` });
      this.transitions.push('reopened');
      return;
    }
    f.handled = null;
    f.ticketWanted = 'open';
    this.entry(f, { event: 'reopened' });
    this.ticket(f, 'reopen', { changes });
    this.transition('reopened', changes);
    const { afterReopens } = this.policy.tierEscalation;
    if (afterReopens > 0 && f.reopenCount === afterReopens) this.tierUp(f, 'reopens');
  }

  /** Holds resolves and reopens; `reason` is the source's word when the source detected the flapping. */
  private startFlapping(f: Fault, changes: string[], reason?: string): void {
    const { flapping } = this.policy;
    f.state = 'flapping';
    f.resolvedAt = null;
    f.lastChangeAt = this.now;
    this.changed = true;
    this.entry(f, { event: 'flapping_started', ...(reason ? { detail: reason } : {}) });
    const minutes = Math.round(flapping.windowMs / 60_000);
    const quiet = Math.round(flapping.quietMs / 60_000);
    const note = reason
      ? `${reason} faultdesk holds resolves and reopens until the source says it stopped, or it has been quiet for ${quiet} minutes.`
      : `This fault is flapping: it changed state more than ${flapping.changes} times in ${minutes} minutes. ` +
        `faultdesk holds resolves and reopens until it has been quiet for ${quiet} minutes.`;
    this.ticket(f, 'flapping', { changes, note }, true);
    this.transition('flapping', [note, ...changes]);
  }

  /** A flapping fault that has been quiet long enough takes the state its alerts are in. */
  private settle(f: Fault, reason?: string): void {
    const note = reason ?? 'The fault has stopped flapping.';
    f.stateChanges = [];
    this.changed = true;
    this.entry(f, { event: 'flapping_ended' });
    if (f.firingCount === 0) {
      if (f.ticketWanted === 'open') {
        this.resolveFault(f, [], `${note} Every alert of it has resolved.`);
      } else {
        f.state = 'resolved';
        f.resolvedAt = this.now;
        this.ticket(f, 'flapping', { changes: [], note: `${note} It stays resolved.` }, true);
      }
    } else {
      f.state = 'open';
      if (f.ticketWanted === 'solved') {
        f.ticketWanted = 'open';
        this.ticket(f, 'reopen', { changes: [], note: `${note} ${f.firingCount} alert(s) still firing.` });
      } else {
        this.ticket(f, 'flapping', { changes: [], note: `${note} ${f.firingCount} alert(s) still firing.` }, true);
      }
    }
    this.transition('settled');
  }

  /** An open fault past its due time: escalated once, with a comment and an at-risk mail. */
  private atRisk(f: Fault): void {
    f.atRiskAt = this.now;
    this.changed = true;
    const over = formatDuration(this.now - f.dueAt);
    const note =
      `At risk: this fault has been open for ${formatDuration(this.now - f.openedAt)}, ` +
      `${over} past its estimated repair time of ${formatDuration(f.repairTimeHours * 3_600_000)} (due ${new Date(f.dueAt).toISOString()}).`;
    this.entry(f, { event: 'at_risk' });
    this.ticket(f, 'comment', { changes: [], note }, true);
    this.transitions.push('at_risk');
    this.mail(f, 'at_risk', [note]);
    if (this.policy.tierEscalation.onDue && !f.handled) this.tierUp(f, 'due');
  }

  /** Records a state change; true when it makes the fault flapping. */
  private recordStateChange(f: Fault): boolean {
    const since = this.now - this.policy.flapping.windowMs;
    f.stateChanges = [...f.stateChanges.filter((t) => t > since), this.now];
    f.lastChangeAt = this.now;
    this.changed = true;
    return f.state !== 'flapping' && f.stateChanges.length > this.policy.flapping.changes;
  }

  private canReopen(f: Fault): boolean {
    const { afterHumanClose } = this.policy;
    if (f.humanClosed) return afterHumanClose.action === 'quiet' && this.now < f.humanClosed.at + afterHumanClose.quietForMs;
    return f.ticket.status !== 'closed' && this.now - (f.resolvedAt ?? 0) <= this.policy.reopenWithinMs;
  }

  private supersede(f: Fault): void {
    f.current = false;
    this.changed = true;
    this.superseded = true;
    // The next fault's ticket names a ticket that was closed (human-closed wins: it is never reopened).
    if ((f.humanClosed || f.ticket.status === 'closed') && f.ticket.id) this.follows = { system: f.ticket.system, id: f.ticket.id };
    this.transitions.push('superseded');
  }

  // --- outputs --------------------------------------------------------------

  /** A ticket operation; one that only adds to the ticket waits while the source announced a downtime. */
  private ticket(f: Fault, op: OperationKind, payload: OperationPayload, heldWhileMuted = false): void {
    this.changed = true;
    if (heldWhileMuted && f.muted) return;
    // A ticket a person closed is never touched again.
    if (f.humanClosed) return;
    this.intents.push({ kind: 'ticket', op, payload });
  }

  private transition(name: TransitionName, changes: string[] = []): void {
    this.transitions.push(name);
    const event = MAIL_EVENT_OF[name];
    if (event && this.f) this.mail(this.f, event, changes);
  }

  /** A write-back to the monitoring systems, unless the category opted out. */
  private writeback(intent: WritebackIntent): void {
    if (this.policy.writeback) this.intents.push(intent);
  }

  /**
   * A mail, unless people already have the fault in hand: an acknowledged fault gets no more of the
   * mails that repeat what is known (reopen, flapping), a closed one none but escalations.
   */
  private mail(f: Fault, event: MailEvent, changes: string[]): void {
    if (f.humanClosed && event !== 'escalate') return;
    if (f.acknowledged && (event === 'reopen' || event === 'flapping')) return;
    this.intents.push({ kind: 'mail', event, changes: [...changes] });
  }

  private entry(f: Fault, entry: Omit<TimelineEntry, 'at'>): void {
    // A person's action says where it was taken, beside who took it.
    const via = entry.by !== undefined && this.via !== undefined ? { via: this.via } : {};
    f.timeline = withEntry(f.timeline, { at: this.now, ...entry, ...via });
  }
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
function isStaleRefire(record: AlertRecord, alert: Alert): boolean {
  return record.status === 'resolved' && alert.startsAt <= record.starts_at;
}

/** Whether a firing delivery says nothing new; its start time is not news (see fire()). */
function sameFiringAlert(record: AlertRecord, alert: Alert, fs: number): boolean {
  return (
    record.fs === fs &&
    record.labels === JSON.stringify(alert.labels) &&
    record.annotations === JSON.stringify(alert.annotations) &&
    (record.generator_url ?? undefined) === alert.generatorURL
  );
}

/** Why a tier changed, as the timeline and the ticket say it. */
const TIER_REASONS: Record<string, string> = {
  due: 'the due time passed unsolved',
  reopens: 'it reopened too often',
  severity: 'its severity reached the tier threshold',
  reassigned: 'reassigned',
};

/** A person's text on the timeline, kept to a length a timeline can show. */
function bounded(text: string): string {
  return text.length > 2_000 ? `${text.slice(0, 1_999)}…` : text;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
}
