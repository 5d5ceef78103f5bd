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

/**
 * Alertmanager sends nothing for a silenced alert, not even its resolution: while faultdesk's
 * silence mutes a fault's alerts, faultdesk asks the cluster for them instead. An alert the
 * cluster no longer holds has resolved; one it holds muted is still firing (and is refreshed, so
 * the stale sweep does not take a silenced fault for a source gone quiet). Returns how many alerts
 * it handed on.
 */
export async function watchMutedAlerts(deps: MutedAlertsDeps): Promise<number> {
  const { store, target, clock, logger } = deps;
  // Every live acknowledged fault with an active silence, whenever it ends.
  const faultIds = await store.repos.writebacks.renewalsDue('alertmanager', Number.MAX_SAFE_INTEGER, BATCH);
  if (faultIds.length === 0) return 0;
  const current = await target.currentAlerts();
  if (!current) {
    logger.info('no Alertmanager peer answered; muted alerts are looked at next time', { faults: faultIds.length });
    return 0;
  }
  const now = clock.now();
  const alerts: Alert[] = [];
  for (const id of faultIds) {
    for (const row of await store.repos.alerts.firingOf(id)) {
      if (row.source !== 'alertmanager') continue;
      const held = current.get(row.source_id);
      if (!held) alerts.push(resolvedAlert(row, now));
      else if (held.status?.state === 'suppressed') alerts.push(firingAlert(row, held, now));
    }
  }
  if (alerts.length > 0) await deps.ingest(alerts);
  return alerts.length;
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
