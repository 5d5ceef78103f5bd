import { repairTimeHours } from '../estimate';
import type { RepairTimeModel } from '../estimate';
import type { AlertOutcome } from '../metrics';
import { tryCategories, type RuleEngine, type TriedCategory } from '../rules';
import type { Alert } from '../sources';
import type { AlertRow, FaultRow, Store } from '../store';
import { draftFault } from './draft';
import { renderTicket } from './render';
import { alertIdent, type Fault } from './fault';
import { ticketSubject } from './subject';
import { UnitOfWork, type AppliedAlert } from './unit-of-work';

export interface Explanation {
  alert: { source: string; sourceId: string; status: string; labels: Record<string, string>; note?: string };
  tried: TriedCategory[];
  category: string;
  rule: string;
  action: 'ticket' | 'drop';
  key: string;
  fs: number;
  priority: string;
  repairTimeHours: number;
  dueAt: string;
  subject: string;
  /** The ticket body the category's templates render (Markdown). */
  body: string;
  ticketSystem: string;
  /** What ingest would report for this alert: opened, updated, reopened, resolved, duplicate, dropped, ignored. */
  outcome: AlertOutcome;
  /** The same in words: open, reopen, join (a new alert of a live fault), update, duplicate, resolve, ignore, drop. */
  wouldDo: string;
  /** The fault the alert goes to, as it is now (null when it would open one). */
  fault: { id: string; state: string; category: string; key: string } | null;
}

/** Rolls the dry run's transaction back. */
class DryRun extends Error {}

/**
 * Says what ingesting these alerts now would do, by doing it: the unit of
 * work that ingest runs, on a transaction that is rolled back. It can never
 * disagree with ingest. The alerts apply in order, as one webhook request's do.
 */
export async function explainAlerts(
  alerts: readonly Alert[],
  engine: RuleEngine,
  store: Store,
  now: number,
  estimates?: (category: string) => RepairTimeModel | undefined,
): Promise<Explanation[]> {
  let out: Explanation[] = [];
  try {
    await store.transaction(async (tx) => {
      const items = alerts.map((alert) => ({ alert, classification: engine.classify(alert) }));
      const kept = items.filter((i) => i.classification.category.action !== 'drop');
      const uow = await UnitOfWork.forAlerts(tx, now, { engine, estimates }, kept);
      const applied: Array<AppliedAlert | undefined> = items.map((item) => (item.classification.category.action === 'drop' ? undefined : uow.apply(item)));
      await uow.save();
      out = [];
      for (const [i, item] of items.entries()) {
        const result = applied[i];
        const fault = result?.faultId ? await tx.faults.get(result.faultId) : undefined;
        const rows = fault ? await tx.alerts.listByFault(fault.id) : [];
        out.push(explanation(item.alert, engine, now, result, fault, rows, result?.faultId ? uow.original(result.faultId) : undefined, estimates));
      }
      throw new DryRun();
    });
  } catch (err) {
    if (!(err instanceof DryRun)) throw err;
  }
  return out;
}

function explanation(
  alert: Alert,
  engine: RuleEngine,
  now: number,
  applied: AppliedAlert | undefined,
  stored: FaultRow | undefined,
  alerts: AlertRow[],
  existing: Fault | undefined,
  estimates: ((category: string) => RepairTimeModel | undefined) | undefined,
): Explanation {
  const { tried, chosen } = tryCategories(engine.rules, alert.labels);
  const c = engine.classify(alert);
  const outcome: AlertOutcome = applied?.outcome ?? 'dropped';
  // Without a fault (dropped, or a resolve of nothing), show the fault this alert would open.
  const row = stored ?? wouldOpen(alert, c, now, estimates);
  const category = engine.category(row.category) ?? chosen;
  const rowAlerts = stored ? alerts : [openingAlert(alert, row)];
  return {
    alert: { source: alert.source, sourceId: alert.sourceId, status: alert.status, labels: alert.labels, ...(alert.note ? { note: alert.note.kind } : {}) },
    tried,
    category: category.name,
    rule: `${category.file}:${category.line}`,
    action: chosen.action,
    key: row.fault_key,
    fs: row.severity,
    priority: row.priority,
    repairTimeHours: Math.round(repairTimeHours({ a: row.rt_a, b: row.rt_b }, row.severity) * 1000) / 1000,
    dueAt: new Date(row.due_at).toISOString(),
    subject: ticketSubject(row, rowAlerts, category),
    body: renderTicket(row, rowAlerts, category, { now }).body,
    ticketSystem: row.ticket_system,
    outcome,
    wouldDo: wouldDo(outcome, applied?.alertWrite),
    fault: existing ? { id: existing.id, state: existing.state, category: existing.category, key: existing.key } : null,
  };
}

function wouldDo(outcome: AlertOutcome, write: AppliedAlert['alertWrite']): string {
  switch (outcome) {
    case 'opened':
      return 'open';
    case 'reopened':
      return 'reopen';
    case 'resolved':
      return 'resolve';
    case 'ignored':
      return 'ignore';
    case 'dropped':
      return 'drop';
    case 'updated':
      return write === 'insert' ? 'join' : 'update';
    default:
      return outcome;
  }
}

/** The fault a firing alert would open now, decided but not stored. */
function wouldOpen(alert: Alert, c: ReturnType<RuleEngine['classify']>, now: number, estimates: ((category: string) => RepairTimeModel | undefined) | undefined): FaultRow {
  return draftFault(c.category, c.key, c.keyLabels, c.fs, now, estimates?.(c.category.name));
}

function openingAlert(alert: Alert, fault: FaultRow): AlertRow {
  return {
    id: 0,
    fault_id: fault.id,
    ident: alertIdent(alert),
    source: alert.source,
    source_id: alert.sourceId,
    status: alert.status,
    labels: JSON.stringify(alert.labels),
    annotations: JSON.stringify(alert.annotations),
    starts_at: alert.startsAt,
    ends_at: alert.endsAt ?? null,
    generator_url: alert.generatorURL ?? null,
    fs: fault.severity,
    first_received_at: alert.receivedAt,
    last_received_at: alert.receivedAt,
  };
}
