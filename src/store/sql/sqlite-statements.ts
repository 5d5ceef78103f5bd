import type BetterSqlite3 from 'better-sqlite3';

/** Statements kept prepared; queries with IN lists of other lengths are other statements. */
const STATEMENT_CACHE_SIZE = 1000;

type Row = Record<string, unknown>;
type RowBuilder = (values: unknown[]) => Row;

/** Row builders kept (one per set of column names: a function each, compiled code once hot). */
const MAX_BUILDERS = 200;

/** What Kysely's SQLite driver uses of a prepared statement. */
export interface KyselyStatement {
  readonly reader: boolean;
  all(parameters: readonly unknown[]): Row[];
  run(parameters: readonly unknown[]): BetterSqlite3.RunResult;
  iterate(parameters: readonly unknown[]): IterableIterator<Row>;
}

/**
 * The database as Kysely's SQLite dialect sees it, with two savings on every query:
 *
 * - Kysely prepares every query it runs, and preparing is a good part of the cost of a
 *   small query: the same SQL text reuses its prepared statement (least recently used ones
 *   are dropped past the limit).
 * - better-sqlite3 builds each row by adding its columns one by one, which leaves an object
 *   of more than a few dozen columns (a fault has 48) in V8's slow dictionary mode: about
 *   4 KB of allocation a fault row and twice the time of reading the row as an array. Rows
 *   are read as arrays and made into objects by a function built once per statement from its
 *   column names, an object literal that V8 lays out as a fixed shape.
 */
export function sqliteStatements(database: BetterSqlite3.Database) {
  const cache = new Map<string, KyselyStatement>();
  // Statements that differ only in the length of an IN list return the same columns: one builder for them all.
  const builders = new Map<string, RowBuilder>();
  const builderOf = (names: readonly string[]): RowBuilder => {
    const key = names.join('\u0000');
    let builder = builders.get(key);
    if (!builder) {
      if (builders.size >= MAX_BUILDERS) builders.clear();
      builders.set(key, (builder = rowBuilder(names)));
    }
    return builder;
  };
  return {
    close: () => database.close(),
    /** Statements and row builders kept (for tests). */
    sizes: () => ({ statements: cache.size, builders: builders.size }),
    prepare(text: string): KyselyStatement {
      let statement = cache.get(text);
      if (statement) {
        cache.delete(text);
      } else {
        statement = kyselyStatement(database.prepare(text), builderOf);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
      }
      cache.set(text, statement);
      return statement;
    },
  };
}

function kyselyStatement(statement: BetterSqlite3.Statement, builderOf: (names: readonly string[]) => RowBuilder): KyselyStatement {
  if (!statement.reader) return statement as unknown as KyselyStatement;
  const toObject = builderOf(statement.columns().map((c) => c.name));
  const raw = statement.raw(true);
  return {
    reader: true,
    all: (parameters) => (raw.all(parameters) as unknown[][]).map(toObject),
    run: (parameters) => raw.run(parameters),
    *iterate(parameters) {
      for (const values of raw.iterate(parameters) as IterableIterator<unknown[]>) yield toObject(values);
    },
  };
}

/**
 * A function from a row's values to an object with these column names, as an object literal
 * (the names are written as JSON string literals). A name given twice keeps its last value,
 * as better-sqlite3 does.
 */
export function rowBuilder(names: readonly string[]): RowBuilder {
  // In a literal, "__proto__": sets the prototype instead of a property.
  if (names.includes('__proto__')) {
    return (values) => {
      const row: Row = {};
      names.forEach((name, i) => Object.defineProperty(row, name, { value: values[i], enumerable: true, writable: true, configurable: true }));
      return row;
    };
  }
  const fields = names.map((name, i) => `${JSON.stringify(name)}: v[${i}]`).join(', ');
  // The names are SQL columns of our own queries, written as string literals.
  return new Function('v', `return { ${fields} };`) as RowBuilder;
}
