import type { OperationKind, OperationPayload, TicketIntent } from '../faults/intents';
import type { OutboxChange } from './enqueue';

/** How many change lines one ticket comment lists before it summarises the rest. */
const MAX_CHANGES = 50;

/** An operation of the fault's ticket line that no worker has taken yet. */
export interface WaitingOperation {
  id: number;
  kind: OperationKind;
  payload: OperationPayload;
  nextAttemptAt: number;
}

export interface TicketLine {
  faultId: string;
  system: string;
  waiting: readonly WaitingOperation[];
  /** When the last update or escalation was scheduled; the fault's opening when never. */
  lastUpdateAt: number | null;
  openedAt: number;
  /** At most one update per interval. */
  updateIntervalMs: number;
}

export interface LinePlan {
  changes: OutboxChange[];
  lastUpdateAt: number | null;
}

interface PlannedOperation {
  id?: number;
  kind: OperationKind;
  payload: OperationPayload;
  nextAttemptAt: number;
  dirty: boolean;
  withdrawn: boolean;
}

/**
 * Turns a batch's ticket intents for one fault into changes of its ticket
 * line, so a ticket hears about a busy fault at a human pace:
 *
 * - changes of an open fault gather in one waiting update, sent at most once
 *   per update interval; none while its create is waiting (the create shows
 *   the fault as it is when sent);
 * - any other operation goes out at once and takes a waiting update's
 *   changes with it;
 * - a source's comment joins an escalation queued by the same batch.
 *
 * Pure: the unit of work loads the waiting operations and writes the changes.
 */
export function planTicketLine(line: TicketLine, intents: readonly TicketIntent[], now: number): LinePlan {
  const ops: PlannedOperation[] = line.waiting.map((w) => ({ ...w, payload: { ...w.payload }, dirty: false, withdrawn: false }));
  let lastUpdateAt = line.lastUpdateAt;
  const live = () => ops.filter((op) => !op.withdrawn);

  for (const intent of intents) {
    if (intent.paced) {
      if (live().some((op) => op.kind === 'create')) continue;
      const waiting = live().find((op) => op.kind === 'update');
      if (waiting) {
        waiting.payload = { ...waiting.payload, changes: mergeChanges(waiting.payload.changes, intent.payload.changes) };
        waiting.dirty = true;
        continue;
      }
      const next = Math.max(now, (lastUpdateAt ?? line.openedAt) + line.updateIntervalMs);
      lastUpdateAt = next;
      ops.push({ kind: 'update', payload: { ...intent.payload }, nextAttemptAt: next, dirty: true, withdrawn: false });
      continue;
    }
    if (intent.joinsEscalation) {
      const escalation = live().find((op) => op.kind === 'escalate' && op.id === undefined);
      if (escalation) {
        const note = intent.payload.note ?? '';
        escalation.payload = { ...escalation.payload, note: escalation.payload.note ? `${note}\n${escalation.payload.note}` : note };
        continue;
      }
    }
    const payload = { ...intent.payload };
    const waiting = live().find((op) => op.kind === 'update');
    if (waiting && intent.op !== 'create') {
      payload.changes = mergeChanges(waiting.payload.changes, payload.changes);
      waiting.withdrawn = true;
    }
    if (intent.op === 'escalate') lastUpdateAt = now;
    ops.push({ kind: intent.op, payload, nextAttemptAt: now, dirty: true, withdrawn: false });
  }

  const changes: OutboxChange[] = [];
  for (const op of ops) {
    if (op.id !== undefined) {
      if (op.withdrawn) changes.push({ type: 'withdraw', id: op.id });
      else if (op.dirty) changes.push({ type: 'rewrite', id: op.id, payload: op.payload });
    } else if (!op.withdrawn) {
      changes.push({ type: 'insert', op: { line: { fault: line.faultId }, system: line.system, kind: op.kind, payload: op.payload, nextAttemptAt: op.nextAttemptAt } });
    }
  }
  return { changes, lastUpdateAt };
}

function mergeChanges(a: readonly string[], b: readonly string[]): string[] {
  // A list cut before carries its count in its last line: keep counting from it.
  const last = a[a.length - 1];
  const cut = last === undefined ? undefined : SUMMARY.exec(last);
  const earlier = cut ? Number(cut[1]) : 0;
  const merged = [...(cut ? a.slice(0, -1) : a), ...b];
  if (merged.length + (earlier > 0 ? 1 : 0) <= MAX_CHANGES) return earlier > 0 ? [...merged, summary(earlier)] : merged;
  const kept = merged.slice(0, MAX_CHANGES - 1);
  return [...kept, summary(earlier + merged.length - kept.length)];
}

const SUMMARY = /^… and (\d+) more changes$/;
const summary = (n: number) => `… and ${n} more changes`;
