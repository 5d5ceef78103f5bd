import { Counter, type Registry } from 'prom-client';
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
