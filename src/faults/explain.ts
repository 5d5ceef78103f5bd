import { dueAt, repairTimeHours } from '../estimate';
import { draftFault } from './draft';
import { priorityOf, tryCategories, type RuleEngine, type TriedCategory } from '../rules';
import type { Alert } from '../sources';
import type { Store } from '../store';
import { alertIdent } from './lifecycle';
import { faultIdent } from './model';
import { ticketContext } from './render';

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
  ticketSystem: string;
  /** What ingesting it would do now: open, reopen, join (a new alert of a live fault), update, duplicate, resolve, ignore, drop. */
  wouldDo: string;
  fault: { id: string; state: string; category: string; key: string } | null;
}

/**
 * Says, with no side effect, what faultdesk would do with each alert: the
 * categories tried in order and why each failed, the one chosen, the fault it
 * would open or join (read from the store, not changed), FS, priority, RT and
 * the ticket subject.
 */
export async function explainAlerts(alerts: readonly Alert[], engine: RuleEngine, store: Store, now: number): Promise<Explanation[]> {
  const out: Explanation[] = [];
  for (const alert of alerts) {
    const { tried, chosen } = tryCategories(engine.rules, alert.labels);
    const c = engine.classify(alert);
    const ident = alertIdent(alert);
    // The same routing as ingest: an alert already in a live fault stays there.
    const owners = await store.repos.alerts.findInCurrentFaults([ident]);
    const ownerFaults = await store.repos.faults.getMany(owners.map((o) => o.fault_id));
    const live = ownerFaults.find((f) => f.state !== 'resolved');
    const [byKey] = await store.repos.faults.findCurrent([faultIdent(chosen.name, c.key)]);
    const fault = live ?? (alert.status === 'resolved' ? (ownerFaults[0] ?? byKey) : byKey);
    const category = (fault && engine.category(fault.category)) || chosen;
    const fs = fault && live ? Math.max(fault.severity, c.fs) : c.fs;
    const hours = repairTimeHours(category.repairTime, fs);
    const mine = owners.find((o) => o.fault_id === fault?.id);
    let wouldDo: string;
    if (chosen.action === 'drop' && !live) wouldDo = 'drop';
    else if (alert.status === 'resolved') wouldDo = !fault || !mine ? 'ignore' : mine.status === 'resolved' ? 'duplicate' : fault.firing_count <= 1 ? 'resolve' : 'update';
    else if (!fault) wouldDo = 'open';
    else if (fault.state === 'resolved') {
      const recent = now - (fault.resolved_at ?? 0) <= category.reopenWithinMs && fault.ticket_status !== 'closed';
      wouldDo = mine && mine.status === 'resolved' && alert.startsAt <= mine.starts_at ? 'duplicate' : recent ? 'reopen' : 'open';
    } else wouldDo = !mine ? 'join' : mine.status === 'firing' && c.fs <= fault.severity && mine.fs === c.fs ? 'duplicate' : 'update';
    const ctxFault = fault ?? draftFault(category, c.key, c.keyLabels, fs, now, { firing: alert.status === 'firing' });
    const ctx = ticketContext(ctxFault, [], category);
    const withAlert = {
      ...ctx,
      labels: alert.labels,
      annotations: alert.annotations,
      alerts: [{ status: alert.status, labels: alert.labels, annotations: alert.annotations, startsAt: new Date(alert.startsAt).toISOString(), generatorURL: alert.generatorURL ?? null }],
    };
    out.push({
      alert: { source: alert.source, sourceId: alert.sourceId, status: alert.status, labels: alert.labels, ...(alert.note ? { note: alert.note.kind } : {}) },
      tried,
      category: category.name,
      rule: `${category.file}:${category.line}`,
      action: category.action,
      key: fault?.fault_key ?? c.key,
      fs,
      priority: priorityOf(category, fs),
      repairTimeHours: Math.round(hours * 1000) / 1000,
      dueAt: new Date(fault && wouldDo !== 'open' ? fault.opened_at + Math.round(hours * 3_600_000) : dueAt(now, hours)).toISOString(),
      subject: category.ticket.subject.render(withAlert).replace(/\s+/g, ' ').trim(),
      ticketSystem: category.ticket.system,
      wouldDo,
      fault: fault ? { id: fault.id, state: fault.state, category: fault.category, key: fault.fault_key } : null,
    });
  }
  return out;
}
