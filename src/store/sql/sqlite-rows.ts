import type BetterSqlite3 from 'better-sqlite3';
import type { KyselyStatement } from './sqlite-statements';

type Row = Record<string, unknown>;

/**
 * Writes whole rows on SQLite through prepared statements of one row each,
 * without building a query per batch: in a storm of new faults, Kysely's
 * building and compiling of a multi-row insert of the wide fault rows cost
 * more than SQLite's writing of them. The few reads and one rewrite of the
 * ingest path run here too, by their SQL text (Kysely built each one again
 * for every group). Only for use inside a transaction (the one connection is
 * then ours): a statement run outside one would join whichever transaction
 * is open.
 */
export interface SqliteRowWriter {
  /** Inserts the rows in order; gives each row's new rowid. */
  insert(table: string, rows: readonly Row[]): number[];
  /** Inserts the rows, or sets every given column of the row with the same id. */
  upsertById(table: string, rows: readonly Row[]): void;
  /**
   * Sets, in each row that `was` holds as read, the columns whose values differ from it (a row with
   * none is not written); a row `was` lacks is upserted whole. An update that names no indexed
   * column leaves the indexes alone, which an upsert of every column does not.
   */
  updateChanged(table: string, rows: ReadonlyArray<Row & { id: string | number }>, was: ReadonlyMap<string | number, Row>): void;
  /**
   * The rows of a query of the ingest path, by its SQL text: prepared once and read as Kysely's
   * queries are (the same statements), without building the query each time. `inList(n)` gives
   * the placeholders of an IN list of n values.
   */
  all(text: string, parameters: readonly unknown[]): Row[];
  /** Runs a statement of the ingest path that writes, by its SQL text. */
  run(text: string, parameters: readonly unknown[]): void;
}

/** "?, ?, ?" for an IN list of `n` values. */
export function inList(n: number): string {
  return n > 0 ? '?, '.repeat(n - 1) + '?' : '';
}

/** Column and table names come from the code's row types, never from input; checked anyway, as they go into SQL text. */
const NAME = /^[a-z_][a-z0-9_]*$/;

function quoted(name: string): string {
  if (!NAME.test(name)) throw new Error(`not a column or table name: ${JSON.stringify(name)}`);
  return `"${name}"`;
}

const MAX_STATEMENTS = 500;

/** A prepared statement for each table, kind and set of columns; a row's undefined columns take their defaults, as with Kysely. */
/** `shared`: the statements Kysely's queries use (sqliteStatements), for the reads and the one rewrite. */
export function sqliteRowWriter(database: BetterSqlite3.Database, shared: { prepare(text: string): KyselyStatement }): SqliteRowWriter {
  const statements = new Map<string, BetterSqlite3.Statement>();
  // The rows of one batch have the same columns: the last statement of each kind and table is
  // checked column by column before a key is made and looked up.
  const last = new Map<string, { columns: readonly string[]; statement: BetterSqlite3.Statement }>();
  const sameColumns = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((c, i) => c === b[i]);
  const statement = (kind: 'insert' | 'upsert' | 'update', table: string, columns: readonly string[]) => {
    const recent = last.get(kind + table);
    if (recent && sameColumns(recent.columns, columns)) return recent.statement;
    const key = `${kind} ${table} ${columns.join(',')}`;
    let s = statements.get(key);
    if (!s) {
      // Updates name the columns that changed: bounded in practice, bounded here anyway.
      if (statements.size >= MAX_STATEMENTS) statements.clear();
      const names = columns.map(quoted);
      const text =
        kind === 'update'
          ? `update ${quoted(table)} set ${names.map((n) => `${n} = ?`).join(', ')} where "id" = ?`
          : `insert into ${quoted(table)} (${names.join(', ')}) values (${names.map(() => '?').join(', ')})` +
            (kind === 'upsert' ? ` on conflict ("id") do update set ${names.filter((n) => n !== '"id"').map((n) => `${n} = excluded.${n}`).join(', ')}` : '');
      s = database.prepare(text);
      statements.set(key, s);
    }
    last.set(kind + table, { columns, statement: s });
    return s;
  };
  /** The row's columns to write and their values: the defined ones that `keep` keeps. */
  const columnsOf = (row: Row, keep: (column: string, value: unknown) => boolean = () => true) => {
    const columns: string[] = [];
    const values: unknown[] = [];
    // for-in, not Object.entries: no [column, value] pair made for each of a fault's 48 columns.
    for (const column in row) {
      const value = row[column];
      if (value === undefined || !keep(column, value)) continue;
      columns.push(column);
      values.push(value);
    }
    return { columns, values };
  };
  const run = (kind: 'insert' | 'upsert', table: string, row: Row) => {
    const { columns, values } = columnsOf(row);
    return statement(kind, table, columns).run(values);
  };
  return {
    all: (text, parameters) => shared.prepare(text).all(parameters),
    run(text, parameters) {
      shared.prepare(text).run(parameters);
    },
    insert: (table, rows) => rows.map((row) => Number(run('insert', table, row).lastInsertRowid)),
    upsertById(table, rows) {
      for (const row of rows) run('upsert', table, row);
    },
    updateChanged(table, rows, was) {
      for (const row of rows) {
        const before = was.get(row.id);
        if (!before) {
          run('upsert', table, row);
          continue;
        }
        const { columns, values } = columnsOf(row, (column, value) => column !== 'id' && value !== before[column]);
        if (columns.length === 0) continue;
        values.push(row.id);
        statement('update', table, columns).run(values);
      }
    },
  };
}
