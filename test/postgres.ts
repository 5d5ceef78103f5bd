import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL server tests use: FAULTDESK_TEST_PG_URL, or the local one (trust auth, database test). */
export const PG_ADMIN_URL = process.env.FAULTDESK_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A fresh schema on the test server, and a store URL that uses it; drop() removes it. */
export async function freshPostgres(): Promise<{ url: string; drop: () => Promise<void> }> {
  const schema = `fd_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const sep = PG_ADMIN_URL.includes('?') ? '&' : '?';
  return {
    url: `${PG_ADMIN_URL}${sep}options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    },
  };
}

export type StoreKind = 'sqlite' | 'postgres';

/** Whether the PostgreSQL tests run (test/global-setup.js found a server; in CI it must). */
export const POSTGRES = process.env.FAULTDESK_TEST_PG === '1';

/** The stores a store-dependent suite runs against: SQLite always, PostgreSQL when it is there. */
export const STORE_KINDS: StoreKind[] = POSTGRES ? ['sqlite', 'postgres'] : ['sqlite'];
