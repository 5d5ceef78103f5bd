import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import pg from 'pg';

/** The PostgreSQL server tests use: FAULTDESK_TEST_PG_URL, or the local one (trust auth, database test). */
export const PG_ADMIN_URL = process.env.FAULTDESK_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** The MariaDB (or MySQL) server tests use: FAULTDESK_TEST_MYSQL_URL, or the local one (root, no password, database test). */
export const MYSQL_ADMIN_URL = process.env.FAULTDESK_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

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

/** A fresh database on the MariaDB test server (MySQL has no schemas within a database), and its store URL. */
export async function freshMysql(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `fd_${randomBytes(6).toString('hex')}`;
  const admin = await mysql.createConnection(MYSQL_ADMIN_URL);
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(MYSQL_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = await mysql.createConnection(MYSQL_ADMIN_URL);
      await c.query(`drop database if exists ${name}`);
      await c.end();
    },
  };
}

export type StoreKind = 'sqlite' | 'postgres' | 'mariadb';

/** Whether the PostgreSQL tests run (test/global-setup.js found a server; in CI it must). */
export const POSTGRES = process.env.FAULTDESK_TEST_PG === '1';

/** Whether the MariaDB tests run (test/global-setup.js found a server; in CI it must). */
export const MARIADB = process.env.FAULTDESK_TEST_MYSQL === '1';

/** The stores a store-dependent suite runs against: SQLite always, PostgreSQL and MariaDB when they are there. */
export const STORE_KINDS: StoreKind[] = ['sqlite', ...(POSTGRES ? (['postgres'] as const) : []), ...(MARIADB ? (['mariadb'] as const) : [])];

/** The servers' stores only. */
export const SERVER_KINDS = STORE_KINDS.filter((k): k is Exclude<StoreKind, 'sqlite'> => k !== 'sqlite');

/** A fresh database of a server kind: its store URL and how to drop it. */
export function freshDatabase(kind: Exclude<StoreKind, 'sqlite'>): Promise<{ url: string; drop: () => Promise<void> }> {
  return kind === 'postgres' ? freshPostgres() : freshMysql();
}

/** The dialect a store kind speaks. */
export function dialectOf(kind: StoreKind): 'sqlite' | 'postgres' | 'mysql' {
  return kind === 'mariadb' ? 'mysql' : kind;
}
