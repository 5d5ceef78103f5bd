import type { RepairTimeModel } from '../estimate';
import type { Category } from '../rules';
import type { FaultRow } from '../store';
import { decide } from './decide';
import { faultToRow, type Fault } from './fault';
import { policyOf } from './policy';

/**
 * The fault an alert of this category and key would open now, decided by
 * decide() but not stored: what explain shows for an alert with no fault, and
 * what templates are checked against.
 */
export function draftFault(category: Category, key: string, keyLabels: Record<string, string>, fs: number, now: number, model?: RepairTimeModel): FaultRow {
  const alert = { source: 'generic' as const, sourceId: '(draft)', status: 'firing' as const, labels: keyLabels, annotations: {}, startsAt: now, receivedAt: now };
  const decision = decide(undefined, { type: 'alert_firing', alert, fs, newId: '(new)', opening: { key, keyLabels } }, policyOf(category, model), now);
  return faultToRow(decision.fault as Fault);
}
