import type { Repos } from '../store';

/** Renewals looked at per run: the job comes round again soon. */
const BATCH = 500;

/**
 * The faults whose Alertmanager silence should be extended now: still
 * acknowledged, not resolved, less than half of `silenceForMs` left, and no
 * write-back of theirs waiting or parked already (an unreachable Alertmanager
 * gets one renewal per fault, retried, not one per run).
 */
export async function renewSilences(tx: Repos, now: number, silenceForMs: number): Promise<string[]> {
  const due = await tx.writebacks.renewalsDue('alertmanager', now + silenceForMs / 2, BATCH);
  if (due.length === 0) return [];
  const out: string[] = [];
  for (const id of due) {
    const ops = await tx.outbox.listByFault(id);
    if (!ops.some((op) => op.system === 'alertmanager' && op.state !== 'done')) out.push(id);
  }
  return out;
}
