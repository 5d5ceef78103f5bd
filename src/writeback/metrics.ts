import { Counter, Gauge, type Registry } from 'prom-client';
import type { Clock } from '../clock';
import type { Store } from '../store';
import type { FailureReason } from '../delivery';

export interface WritebackMetrics {
  operations: Counter<'system' | 'action' | 'result'>;
  errors: Counter<'system' | 'reason'>;
}

const RESULTS = ['ok', 'retry', 'parked', 'dry_run'] as const;
const REASONS: readonly FailureReason[] = ['rate_limited', 'server_error', 'timeout', 'connection', 'unauthorized', 'forbidden', 'bad_request', 'not_found', 'unknown'];

/** Write-back counters, per target system (a source name) and outcome; the known label values start at zero. */
export function createWritebackMetrics(registry: Registry, systems: readonly string[]): WritebackMetrics {
  const operations = new Counter({
    name: 'faultdesk_writeback_operations_total',
    help: 'Write-backs to monitoring attempted, by system (alertmanager, zabbix, nagios), action (acknowledge, release) and result (ok, retry, parked, dry_run).',
    labelNames: ['system', 'action', 'result'] as const,
    registers: [registry],
  });
  const errors = new Counter({
    name: 'faultdesk_writeback_errors_total',
    help: 'Failed write-backs to monitoring, by system and reason (connection, timeout, server_error, unauthorized, not_found, bad_request, ...).',
    labelNames: ['system', 'reason'] as const,
    registers: [registry],
  });
  for (const system of systems) {
    for (const action of ['acknowledge', 'release']) for (const result of RESULTS) operations.inc({ system, action, result }, 0);
    for (const reason of REASONS) errors.inc({ system, reason }, 0);
  }
  return { operations, errors };
}

/**
 * Commands waiting for the agent on a monitoring host, and the age of the oldest: an agent that
 * stopped running shows as a growing age (alert on it). Read from the store at each scrape.
 */
export function registerAgentBacklog(registry: Registry, system: string, store: Store, clock: Clock): void {
  new Gauge({
    name: 'faultdesk_writeback_agent_commands_waiting',
    help: 'Write-back commands queued for the agent on a monitoring host (Nagios) and not confirmed yet.',
    labelNames: ['system'] as const,
    registers: [registry],
    async collect() {
      this.set({ system }, (await store.repos.writebacks.commandBacklog(system)).waiting);
    },
  });
  new Gauge({
    name: 'faultdesk_writeback_agent_oldest_waiting_seconds',
    help: 'Age of the oldest write-back command the agent on a monitoring host has not confirmed (0 when none waits).',
    labelNames: ['system'] as const,
    registers: [registry],
    async collect() {
      const { oldestCreatedAt } = await store.repos.writebacks.commandBacklog(system);
      this.set({ system }, oldestCreatedAt === null ? 0 : Math.max(0, (clock.now() - oldestCreatedAt) / 1000));
    },
  });
}
