import type { Clock } from '../clock';
import type { Logger } from '../log';
import type { Alert } from '../sources';
import type { AlertRow, Store } from '../store';
import type { AlertmanagerTarget, ApiAlert } from './alertmanager';

/** Faults looked at per run. */
const BATCH = 500;

export interface MutedAlertsDeps {
  store: Store;
  target: AlertmanagerTarget;
  clock: Clock;
  logger: Logger;
  /** Hands alerts to the faults stage as if Alertmanager had sent them. */
  ingest: (alerts: Alert[]) => Promise<unknown>;
}

/** How long a fingerprint seen in the cluster is remembered after it was last seen. */
const FORGET_AFTER_MS = 86_400_000;

/**
 * Alertmanager sends nothing for a silenced alert, not even its resolution: while faultdesk's
 * silence mutes a fault's alerts, faultdesk asks the cluster for them instead. An alert the
 * cluster held and holds no more has resolved; one it holds muted is still firing (and is
 * refreshed, so the stale sweep does not take a silenced fault for a source gone quiet).
 *
 * Only alerts this watch has seen in the cluster are resolved by it: an alert that another
 * Alertmanager (one not configured here) sends is never taken for resolved. One that resolves
 * before the first look after a restart is left to the stale sweep.
 */
export class MutedAlertsWatch {
  /** Fingerprints seen in the cluster, and when last. */
  private readonly seen = new Map<string, number>();

  constructor(private readonly deps: MutedAlertsDeps) {}

  /** One look; returns how many alerts it handed on. */
  async run(): Promise<number> {
    const { store, target, clock, logger } = this.deps;
    // Every live acknowledged fault with an active silence, whenever it ends.
    const faultIds = await store.repos.writebacks.renewalsDue('alertmanager', Number.MAX_SAFE_INTEGER, BATCH);
    if (faultIds.length === 0) {
      this.seen.clear();
      return 0;
    }
    const current = await target.currentAlerts();
    if (!current) {
      logger.info('no Alertmanager peer answered; muted alerts are looked at next time', { faults: faultIds.length });
      return 0;
    }
    const now = clock.now();
    for (const [fingerprint, at] of this.seen) if (now - at > FORGET_AFTER_MS) this.seen.delete(fingerprint);
    const alerts: Alert[] = [];
    for (const id of faultIds) {
      for (const row of await store.repos.alerts.firingOf(id)) {
        if (row.source !== 'alertmanager') continue;
        const held = current.get(row.source_id);
        if (held) {
          this.seen.set(row.source_id, now);
          if (held.status?.state === 'suppressed') alerts.push(firingAlert(row, held, now));
        } else if (this.seen.delete(row.source_id)) {
          alerts.push(resolvedAlert(row, now));
        }
      }
    }
    if (alerts.length > 0) await this.deps.ingest(alerts);
    return alerts.length;
  }
}

function resolvedAlert(row: AlertRow, now: number): Alert {
  return {
    source: 'alertmanager',
    sourceId: row.source_id,
    status: 'resolved',
    labels: JSON.parse(row.labels) as Record<string, string>,
    annotations: JSON.parse(row.annotations) as Record<string, string>,
    startsAt: row.starts_at,
    endsAt: now,
    generatorURL: row.generator_url ?? undefined,
    receivedAt: now,
  };
}

function firingAlert(row: AlertRow, held: ApiAlert, now: number): Alert {
  const startsAt = held.startsAt ? Date.parse(held.startsAt) : NaN;
  return {
    source: 'alertmanager',
    sourceId: row.source_id,
    status: 'firing',
    labels: held.labels ?? (JSON.parse(row.labels) as Record<string, string>),
    annotations: held.annotations ?? (JSON.parse(row.annotations) as Record<string, string>),
    startsAt: Number.isNaN(startsAt) ? row.starts_at : startsAt,
    generatorURL: held.generatorURL || (row.generator_url ?? undefined),
    receivedAt: now,
  };
}
