import type { RuleEngine } from '../rules';
import type { Alert } from '../sources';
import type { AlertRecord } from './fault';

/** What is committed about an alert that fires in a live fault. */
interface KnownAlert {
  faultId: string;
  /** The alert row's id; unknown for a row inserted by the batch that recorded it. */
  rowId: number | undefined;
  /** contentHash of the stored labels, annotations and generator URL. */
  content: number;
  /** When its last_received_at was last written. */
  storedAt: number;
}

/** A delivery that says nothing new, of an alert in this fault. */
export interface Repeat {
  faultId: string;
}

export interface KnownAlertsOptions {
  /** How far the stored last-seen time of an unchanged alert may lag behind the last delivery. */
  touchResolutionMs: number;
  /** The most alerts remembered; past it the oldest are forgotten (they take the full path again). */
  maxEntries: number;
}

/**
 * The stored last-seen time of an unchanged alert lags at most 30 s behind (or
 * a hundredth of stale_after, if less), so the stale sweep is never misled
 * (Alertmanager resends every group_interval, minutes apart: in practice every
 * resend is written; only floods are thinned). An
 * entry takes about 150 bytes, so a million alerts fit in some 150 MB.
 */
export function knownAlertsOptions(staleAfterMs: number): KnownAlertsOptions {
  return { touchResolutionMs: staleAfterMs > 0 ? Math.min(30_000, staleAfterMs / 100) : 30_000, maxEntries: 1_000_000 };
}

/**
 * An in-memory mirror of the firing alerts of live faults, as committed, so
 * that a resend that changes nothing (most of what Alertmanager sends) is
 * answered without a transaction. Only valid while this process is the only
 * writer (SQLite): it learns from the batches this process commits, and
 * forgets everything when the rules change or a job changes faults.
 *
 * A repeat it answers is what decide() would call a duplicate of a firing
 * alert: same labels, annotations and generator URL (by contentHash), in a
 * live fault.
 */
export class KnownAlerts {
  private readonly entries = new Map<string, KnownAlert>();
  /** Alert row ids whose last-seen time is due to be written, and when they were seen. */
  private touches = new Map<number, number>();
  private engine: RuleEngine | undefined;

  constructor(private readonly options: KnownAlertsOptions) {}

  get size(): number {
    return this.entries.size;
  }

  /** Entries hold for one rule set: severities and categories may differ under another. */
  useRules(engine: RuleEngine): void {
    if (engine === this.engine) return;
    this.engine = engine;
    this.entries.clear();
  }

  /**
   * The repeat this delivery is, if the committed state says it is one. A
   * repeat whose stored last-seen time is older than the resolution queues a
   * touch for the next flushTouches().
   */
  repeat(alert: Alert, ident: string, now: number): Repeat | undefined {
    if (alert.status !== 'firing' || alert.note) return undefined;
    const known = this.entries.get(ident);
    if (!known || known.content !== contentHash(alert.labels, alert.annotations, alert.generatorURL)) return undefined;
    if (now - known.storedAt >= this.options.touchResolutionMs) {
      // A row this process inserted has no id here yet: the full path reads it (and its id).
      if (known.rowId === undefined) return undefined;
      known.storedAt = now;
      this.touches.set(known.rowId, now);
    }
    return { faultId: known.faultId };
  }

  /** The touches queued since the last call: alert row ids by the time they were last seen. */
  takeTouches(): Map<number, number> {
    const taken = this.touches;
    this.touches = new Map();
    return taken;
  }

  /**
   * After a batch committed: remembers the firing alerts of its live faults,
   * forgets every other alert it wrote or read.
   */
  learn(slots: Iterable<{ record: AlertRecord; fault: { id: string; current: boolean; state: string } | undefined }>): void {
    const live = new Map<string, KnownAlert | null>();
    const seen = new Set<string>();
    for (const { record: row, fault } of slots) {
      seen.add(row.ident);
      if (!fault || !fault.current || fault.state === 'resolved' || row.status !== 'firing') continue;
      // Firing in two live faults at once is not a state a repeat can be judged against.
      live.set(row.ident, live.has(row.ident) ? null : {
        faultId: fault.id,
        rowId: typeof row.id === 'number' ? row.id : undefined,
        content: contentHash(
          JSON.parse(row.labels) as Record<string, string>,
          JSON.parse(row.annotations) as Record<string, string>,
          row.generator_url ?? undefined,
        ),
        storedAt: row.last_received_at,
      });
    }
    for (const ident of seen) {
      this.entries.delete(ident);
      const known = live.get(ident);
      if (known) this.entries.set(ident, known);
    }
    while (this.entries.size > this.options.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }

  /**
   * Something else changed faults (a job), or queued touches were lost:
   * trust nothing remembered. Queued touches stay queued.
   */
  forget(): void {
    this.entries.clear();
  }
}

/**
 * A 53-bit hash (cyrb53) of what makes a firing delivery news: label and
 * annotation names and values in their order (the order their JSON has, which
 * decide() compares) and the generator URL. A number per alert instead of
 * its texts keeps a million alerts in tens of megabytes; two different
 * contents share a hash with a chance of about 1 in 2^53.
 */
export function contentHash(labels: Record<string, string>, annotations: Record<string, string>, generatorURL: string | undefined): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  const mix = (text: string, separator: number) => {
    for (let i = 0; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      h1 = Math.imul(h1 ^ ch, 2654435761);
      h2 = Math.imul(h2 ^ ch, 1597334677);
    }
    // A separator no text holds (NUL is refused at the door) keeps "ab","c" apart from "a","bc".
    h1 = Math.imul(h1 ^ separator, 2654435761);
    h2 = Math.imul(h2 ^ separator, 1597334677);
  };
  for (const name in labels) {
    mix(name, 0);
    mix(labels[name] as string, 0);
  }
  mix('', 1);
  for (const name in annotations) {
    mix(name, 0);
    mix(annotations[name] as string, 0);
  }
  mix('', 2);
  if (generatorURL !== undefined) mix(generatorURL, 3);
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}
