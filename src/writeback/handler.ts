import { DeliveryError } from '../delivery';
import type { Logger } from '../log';
import type { Clock } from '../clock';
import type { OperationHandler } from '../outbox/worker';
import type { OutboxRow, Repos, Store } from '../store';
import type { WritebackMetrics } from './metrics';
import type { WritebackAction, WritebackPayload, WritebackTarget } from './target';

export interface WritebackHandlerDeps {
  store: Store;
  target: WritebackTarget;
  clock: Clock;
  logger: Logger;
  metrics: WritebackMetrics;
  /** Log what would be written and write nothing. */
  dryRun: boolean;
}

/**
 * Delivers one monitoring system's write-back operations (an outbox system of
 * its own, so a slow Alertmanager never holds up a ticket): reads what the
 * target needs, lets it write, and records what was written in the same
 * commit as the operation's completion.
 */
export class WritebackHandler implements OperationHandler {
  private readonly dryRuns = new Set<number>();

  constructor(private readonly deps: WritebackHandlerDeps) {}

  get system(): string {
    return this.deps.target.system;
  }

  async handle(op: OutboxRow): Promise<((tx: Repos) => Promise<void>) | void> {
    const { store, target, clock, logger, dryRun } = this.deps;
    const action = op.kind as WritebackAction;
    if (action !== 'acknowledge' && action !== 'release') throw new DeliveryError(`unknown write-back ${op.kind}`, 'bad_request', false);
    const fault = op.fault_id === null ? undefined : await store.repos.faults.get(op.fault_id);
    if (!fault) throw new DeliveryError(`fault ${op.fault_id ?? op.line} no longer exists`, 'not_found', false);
    const alerts = (await store.repos.alerts.listByFault(fault.id)).filter((a) => a.source === target.system);
    const state = await store.repos.writebacks.get(fault.id, target.system);
    const now = clock.now();
    const plan = target.plan({ op, action, payload: JSON.parse(op.payload) as WritebackPayload, fault, alerts, state, now });
    const log = { op: op.id, fault: fault.id, system: target.system, action };
    if (plan.noop) {
      logger.debug('write-back: nothing to write', { ...log, detail: plan.describe });
      return;
    }
    if (dryRun) {
      this.dryRuns.add(op.id);
      logger.info('write-back (dry run): would write', { ...log, detail: plan.describe });
      return;
    }
    const outcome = await plan.run();
    logger.info('written back to monitoring', { ...log, detail: plan.describe });
    return async (tx) => {
      if (outcome.state) await tx.writebacks.put({ fault_id: fault.id, system: target.system, ...outcome.state, updated_at: now });
      for (const command of outcome.commands ?? []) await tx.writebacks.queueCommand({ system: target.system, fault_id: fault.id, command, created_at: now });
    };
  }

  counted(op: OutboxRow, result: 'ok' | 'retry' | 'parked', reason?: string): void {
    const shown = result === 'ok' && this.dryRuns.delete(op.id) ? 'dry_run' : result;
    this.deps.metrics.operations.inc({ system: op.system, action: op.kind, result: shown });
    if (result !== 'ok') this.deps.metrics.errors.inc({ system: op.system, reason: reason ?? 'unknown' });
  }
}
