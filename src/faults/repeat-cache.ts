import type { Logger } from '../log';
import type { AlertOutcome } from '../metrics';
import type { RuleEngine } from '../rules';
import type { Alert } from '../sources';
import type { Store } from '../store';
import { alertIdent, type AlertRecord } from './fault';
import { KnownAlerts, knownAlertsOptions } from './known-alerts';

/** Last-seen times written per transaction by flush(). */
const TOUCHES_PER_TRANSACTION = 200;

/**
 * Answers the deliveries that repeat what is committed without a transaction
 * (KnownAlerts), and writes their last-seen times in the background, every
 * second and at stop: a crash loses at most that second of last-seen times,
 * never an alert or a change. Only where this process is the store's only
 * writer (SQLite).
 */
export class RepeatCache {
  private readonly known: KnownAlerts;
  private flushes: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    staleAfterMs: number,
  ) {
    this.known = new KnownAlerts(knownAlertsOptions(staleAfterMs));
  }

  /** Starts writing last-seen times every second. */
  start(intervalMs = 1_000): void {
    this.timer = setInterval(() => void this.flush(), intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and writes what is left. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  /**
   * Marks the deliveries that repeat what is committed as duplicates and
   * returns the indexes of the rest, which take the full path. Every delivery
   * of an alert that takes the full path takes it, so a payload's alerts
   * still apply in order.
   */
  answer(engine: RuleEngine, alerts: readonly Alert[], now: number, outcomes: AlertOutcome[], faultIds: Array<string | null>): number[] {
    this.known.useRules(engine);
    const idents = alerts.map(alertIdent);
    const repeats = alerts.map((alert, i) => this.known.repeat(alert, idents[i] as string, now));
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

  /** After a commit: what the batch left stored. */
  learn(slots: Iterable<{ record: AlertRecord; fault: { id: string; current: boolean; state: string } | undefined }>): void {
    this.known.learn(slots);
  }

  /** Something else changed faults (a job, a person): trust nothing remembered. */
  forget(): void {
    this.known.forget();
  }

  get size(): number {
    return this.known.size;
  }

  /** Writes the last-seen times of repeats answered from memory; one flush at a time. */
  flush(): Promise<number> {
    const run = this.flushes.then(() => this.flushNow());
    this.flushes = run.catch(() => undefined);
    return run;
  }

  private async flushNow(): Promise<number> {
    const touches = this.known.takeTouches();
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
          await this.store.transaction((tx) => tx.alerts.touch(part, at));
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      }
    } catch (err) {
      // The remembered last-seen times are no longer what is stored: the next deliveries write them.
      this.known.forget();
      this.logger.warn('could not write last-seen times of repeated alerts', { alerts: touches.size, err });
      return 0;
    }
    return touches.size;
  }
}
