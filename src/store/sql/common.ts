import { sql, type CompiledQuery, type Kysely } from 'kysely';
import type { Database } from '../schema';
import type { Dialect } from '../types';
import { SideThreadUnavailable } from '../sqlite-checkpointer';
import type { SqliteRowWriter } from './sqlite-rows';

export type Db = Kysely<Database>;

export interface SqlOptions {
  dialect: Dialect;
  /**
   * Lock the faults a batch reads until it commits, in id order (PostgreSQL and
   * MySQL, where replicas share the database), so two replicas never change one fault at once.
   */
  locking: boolean;
  /** Prepared one-row statements for the wide rows of the ingest path: SQLite, inside a transaction only. */
  rows?: SqliteRowWriter;
  /**
   * Runs a read-only query off the writer's connection (SQLite's side thread), for counts over
   * whole tables; outside transactions only. Throws SideThreadUnavailable when it cannot.
   */
  aside?: (query: CompiledQuery) => Promise<unknown[]>;
}

/**
 * A counting query, run aside where the store can (see SqlOptions.aside) and on the
 * connection otherwise: when the side thread is gone, or for other stores.
 */
export async function countAside<R>(query: { execute(): Promise<R[]>; compile(): CompiledQuery<R> }, { aside }: Pick<SqlOptions, 'aside'>): Promise<R[]> {
  if (aside) {
    try {
      return (await aside(query.compile())) as R[];
    } catch (err) {
      if (!(err instanceof SideThreadUnavailable)) throw err;
    }
  }
  return query.execute();
}

/** Tables as plain records: for the helpers below, which write any table. */
type Loose = Kysely<Record<string, Record<string, unknown>>>;
type Row = Record<string, unknown>;

/** MySQL's duplicate-key error (ER_DUP_ENTRY). */
export function isDuplicateKey(err: unknown): boolean {
  return (err as { errno?: number }).errno === 1062;
}

/**
 * Inserts a row unless one with the same unique key exists; true when it
 * inserted. PostgreSQL and SQLite: ON CONFLICT DO NOTHING. MySQL: a plain
 * insert whose duplicate-key error is the answer (it undoes only that
 * statement, not the transaction; INSERT IGNORE would also turn a too-long
 * value into a silently truncated one).
 */
export async function insertIfAbsent<T extends keyof Database & string>(
  db: Db, { dialect }: Pick<SqlOptions, 'dialect'>, table: T, row: Row, conflict: readonly string[]): Promise<boolean> {
  const loose = db as unknown as Loose;
  const name: string = table;
  if (dialect === 'mysql') {
    try {
      await loose.insertInto(name).values(row).execute();
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }
  const r = await loose
    .insertInto(name)
    .values(row)
    .onConflict((oc) => oc.columns([...conflict]).doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
}

/**
 * Inserts a row, or sets `update` on the row with the same unique key
 * (`conflict` names it; MySQL takes whichever unique key the row collides with).
 */
export async function upsert<T extends keyof Database & string>(
  db: Db, { dialect }: Pick<SqlOptions, 'dialect'>, table: T, row: Row, conflict: readonly string[], update: Row): Promise<void> {
  const name: string = table;
  const q = (db as unknown as Loose).insertInto(name).values(row);
  await (dialect === 'mysql' ? q.onDuplicateKeyUpdate(update) : q.onConflict((oc) => oc.columns([...conflict]).doUpdateSet(update))).execute();
}

/** Inserts a row and gives its auto-increment id (MySQL has no RETURNING). */
export async function insertReturningId<T extends keyof Database & string>(
  db: Db, { dialect }: Pick<SqlOptions, 'dialect'>, table: T, row: Row): Promise<number> {
  const name: string = table;
  const q = (db as unknown as Loose).insertInto(name).values(row);
  if (dialect === 'mysql') return Number((await q.executeTakeFirstOrThrow()).insertId);
  const r = await q.returning('id').executeTakeFirstOrThrow();
  return Number(r.id);
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
 * `insertOnly`, rows are new and plainly inserted. With the SQLite row writer
 * and `was` (rows as read in this transaction), only changed columns are set.
 */
export async function writeWholeRows<T extends { id: string | number }>(
  db: Db,
  { dialect, rows: writer }: Pick<SqlOptions, 'dialect' | 'rows'>,
  table: 'faults' | 'alerts',
  rows: readonly T[],
  insertOnly = false,
  was?: ReadonlyMap<T['id'], T>,
): Promise<void> {
  if (rows.length === 0) return;
  if (writer) {
    if (insertOnly) writer.insert(table, rows as unknown as Row[]);
    else if (was) writer.updateChanged(table, rows as unknown as Array<Row & { id: string | number }>, was as unknown as ReadonlyMap<string | number, Row>);
    else writer.upsertById(table, rows as unknown as Row[]);
    return;
  }
  const columns = Object.keys(rows[0] as object).filter((c) => c !== 'id');
  const perStatement = Math.max(1, Math.floor(MAX_PARAMETERS / (columns.length + 1)));
  // The proposed row: EXCLUDED on PostgreSQL and SQLite, VALUES() on MySQL (MariaDB has no row alias).
  const set = Object.fromEntries(columns.map((c) => [c, dialect === 'mysql' ? sql`values(${sql.ref(c)})` : sql.ref(`excluded.${c}`)]));
  // The row types differ by table; the statement is the same shape for both.
  const loose = db as unknown as Loose;
  for (let i = 0; i < rows.length; i += perStatement) {
    const q = loose.insertInto(table).values(rows.slice(i, i + perStatement) as unknown as Row[]);
    if (insertOnly) await q.execute();
    else if (dialect === 'mysql') await q.onDuplicateKeyUpdate(set).execute();
    else await q.onConflict((oc) => oc.column('id').doUpdateSet(set)).execute();
  }
}
