import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import pg from 'pg';

/** Where Debian's zabbix-server-pgsql keeps the SQL that creates a Zabbix database. */
export const SCHEMA_DIR = '/usr/share/zabbix-server-pgsql';

/** A PostgreSQL server and the role Zabbix logs in with (the server and the frontend need them apart, not as a URL). */
export interface PgServer {
  host: string;
  port: number;
  user: string;
  password: string;
}

export function pgServer(url: string): PgServer {
  const u = new URL(url);
  return { host: u.hostname || '127.0.0.1', port: Number(u.port || 5432), user: decodeURIComponent(u.username || 'postgres'), password: decodeURIComponent(u.password) };
}

async function connect(server: PgServer, database: string): Promise<pg.Client> {
  const client = new pg.Client({ ...server, database });
  await client.connect();
  return client;
}

const RUN_PREFIX = 'faultdesk_zabbix_run_';

/**
 * The template database for a Zabbix version: schema, images and data loaded
 * once (data.sql alone takes 10–25 s) and copied for every run. It is built
 * under another name and renamed when complete, so a run that died while
 * building never leaves a half-loaded template; an advisory lock keeps two
 * test processes from building it at once.
 */
export async function ensureTemplateDatabase(server: PgServer, zabbixVersion: string): Promise<string> {
  const name = `faultdesk_zabbix_${zabbixVersion.replace(/[^0-9]+/g, '_')}_template`;
  const admin = await connect(server, 'postgres');
  try {
    await admin.query('select pg_advisory_lock(hashtext($1))', [name]);
    const exists = await admin.query('select 1 from pg_database where datname = $1', [name]);
    if (exists.rowCount === 0) {
      const building = `${name}_building`;
      await admin.query(`drop database if exists ${building}`);
      await admin.query(`create database ${building} encoding 'UTF8' template template0`);
      const db = await connect(server, building);
      try {
        // The files are plain INSERTs (no COPY), so each goes in one simple-protocol query.
        for (const file of ['schema.sql.gz', 'images.sql.gz', 'data.sql.gz']) {
          await db.query(gunzipSync(readFileSync(path.join(SCHEMA_DIR, file))).toString('utf8'));
        }
      } finally {
        await db.end();
      }
      await admin.query(`alter database ${building} rename to ${name}`);
    }
    return name;
  } finally {
    await admin.query('select pg_advisory_unlock(hashtext($1))', [name]).catch(() => undefined);
    await admin.end();
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A fresh database for one run, copied from the template (about half a second).
 * Its name carries this process's id, so databases left by runs that were
 * killed before they could drop theirs are dropped here.
 */
export async function createRunDatabase(server: PgServer, template: string): Promise<{ name: string; drop: () => Promise<void> }> {
  const name = `${RUN_PREFIX}${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = await connect(server, 'postgres');
  try {
    const left = await admin.query<{ datname: string }>('select datname from pg_database where datname like $1', [`${RUN_PREFIX}%`]);
    for (const { datname } of left.rows) {
      const pid = Number(/^faultdesk_zabbix_run_(\d+)_/.exec(datname)?.[1]);
      if (pid && !processAlive(pid)) await admin.query(`drop database if exists ${datname} with (force)`);
    }
    await admin.query(`create database ${name} template ${template}`);
  } finally {
    await admin.end();
  }
  return {
    name,
    drop: async () => {
      const c = await connect(server, 'postgres');
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}
