import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery, Kysely, Migrator, MysqlDialect, PostgresDialect, SqliteDialect, sql, type MigrationProvider } from 'kysely';
import type mysql from 'mysql2';
import type pg from 'pg';
import { AppError } from '../errors';
import { migrations } from './migrations';
import type { Database } from './schema';
import { sqlRepos } from './sql';
import { insertIfAbsent } from './sql/common';
import { sqliteRowWriter, type SqliteRowWriter } from './sql/sqlite-rows';
import { sqliteStatements } from './sql/sqlite-statements';
import { startSqliteCheckpointer, type SqliteCheckpointer } from './sqlite-checkpointer';
import type { Dialect, JobStore, Store } from './types';

export interface StoreOptions {
  url: string;
  sqliteSynchronous?: 'normal' | 'full';
  /** PostgreSQL or MySQL connections per replica. */
  poolSize?: number;
  /**
   * Bring the schema up to date (the daemon and `faultdesk migrate`). Without
   * it, a database behind the code is refused: tools that only read or
   * explain never change a production schema.
   */
  migrate?: boolean;
  /** SQLite: checkpoint the write-ahead log on a thread of its own (the daemon; see sqlite-checkpointer.ts). */
  checkpointInBackground?: boolean;
}

export class StoreUrlError extends AppError {
  constructor(message: string) {
    super('invalid', message);
    this.name = 'StoreUrlError';
  }
}

/** The SQLite file a store URL names, or undefined for another kind of store or memory. */
export function sqliteFile(url: string): string | undefined {
  if (!url.startsWith('sqlite:')) return undefined;
  const file = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
  return file === ':memory:' ? undefined : file;
}

/**
 * The settings of the daemon's SQLite connection. The page cache is SQLite's default of 2 MB
 * (better-sqlite3 builds with 16 MB): when a write splits B-tree pages, SQLite files a page for a
 * moment under a number past the end of the database, and the commit after it then walks the whole
 * cache to drop it. With 16 MB that walk was 3 to 4% of the event loop in the changes stream
 * (README, "The fifth round"); the reads the smaller cache sends to the file system cost less.
 */
export function sqliteConnectionPragmas(options: Pick<StoreOptions, 'sqliteSynchronous'>): string[] {
  return ['journal_mode = WAL', `synchronous = ${options.sqliteSynchronous === 'full' ? 'FULL' : 'NORMAL'}`, 'foreign_keys = ON', 'busy_timeout = 5000', 'cache_size = -2000'];
}

/** Opens the store named by a URL (`sqlite:path`, `sqlite::memory:`, `postgres://…`, `mysql://…`). */
export async function openStore(options: StoreOptions): Promise<Store> {
  const { url } = options;
  const migrate = options.migrate ?? false;
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (file === '') throw new StoreUrlError(`store url "${url}": name a file, e.g. sqlite:data/faultdesk.db`);
    const memory = file === ':memory:';
    if (!memory && !migrate && !existsSync(file)) {
      throw new AppError('not_found', `store ${url}: no database there yet (the daemon creates it at its first start, or run faultdesk migrate)`);
    }
    if (!memory) mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const database = new BetterSqlite3(file);
    // A new file gives the pages retention frees back to the file system (see compact());
    // the mode can only be chosen before the first table exists.
    const { n: objects } = database.prepare('select count(*) as n from sqlite_master').get() as { n: number };
    if (objects === 0) database.pragma('auto_vacuum = INCREMENTAL');
    for (const pragma of sqliteConnectionPragmas(options)) database.pragma(pragma);
    const statements = sqliteStatements(database);
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: statements }) });
    const rows = sqliteRowWriter(database, statements);
    const checkpointer = options.checkpointInBackground && !memory ? startSqliteCheckpointer(database, file) : undefined;
    try {
      // A fresh in-memory database is a scratch store: it always gets the schema.
      await prepareSchema(db, 'sqlite', migrate || memory);
    } catch (err) {
      await checkpointer?.close();
      await db.destroy();
      throw err;
    }
    // better-sqlite3's run() steps a statement once, and a step of incremental_vacuum frees one page:
    // pragma() steps it to the end. On Kysely's one connection, so that it never runs inside a transaction.
    const vacuum = (pages: number) => db.connection().execute(async () => void database.pragma(`incremental_vacuum(${pages})`));
    return kyselyStore(db, 'sqlite', { rows, checkpointer, vacuum });
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    // Loaded only for PostgreSQL: a daemon on SQLite saves the driver's memory.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a require, so that it loads on demand
    const { Pool } = require('pg') as typeof pg;
    const pool: pg.Pool = new Pool({ connectionString: url, max: options.poolSize ?? 10 });
    // Times are epoch milliseconds in bigint columns: read them back as numbers, not strings.
    pool.on('connect', (client) => {
      client.setTypeParser(20, (v: string) => Number(v));
      client.setTypeParser(1700, (v: string) => Number(v));
    });
    // An idle client that loses its server must not crash the process; the next query reports it.
    pool.on('error', () => undefined);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    try {
      await prepareSchema(db, 'postgres', migrate);
    } catch (err) {
      await db.destroy();
      throw err;
    }
    return kyselyStore(db, 'postgres');
  }
  if (url.startsWith('mysql://') || url.startsWith('mariadb://')) {
    const db = new Kysely<Database>({ dialect: mysqlDialect(url.replace(/^mariadb:/, 'mysql:'), options.poolSize ?? 10) });
    try {
      await prepareSchema(db, 'mysql', migrate);
    } catch (err) {
      await db.destroy();
      throw err;
    }
    return kyselyStore(db, 'mysql');
  }
  throw new StoreUrlError(`store url "${redacted(url)}": unsupported scheme (use sqlite:FILE, postgres://user@host/db or mysql://user:pass@host:3306/db)`);
}

/** A store URL fit for a message: its password replaced. */
function redacted(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}

/**
 * MySQL and MariaDB through mysql2. Every connection reads committed data
 * (PostgreSQL's default; InnoDB's REPEATABLE READ would take gap locks that
 * make two replicas opening the same fault deadlock instead of one waiting),
 * in strict mode (a too-long value is an error, never truncated).
 */
function mysqlDialect(url: string, poolSize: number): MysqlDialect {
  // Loaded only for MySQL, as pg for PostgreSQL.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a require, so that it loads on demand
  const { createPool } = require('mysql2') as typeof mysql;
  const pool = createPool({
    uri: url,
    connectionLimit: poolSize,
    // Sums are DECIMAL in MySQL: read them as numbers, as BIGINT times are.
    decimalNumbers: true,
    charset: 'UTF8MB4_BIN',
    enableKeepAlive: true,
  });
  return new MysqlDialect({
    pool,
    async onCreateConnection(connection) {
      await connection.executeQuery(CompiledQuery.raw('set session transaction isolation level read committed'));
      await connection.executeQuery(CompiledQuery.raw("set session sql_mode = 'STRICT_ALL_TABLES,ONLY_FULL_GROUP_BY,NO_ENGINE_SUBSTITUTION,ERROR_FOR_DIVISION_BY_ZERO'"));
    },
  });
}

const MIGRATION_LOCK = 0x6661756c74;
const JOB_LOCK_BASE = 0x6a6f62;

async function prepareSchema(db: Kysely<Database>, dialect: Dialect, migrate: boolean): Promise<void> {
  if (!migrate) return requireLatest(db, dialect);
  if (dialect === 'sqlite') return migrateToLatest(db, dialect);
  // Replicas starting together migrate one at a time.
  await db.connection().execute(async (conn) => {
    const lock = { dialect, key: MIGRATION_LOCK, name: 'migrate' };
    await takeLock(conn, lock, true);
    try {
      await migrateToLatest(conn, dialect);
    } finally {
      await releaseLock(conn, lock);
    }
  });
}

/** A session lock: a number on PostgreSQL, a name on MySQL. */
interface SessionLock {
  dialect: 'postgres' | 'mysql';
  key: number;
  name: string;
}

/**
 * MySQL's lock names are server-wide: prefixed with the database's, so two
 * faultdesk databases on one server (tests run in parallel so) never share one.
 */
const mysqlLockName = (name: string) => sql`concat('faultdesk:', sha1(concat(database(), '/', ${name})))`;

/** Takes the lock on this connection: waits for it (up to an hour on MySQL), or gives up at once. */
async function takeLock(conn: Kysely<Database>, lock: SessionLock, wait: boolean): Promise<boolean> {
  if (lock.dialect === 'mysql') {
    const r = await sql<{ locked: number | null }>`select get_lock(${mysqlLockName(lock.name)}, ${wait ? 3600 : 0}) as locked`.execute(conn);
    if (wait && Number(r.rows[0]?.locked) !== 1) throw new Error(`store: could not take the ${lock.name} lock`);
    return Number(r.rows[0]?.locked) === 1;
  }
  if (wait) {
    await sql`select pg_advisory_lock(${lock.key})`.execute(conn);
    return true;
  }
  const got = await sql<{ locked: boolean }>`select pg_try_advisory_lock(${lock.key}) as locked`.execute(conn);
  return got.rows[0]?.locked === true;
}

async function releaseLock(conn: Kysely<Database>, lock: SessionLock): Promise<void> {
  if (lock.dialect === 'mysql') await sql`select release_lock(${mysqlLockName(lock.name)})`.execute(conn);
  else await sql`select pg_advisory_unlock(${lock.key})`.execute(conn);
}

function migrator(db: Kysely<Database>, dialect: Dialect, schema: string | undefined): Migrator {
  const provider: MigrationProvider = { getMigrations: async () => migrations(dialect) };
  return new Migrator({ db, provider, ...(schema ? { migrationTableSchema: schema } : {}) });
}

/** On PostgreSQL, Kysely looks for its bookkeeping tables in every schema: name ours, the one in use. */
async function currentSchema(db: Kysely<Database>, dialect: Dialect): Promise<string | undefined> {
  return dialect === 'postgres' ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema : undefined;
}

async function migrateToLatest(db: Kysely<Database>, dialect: Dialect): Promise<void> {
  const { error, results } = await migrator(db, dialect, await currentSchema(db, dialect)).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`store migration ${failed} failed: ${(error as Error).message}`);
  }
}

/** Refuses a database whose schema is not the one this code was written for. */
async function requireLatest(db: Kysely<Database>, dialect: Dialect): Promise<void> {
  const pending = (await migrator(db, dialect, await currentSchema(db, dialect)).getMigrations()).filter((m) => m.executedAt === undefined);
  if (pending.length > 0) {
    throw new AppError('unavailable', `the store's schema is ${pending.length} migration(s) behind this faultdesk: start the daemon or run faultdesk migrate first`);
  }
}

/** What only a SQLite file has. */
interface SqliteParts {
  rows: SqliteRowWriter;
  checkpointer?: SqliteCheckpointer;
  /** Gives up to `pages` free pages back to the file system. */
  vacuum: (pages: number) => Promise<void>;
}

function kyselyStore(db: Kysely<Database>, dialect: Dialect, sqlite?: SqliteParts): Store {
  const checkpointer = sqlite?.checkpointer;
  const aside = checkpointer && ((query: CompiledQuery) => checkpointer.read(query.sql, query.parameters));
  const options = { dialect, locking: dialect !== 'sqlite', ...(aside ? { aside } : {}) };
  // The row writer runs on the one connection outside Kysely: only where a transaction holds it.
  // Counts in a transaction read what it wrote: on its connection.
  const inTransaction = { dialect: options.dialect, locking: options.locking, rows: sqlite?.rows };
  return {
    dialect,
    repos: sqlRepos(db, options),
    jobs: sqlJobStore(db, dialect),
    async transaction(work) {
      const result = await db.transaction().execute((trx) => work(sqlRepos(trx, inTransaction)));
      checkpointer?.nudge();
      return result;
    },
    isRetryable(err: unknown): boolean {
      const code = (err as { code?: string }).code ?? '';
      // 23505 unique violation, 40001 serialization failure, 40P01 deadlock; SQLite's unique constraint;
      // MySQL's duplicate key, deadlock and lock wait timeout.
      return (
        code === '23505' ||
        code === '40001' ||
        code === '40P01' ||
        code === 'SQLITE_CONSTRAINT_UNIQUE' ||
        code === 'SQLITE_BUSY' ||
        code === 'ER_DUP_ENTRY' ||
        code === 'ER_LOCK_DEADLOCK' ||
        code === 'ER_LOCK_WAIT_TIMEOUT'
      );
    },
    async ping() {
      try {
        await db.selectFrom('faults').select('id').limit(1).execute();
        return true;
      } catch {
        return false;
      }
    },
    sizeBytes: () => storeSize(db, dialect),
    async compact(maxPages) {
      // Only a file made with auto_vacuum=INCREMENTAL (2) gives pages back; elsewhere freed pages are reused.
      if (!sqlite) return 0;
      const mode = await sql<{ auto_vacuum: number }>`pragma auto_vacuum`.execute(db);
      if (Number(mode.rows[0]?.auto_vacuum) !== 2) return 0;
      await sqlite.vacuum(Math.max(1, Math.floor(maxPages)));
      const free = await sql<{ freelist_count: number }>`pragma freelist_count`.execute(db);
      return Number(free.rows[0]?.freelist_count ?? 0);
    },
    async close() {
      await checkpointer?.close();
      await db.destroy();
    },
  };
}

async function storeSize(db: Kysely<Database>, dialect: Dialect): Promise<number> {
  if (dialect === 'sqlite') {
    const pages = await sql<{ page_count: number }>`pragma page_count`.execute(db);
    const size = await sql<{ page_size: number }>`pragma page_size`.execute(db);
    return Number(pages.rows[0]?.page_count ?? 0) * Number(size.rows[0]?.page_size ?? 0);
  }
  const tables = Object.keys(TABLES);
  if (dialect === 'mysql') {
    // InnoDB's own estimate of the tables' data and indexes (refreshed by its statistics, not at every write).
    const r = await sql<{ bytes: number | null }>`select sum(data_length + index_length) as bytes
      from information_schema.tables where table_schema = database() and table_name in (${sql.join(tables)})`.execute(db);
    return Number(r.rows[0]?.bytes ?? 0);
  }
  const r = await sql<{ bytes: number | null }>`select sum(pg_total_relation_size(c.oid))::bigint as bytes
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = current_schema() and c.relkind = 'r' and c.relname in (${sql.join(tables)})`.execute(db);
  return Number(r.rows[0]?.bytes ?? 0);
}

/** faultdesk's tables, for the size of a PostgreSQL or MySQL store that may share its database with others. */
const TABLES: Record<keyof Database, true> = {
  faults: true,
  alerts: true,
  outbox: true,
  local_tickets: true,
  local_ticket_comments: true,
  local_ticket_attachments: true,
  repair_time_fits: true,
  satisfaction: true,
  job_runs: true,
  inbound_seen: true,
  cursors: true,
  writebacks: true,
  writeback_commands: true,
};

/** No guard on SQLite (one process); an advisory lock and a run record on PostgreSQL and MySQL. */
function sqlJobStore(db: Kysely<Database>, dialect: Dialect): JobStore {
  return {
    async runOnce(name, now, work) {
      if (dialect === 'sqlite') {
        await work();
        return true;
      }
      return db.connection().execute(async (conn) => {
        const lock = { dialect, key: JOB_LOCK_BASE * 1000 + hash(name), name: `job:${name}` };
        if (!(await takeLock(conn, lock, false))) return false;
        try {
          // The lock stops runs at the same time; the record stops a second run of the same tick.
          const slot = Math.floor(now / 1000);
          const claimed = await insertIfAbsent(conn, { dialect }, 'job_runs', { name, slot, started_at: now }, ['name', 'slot']);
          if (!claimed) return false;
          await work();
          return true;
        } finally {
          await releaseLock(conn, lock);
        }
      });
    },
  };
}

function hash(text: string): number {
  let h = 0;
  for (const ch of text) h = (h * 31 + (ch.codePointAt(0) ?? 0)) % 1000;
  return h;
}
