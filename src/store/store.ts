import { mkdirSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type MigrationProvider } from 'kysely';
import { migrations, type Dialect } from './migrations';
import { createRepos, type Repos } from './repos';
import type { Database } from './schema';

export interface Store {
  readonly dialect: Dialect;
  /** Repositories outside any transaction, for reads and single statements. */
  readonly repos: Repos;
  /** Runs `work` in one transaction: all of it commits, or none of it. */
  transaction<T>(work: (tx: Repos) => Promise<T>): Promise<T>;
  /** True while the database answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface StoreOptions {
  url: string;
  sqliteSynchronous?: 'normal' | 'full';
}

export class StoreUrlError extends Error {}

/** Opens the store named by a URL (`sqlite:path`, `sqlite::memory:`) and brings its schema up to date. */
export async function openStore(options: StoreOptions): Promise<Store> {
  const { url } = options;
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (file === '') throw new StoreUrlError(`store url "${url}": name a file, e.g. sqlite:data/faultdesk.db`);
    if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const database = new BetterSqlite3(file);
    database.pragma('journal_mode = WAL');
    database.pragma(`synchronous = ${options.sqliteSynchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    database.pragma('foreign_keys = ON');
    database.pragma('busy_timeout = 5000');
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
    await migrate(db, 'sqlite');
    return kyselyStore(db, 'sqlite');
  }
  throw new StoreUrlError(`store url "${url}": unsupported scheme (use sqlite:FILE)`);
}

async function migrate(db: Kysely<Database>, dialect: Dialect): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(dialect) };
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`store migration ${failed} failed: ${(error as Error).message}`);
  }
}

function kyselyStore(db: Kysely<Database>, dialect: Dialect): Store {
  return {
    dialect,
    repos: createRepos(db),
    transaction: (work) => db.transaction().execute((trx) => work(createRepos(trx))),
    async ping() {
      try {
        await db.selectFrom('faults').select('id').limit(1).execute();
        return true;
      } catch {
        return false;
      }
    },
    close: () => db.destroy(),
  };
}
