// The store a benchmark's daemon runs on: a fresh SQLite file (the default), or a fresh schema on the
// local PostgreSQL or a fresh database on the local MariaDB, dropped afterwards.
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import pg from 'pg';

export const STORES = ['sqlite', 'postgres', 'mariadb'];

const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const MYSQL_URL = process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

/** `{ url, drop }` for a fresh store of `kind`; sqlite's URL is undefined (the daemon's folder holds the file). */
export async function freshStore(kind) {
  const name = `fd_bench_${randomBytes(4).toString('hex')}`;
  if (kind === 'sqlite') return { url: undefined, drop: async () => undefined };
  if (kind === 'postgres') {
    const run = async (text) => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      try {
        await c.query(text);
      } finally {
        await c.end();
      }
    };
    await run(`create schema ${name}`);
    const sep = PG_URL.includes('?') ? '&' : '?';
    return { url: `${PG_URL}${sep}options=${encodeURIComponent(`-c search_path=${name}`)}`, drop: () => run(`drop schema if exists ${name} cascade`) };
  }
  if (kind === 'mariadb') {
    const run = async (text) => {
      const c = await mysql.createConnection(MYSQL_URL);
      try {
        await c.query(text);
      } finally {
        await c.end();
      }
    };
    await run(`create database ${name}`);
    const url = new URL(MYSQL_URL);
    url.pathname = `/${name}`;
    return { url: url.toString(), drop: () => run(`drop database if exists ${name}`) };
  }
  throw new Error(`unknown store ${kind} (${STORES.join(', ')})`);
}

/** The server's name and version, for the results. */
export async function storeVersion(kind) {
  if (kind === 'postgres') {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    try {
      return `PostgreSQL ${(await c.query('show server_version')).rows[0].server_version}`;
    } finally {
      await c.end();
    }
  }
  if (kind === 'mariadb') {
    const c = await mysql.createConnection(MYSQL_URL);
    try {
      const [rows] = await c.query('select version() as v');
      return `MariaDB ${rows[0].v}`;
    } finally {
      await c.end();
    }
  }
  return 'SQLite (better-sqlite3, synchronous=normal)';
}
