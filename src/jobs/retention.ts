import type { Clock } from '../clock';
import type { Logger } from '../log';
import type { Store } from '../store';

export interface RetentionDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** How long a resolved fault is kept after it resolved; 0 keeps everything. */
  keepMs: () => number;
  /** Counts what was deleted, by kind. */
  counted?: (kind: 'faults' | 'alerts' | 'outbox' | 'local_tickets' | 'other', n: number) => void;
  /** Waits while ingest holds the writer: alerts are answered first, the purge takes the gaps. */
  yieldTo?: (maxWaitMs: number) => Promise<void>;
  /** Faults a batch deletes (with their rows); small, so one batch holds the writer for milliseconds. */
  batchSize?: number;
  /** Pages one compaction step gives back (4 KiB each by default). */
  compactPages?: number;
}

export interface RetentionResult {
  faults: number;
  alerts: number;
  outbox: number;
  localTickets: number;
  other: number;
  batches: number;
}

const YIELD_MAX_MS = 1_000;

/**
 * The retention purge: deletes resolved faults older than the retention with
 * all their rows, in small batches of their own transactions, then gives the
 * space back. Nothing open or still waiting in the outbox is deleted.
 */
export async function purgeExpired(deps: RetentionDeps): Promise<RetentionResult> {
  const result: RetentionResult = { faults: 0, alerts: 0, outbox: 0, localTickets: 0, other: 0, batches: 0 };
  const keep = deps.keepMs();
  if (keep <= 0) return result;
  const batch = deps.batchSize ?? 100;
  const before = deps.clock.now() - keep;
  const pause = () => deps.yieldTo?.(YIELD_MAX_MS) ?? new Promise<void>((resolve) => setImmediate(resolve));
  for (;;) {
    await pause();
    const counts = await deps.store.transaction((tx) => tx.retention.purgeFaults(before, batch));
    result.batches++;
    result.faults += counts.faults;
    result.alerts += counts.alerts;
    result.outbox += counts.outbox;
    result.localTickets += counts.localTickets;
    deps.counted?.('faults', counts.faults);
    deps.counted?.('alerts', counts.alerts);
    deps.counted?.('outbox', counts.outbox);
    deps.counted?.('local_tickets', counts.localTickets);
    if (counts.faults < batch) break;
  }
  for (;;) {
    await pause();
    const n = await deps.store.transaction((tx) => tx.retention.purgeLoose(before, batch * 10));
    result.other += n;
    deps.counted?.('other', n);
    if (n < batch * 10) break;
  }
  if (result.faults + result.other > 0) {
    // Bounded steps: a large free list given back at once would hold the writer as long as a big delete.
    for (let left = 1, steps = 0; left > 0 && steps < 10_000; steps++) {
      await pause();
      left = await deps.store.compact(deps.compactPages ?? 256);
    }
    deps.logger.info('retention: deleted what is past retention', { ...result, before: new Date(before).toISOString() });
  }
  return result;
}
