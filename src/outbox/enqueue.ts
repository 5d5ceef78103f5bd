import type { NewOutboxRow, OutboxStore } from '../store';

/** The ordering line of an operation: a fault's, or a digest's (mails to one set of recipients). */
export type Line = { fault: string } | { digest: string };

export function lineName(line: Line): string {
  return 'fault' in line ? `fault:${line.fault}` : `digest:${line.digest}`;
}

/** An operation to queue: for a system (a ticket system, e-mail), in a line, due at a time. */
export interface NewOperation {
  line: Line;
  system: string;
  kind: string;
  payload: object;
  nextAttemptAt: number;
}

/**
 * The only way an operation enters the outbox. Operations of one line and
 * system are delivered one after another in the order they were queued; the
 * row names its fault (a foreign key) when its line is a fault's.
 */
export async function enqueue(outbox: Pick<OutboxStore, 'insert'>, op: NewOperation, now: number): Promise<number> {
  return outbox.insert(rowOf(op, now));
}

/** Many operations, in order, in as few statements as the store can: a batch's operations. */
export async function enqueueMany(outbox: Pick<OutboxStore, 'insertMany'>, ops: readonly NewOperation[], now: number): Promise<void> {
  if (ops.length > 0) await outbox.insertMany(ops.map((op) => rowOf(op, now)));
}

/** The row of an operation: built here and nowhere else. */
function rowOf(op: NewOperation, now: number): NewOutboxRow {
  return {
    line: lineName(op.line),
    fault_id: 'fault' in op.line ? op.line.fault : null,
    system: op.system,
    kind: op.kind,
    payload: JSON.stringify(op.payload),
    state: 'pending',
    attempts: 0,
    next_attempt_at: op.nextAttemptAt,
    claimed_until: null,
    last_error: null,
    created_at: now,
    updated_at: now,
  };
}

/** A change to the outbox that a batch decided: a new operation, a waiting one rewritten, or one folded away. */
export type OutboxChange =
  | { type: 'insert'; op: NewOperation }
  // A rewrite keeps when the operation is due: moving it would also rewrite its entry in the due index.
  | { type: 'rewrite'; id: number; payload: object }
  | { type: 'withdraw'; id: number };

/**
 * Applies a batch's outbox changes: rewrites and withdrawals, then every new
 * operation in one insert, in the order they were planned (so each line keeps
 * its order). Returns how many new operations are due now.
 */
export async function applyOutboxChanges(
  outbox: Pick<OutboxStore, 'insertMany' | 'replacePayload' | 'delete'>,
  changes: readonly OutboxChange[],
  now: number,
): Promise<number> {
  const inserts: NewOperation[] = [];
  for (const change of changes) {
    if (change.type === 'insert') inserts.push(change.op);
    else if (change.type === 'rewrite') await outbox.replacePayload(change.id, JSON.stringify(change.payload), now);
    else await outbox.delete(change.id);
  }
  await enqueueMany(outbox, inserts, now);
  return inserts.filter((op) => op.nextAttemptAt <= now).length;
}
