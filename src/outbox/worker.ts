import type { Clock } from '../clock';
import { DeliveryError } from '../delivery';
import type { Logger } from '../log';
import type { OutboxRow, Repos, Store } from '../store';
import { backoffDelay, type BackoffPolicy } from './backoff';

export interface OutboxWorkerOptions {
  /** Operations of this system in flight at once. */
  concurrency: number;
  pollIntervalMs: number;
  leaseMs: number;
  backoff: BackoffPolicy;
}

/** Delivers the operations of one system (a ticket system, e-mail). */
export interface OperationHandler {
  readonly system: string;
  /**
   * Delivers the operation, or throws (a DeliveryError says whether to retry).
   * What it returns is committed together with the operation's completion.
   */
  handle(op: OutboxRow): Promise<((tx: Repos) => Promise<void>) | void>;
  /** Records a parked operation where people look (the fault's ticket error). */
  parked?(tx: Repos, op: OutboxRow, message: string): Promise<void>;
  /**
   * Counts a delivery in the handler's own metrics (ticket operations and
   * e-mails are counted apart): delivered, retried or parked, and why it failed.
   */
  counted?(op: OutboxRow, result: 'ok' | 'retry' | 'parked', reason?: string): void;
}

export interface OutboxWorkerDeps {
  store: Store;
  handler: OperationHandler;
  clock: Clock;
  logger: Logger;
  options: OutboxWorkerOptions;
  /** Counts a failure of the store itself (a claim or a completion that could not be written). */
  onStoreError?: () => void;
  /**
   * Waits (at most the time given) while something more urgent uses the store: alerts being
   * stored, which must answer their senders fast. Workers claim only after it.
   */
  yieldTo?: (maxWaitMs: number) => Promise<void>;
  random?: () => number;
}

/** The longest a worker waits for ingest before it claims anyway: tickets are late in a storm, never starved. */
const YIELD_MAX_MS = 2_000;

/**
 * Delivers one system's outbox operations: in order per fault, faults in
 * parallel up to `concurrency`, with backoff for failures that may heal and
 * parking for those that will not. Each system has its own worker, so a slow
 * or failing system never holds up another.
 */
export class OutboxWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  /** Wakes a loop that waits for a free slot or new work. */
  private nudge: (() => void) | undefined;

  constructor(private readonly deps: OutboxWorkerDeps) {}

  get system(): string {
    return this.deps.handler.system;
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Starts a delivery round now (new operations were queued). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      this.nudge?.();
    } else {
      this.schedule(0);
    }
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

  /**
   * Delivers while there is work, so a backlog drains without waiting for the
   * poll interval: as soon as one operation is done, the next is claimed, and
   * new work (wake) is claimed into free slots at once.
   */
  private async loop(): Promise<void> {
    const { concurrency } = this.deps.options;
    const inFlight = new Set<Promise<void>>();
    try {
      while (!this.stopped) {
        this.again = false;
        const free = concurrency - inFlight.size;
        if (free > 0) await this.deps.yieldTo?.(YIELD_MAX_MS);
        const claimed = free > 0 ? await this.claim(free) : [];
        for (const op of claimed) {
          const delivery: Promise<void> = this.deliver(op)
            .catch((err: unknown) => {
              this.deps.logger.error('outbox delivery failed', { system: this.system, op: op.id, err });
            })
            .finally(() => inFlight.delete(delivery));
          inFlight.add(delivery);
        }
        if (inFlight.size === 0) break;
        if (claimed.length === 0 || inFlight.size >= concurrency) {
          await new Promise<void>((resolve) => {
            this.nudge = resolve;
            for (const delivery of inFlight) void delivery.then(resolve);
          });
          this.nudge = undefined;
        }
      }
    } catch (err) {
      this.deps.onStoreError?.();
      this.deps.logger.error('outbox round failed', { system: this.system, err });
    } finally {
      await Promise.all(inFlight);
    }
  }

  /** One round: claims what is due and delivers it. Returns how many operations it handled. */
  async runOnce(): Promise<number> {
    const claimed = await this.claim(this.deps.options.concurrency);
    await Promise.all(claimed.map((op) => this.deliver(op)));
    return claimed.length;
  }

  /** Claims up to `limit` due operations, first in line per fault, in id order. */
  private async claim(limit: number): Promise<OutboxRow[]> {
    const { store, clock, options } = this.deps;
    const now = clock.now();
    await store.repos.outbox.releaseExpiredClaims(now);
    const claimed = await store.repos.outbox.claimDue(now, limit, this.system, now + options.leaseMs);
    return claimed.sort((a, b) => a.id - b.id);
  }

  private async deliver(op: OutboxRow): Promise<void> {
    const { store, clock, logger, handler } = this.deps;
    const log = { op: op.id, line: op.line, system: op.system, kind: op.kind, attempt: op.attempts };
    let commit: Awaited<ReturnType<OperationHandler['handle']>>;
    try {
      commit = await handler.handle(op);
    } catch (err) {
      await this.fail(op, err, log);
      return;
    }
    try {
      await store.transaction(async (tx) => {
        await commit?.(tx);
        await tx.outbox.complete(op.id, clock.now());
      });
    } catch (err) {
      // Delivered, but the store did not take the record of it: the operation stays claimed and goes
      // back in line when its lease runs out (a create then finds its ticket; see TicketHandler).
      this.deps.onStoreError?.();
      logger.error('operation delivered but not recorded; it is tried again after its lease', { ...log, err });
      return;
    }
    handler.counted?.(op, 'ok');
    logger.debug('operation delivered', log);
  }

  private async fail(op: OutboxRow, err: unknown, log: Record<string, unknown>): Promise<void> {
    const { store, clock, logger, options, handler } = this.deps;
    const now = clock.now();
    const known = err instanceof DeliveryError ? err : undefined;
    const message = err instanceof Error ? err.message : String(err);
    const reason = known?.reason ?? 'unknown';
    if (known && !known.retryable) {
      await store.transaction(async (tx) => {
        await tx.outbox.park(op.id, message, now);
        await handler.parked?.(tx, op, message);
      });
      handler.counted?.(op, 'parked', reason);
      logger.warn('operation parked for an operator', { ...log, reason: known.reason, error: message });
      return;
    }
    const delay = known?.retryAfterMs ?? backoffDelay(options.backoff, op.attempts, this.deps.random);
    await store.repos.outbox.retryLater(op.id, now + delay, message, now);
    handler.counted?.(op, 'retry', reason);
    // Unknown errors are our own bugs or the database: worth an error line. Known ones heal by themselves.
    if (known) logger.info('operation will be retried', { ...log, reason: known.reason, error: message, delayMs: delay });
    else logger.error('operation failed unexpectedly; will retry', { ...log, err, delayMs: delay });
  }
}
