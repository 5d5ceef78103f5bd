import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema';

export type Db = Kysely<Database>;

export interface SqlOptions {
  /**
   * Lock the faults a batch reads until it commits, in id order (PostgreSQL,
   * where replicas share the database), so two replicas never change one fault at once.
   */
  locking: boolean;
}

/** SQLite limits bound parameters per statement; stay well under it. */
const CHUNK = 500;

export function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

/** Bound parameters one statement may carry (SQLite's limit is 32,766; PostgreSQL's 65,535). */
const MAX_PARAMETERS = 30_000;

/**
 * Writes whole rows by id in as few statements as the parameter limit allows:
 * an insert whose conflict on the id updates every other column. With
 * `insertOnly`, rows are new and plainly inserted.
 */
export async function writeWholeRows<T extends { id: string | number }>(db: Db, table: 'faults' | 'alerts', rows: readonly T[], insertOnly = false): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0] as object).filter((c) => c !== 'id');
  const perStatement = Math.max(1, Math.floor(MAX_PARAMETERS / (columns.length + 1)));
  const set = Object.fromEntries(columns.map((c) => [c, sql.ref(`excluded.${c}`)]));
  // The row types differ by table; the statement is the same shape for both.
  const loose = db as unknown as Kysely<Record<string, Record<string, unknown>>>;
  for (let i = 0; i < rows.length; i += perStatement) {
    const q = loose.insertInto(table).values(rows.slice(i, i + perStatement) as unknown as Array<Record<string, unknown>>);
    await (insertOnly ? q : q.onConflict((oc) => oc.column('id').doUpdateSet(set))).execute();
  }
}
