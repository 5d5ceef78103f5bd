import type { Clock } from '../clock';
import { renderComment, renderRecord, ticketContext, type OperationKind, type OperationPayload } from '../faults';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import { renderFields, type Category, type RuleEngine } from '../rules';
import type { AlertRow, FaultRow, OutboxRow, Store } from '../store';
import { TicketClosedError, TicketSystemError, type Attachment, type NewTicket, type TicketRef, type TicketSystem } from '../tickets';
import { backoffDelay, type BackoffPolicy } from './backoff';

export interface OutboxWorkerOptions {
  /** Operations of this system in flight at once. */
  concurrency: number;
  pollIntervalMs: number;
  leaseMs: number;
  backoff: BackoffPolicy;
}

export interface OutboxWorkerDeps {
  store: Store;
  system: TicketSystem;
  rules: () => RuleEngine;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  options: OutboxWorkerOptions;
  random?: () => number;
}

/** Operations that only add to a ticket: on a closed ticket there is nothing left to do. */
const ADDS_TO_TICKET: ReadonlySet<OperationKind> = new Set(['update', 'escalate', 'comment', 'flapping', 'resolve']);

/**
 * Delivers one ticket system's outbox operations: in order per fault, faults
 * in parallel up to `concurrency`, with backoff for failures that may heal and
 * parking for those that will not. Each system has its own worker, so a slow
 * or failing system never holds up another.
 */
export class OutboxWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;

  constructor(private readonly deps: OutboxWorkerDeps) {}

  get system(): string {
    return this.deps.system.name;
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Starts a delivery round now (new operations were queued). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) this.again = true;
    else this.schedule(0);
  }

  /** Lets the operations in hand finish, then stops. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delay: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.loop().finally(() => {
        this.running = undefined;
        if (!this.stopped) this.schedule(this.again ? 0 : this.deps.options.pollIntervalMs);
        this.again = false;
      });
    }, delay);
    this.timer.unref?.();
  }

  private async loop(): Promise<void> {
    try {
      // Keep going while there is work, so a backlog drains without waiting for the poll interval.
      while (!this.stopped && (await this.runOnce()) > 0);
    } catch (err) {
      this.deps.logger.error('outbox round failed', { system: this.system, err });
    }
  }

  /** One round: claims what is due and delivers it. Returns how many operations it handled. */
  async runOnce(): Promise<number> {
    const { store, clock, options } = this.deps;
    const now = clock.now();
    await store.repos.outbox.releaseExpiredClaims(now);
    const due = await store.repos.outbox.due(now, options.concurrency, this.system);
    const claimed: OutboxRow[] = [];
    for (const op of due) {
      if (await store.repos.outbox.claim(op.id, now, now + options.leaseMs)) claimed.push({ ...op, attempts: op.attempts + 1 });
    }
    await Promise.all(claimed.map((op) => this.deliver(op)));
    return claimed.length;
  }

  private async deliver(op: OutboxRow): Promise<void> {
    const { store, clock, logger, metrics } = this.deps;
    const kind = op.kind as OperationKind;
    const fault = await store.repos.faults.get(op.fault_id);
    const log = { op: op.id, fault: op.fault_id, system: op.system, kind, attempt: op.attempts };
    try {
      if (!fault) throw new TicketSystemError(`fault ${op.fault_id} no longer exists`, 'not_found', false);
      const ref = await this.perform(op, kind, JSON.parse(op.payload) as OperationPayload, fault);
      await store.transaction(async (tx) => {
        await tx.faults.setTicket(fault.id, { ticket_id: ref.id, ticket_status: ref.status, ticket_url: ref.url ?? null, ticket_error: null });
        await tx.outbox.complete(op.id, clock.now());
      });
      metrics.ticketOperations.inc({ system: op.system, operation: kind, result: 'ok' });
      logger.debug('ticket operation delivered', { ...log, ticket: ref.id });
    } catch (err) {
      await this.fail(op, kind, err, log);
    }
  }

  private async fail(op: OutboxRow, kind: OperationKind, err: unknown, log: Record<string, unknown>): Promise<void> {
    const { store, clock, logger, metrics, options } = this.deps;
    const now = clock.now();
    const known = err instanceof TicketSystemError ? err : undefined;
    const message = err instanceof Error ? err.message : String(err);
    metrics.ticketErrors.inc({ system: op.system, reason: known?.reason ?? 'unknown' });
    if (known && !known.retryable) {
      await store.transaction(async (tx) => {
        await tx.outbox.park(op.id, message, now);
        await tx.faults.setTicket(op.fault_id, { ticket_error: `${kind}: ${message}` });
      });
      metrics.ticketOperations.inc({ system: op.system, operation: kind, result: 'parked' });
      logger.warn('ticket operation parked for an operator', { ...log, reason: known.reason, error: message });
      return;
    }
    const delay = known?.retryAfterMs ?? backoffDelay(options.backoff, op.attempts, this.deps.random);
    await store.repos.outbox.retryLater(op.id, now + delay, message, now);
    metrics.ticketOperations.inc({ system: op.system, operation: kind, result: 'retry' });
    // Unknown errors are our own bugs or the database: worth an error line. Known ones heal by themselves.
    if (known) logger.info('ticket operation will be retried', { ...log, reason: known.reason, error: message, delayMs: delay });
    else logger.error('ticket operation failed unexpectedly; will retry', { ...log, err, delayMs: delay });
  }

  private async perform(op: OutboxRow, kind: OperationKind, payload: OperationPayload, fault: FaultRow): Promise<TicketRef> {
    const { system } = this.deps;
    const category = this.category(fault);
    if (kind === 'create') {
      if (fault.ticket_id) return { id: fault.ticket_id, status: fault.ticket_status ?? 'open', url: fault.ticket_url ?? undefined };
      // An earlier attempt may have reached the system before we lost the answer: adopt its ticket.
      if (op.attempts > 1) {
        const found = await system.findByFault(fault.id);
        if (found) return found;
      }
      return system.create(await this.newTicket(op, fault, category));
    }
    if (!fault.ticket_id) {
      throw new TicketSystemError(`fault ${fault.id} has no ticket yet (its create did not succeed)`, 'not_found', false);
    }
    const ref: TicketRef = { id: fault.ticket_id, status: fault.ticket_status ?? 'open', url: fault.ticket_url ?? undefined };
    const comment = renderComment(kind, payload, fault);
    try {
      switch (kind) {
        case 'escalate':
        case 'update':
          // An update carries the priority too: an escalation held during a downtime arrives with it.
          return await system.update(ref, { comment, priority: fault.priority, fs: fault.severity });
        case 'resolve': {
          const alerts = await this.deps.store.repos.alerts.listByFault(fault.id);
          return await system.resolve(ref, {
            comment,
            solve: payload.solve ?? true,
            attachments: this.record(fault, category, alerts),
            fields: this.fields(fault, category, alerts),
          });
        }
        case 'reopen':
          return await system.reopen(ref, { comment, priority: fault.priority, fs: fault.severity });
        default:
          return await system.update(ref, { comment });
      }
    } catch (err) {
      if (!(err instanceof TicketClosedError)) throw err;
      if (ADDS_TO_TICKET.has(kind)) {
        // Someone closed the ticket: nothing to add, and the next firing makes a new fault.
        this.deps.logger.info('ticket is closed; operation dropped', { op: op.id, fault: fault.id, kind, ticket: ref.id });
        return { ...ref, status: 'closed' };
      }
      // A recurrence of a fault whose ticket is closed gets a new ticket that names the old one.
      const ticket = await this.newTicket(op, fault, category);
      return system.create({ ...ticket, relatedTicketId: ref.id });
    }
  }

  private async newTicket(op: OutboxRow, fault: FaultRow, category: Category | undefined): Promise<NewTicket> {
    const alerts = await this.deps.store.repos.alerts.listByFault(fault.id);
    const ctx = ticketContext(fault, alerts, category);
    const subject = (category?.ticket.subject.render(ctx) ?? `${fault.category} ${fault.fault_key}`).replace(/\s+/g, ' ').trim();
    return {
      faultId: fault.id,
      idempotencyKey: `faultdesk-${fault.id}-${op.id}`,
      subject,
      body: category?.ticket.body.render(ctx) ?? fault.summary,
      priority: fault.priority,
      fs: fault.severity,
      fields: category ? renderFields(category.ticket.fields, ctx) : {},
      attachments: this.record(fault, category, alerts),
    };
  }

  private fields(fault: FaultRow, category: Category | undefined, alerts: readonly AlertRow[]) {
    return category ? renderFields(category.ticket.fields, ticketContext(fault, alerts, category)) : {};
  }

  private record(fault: FaultRow, category: Category | undefined, alerts: readonly AlertRow[]): Attachment[] {
    const record = renderRecord(fault, alerts, category);
    return [
      { filename: `faultdesk-fault-${fault.id}.md`, contentType: 'text/markdown; charset=utf-8', content: record.markdown },
      { filename: `faultdesk-fault-${fault.id}.json`, contentType: 'application/json', content: record.json },
    ];
  }

  private category(fault: FaultRow): Category | undefined {
    return this.deps.rules().category(fault.category);
  }
}
