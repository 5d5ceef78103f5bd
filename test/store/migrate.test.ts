import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, MysqlDialect, PostgresDialect, SqliteDialect, sql } from 'kysely';
import { createPool } from 'mysql2';
import pg from 'pg';
import { migrations } from '../../src/store/migrations';
import { openStore } from '../../src/store';
import { REPO, tempDir } from '../helpers';
import { dialectOf, freshDatabase, STORE_KINDS, type StoreKind } from '../postgres';

// Only the daemon and `faultdesk migrate` change a schema; the tools refuse a database behind the code.
// And migration 0007 gives every outbox row its ordering line, digests included.

const run = promisify(execFile);
const T0 = Date.parse('2026-11-24T10:00:00Z');

/** A database at migration 0006 holding a fault, one of its operations and a digest mail. */
async function oldDatabase(kind: StoreKind): Promise<{ url: string; done: () => Promise<void>; migrations: () => Promise<number> }> {
  let url: string;
  let drop: () => Promise<void>;
  if (kind === 'sqlite') {
    const tmp = tempDir();
    url = `sqlite:${path.join(tmp.dir, 'old.db')}`;
    drop = async () => tmp.cleanup();
  } else {
    ({ url, drop } = await freshDatabase(kind));
  }
  const db = connect(kind, url);
  const schema = kind === 'postgres' ? (await sql<{ s: string }>`select current_schema() as s`.execute(db)).rows[0]?.s : undefined;
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations(dialectOf(kind)) }, ...(schema ? { migrationTableSchema: schema } : {}) });
  const { error } = await migrator.migrateTo('0006_outbox_line');
  if (error) throw error;
  await sql`insert into faults (id, ident, current, category, fault_key, key_labels, state, severity, priority, repair_time_hours, rt_a, rt_b, opened_at, due_at, updated_at, alert_count, firing_count, state_changes, last_change_at, ticket_wanted, ticket_system, rule_file, rule_line, summary, timeline)
    values ('f1', 'c\u001fk', 1, 'c', 'k', '{}', 'open', 5, 'normal', 1, 1, 0.5, ${T0}, ${T0}, ${T0}, 1, 1, '[]', ${T0}, 'open', 'local', 'r.yaml', 1, '', '{"omitted":0,"entries":[]}')`.execute(db);
  for (const [faultId, system, kind2] of [['f1', 'local', 'create'], ['digest:abc', 'email', 'digest']]) {
    await sql`insert into outbox (fault_id, system, kind, payload, state, attempts, next_attempt_at, created_at, updated_at)
      values (${faultId}, ${system}, ${kind2}, '{}', 'pending', 0, ${T0}, ${T0}, ${T0})`.execute(db);
  }
  await db.destroy();
  const count = async () => {
    const d = connect(kind, url);
    try {
      return Number((await sql<{ n: number }>`select count(*) as n from kysely_migration`.execute(d)).rows[0]?.n);
    } finally {
      await d.destroy();
    }
  };
  return { url, done: drop, migrations: count };
}

/** A plain Kysely on the database, outside faultdesk's store. */
function connect(kind: StoreKind, url: string): Kysely<unknown> {
  if (kind === 'sqlite') return new Kysely({ dialect: new SqliteDialect({ database: new BetterSqlite3(url.slice('sqlite:'.length)) }) });
  if (kind === 'postgres') return new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }) });
  return new Kysely({ dialect: new MysqlDialect({ pool: createPool({ uri: url, connectionLimit: 1 }) }) });
}

describe.each(STORE_KINDS)('on %s', (kind) => {
  test('the tools refuse a database behind the code and leave it as it is; faultdesk migrate brings it up to date', async () => {
    const old = await oldDatabase(kind);
    try {
      const behind = Object.keys(migrations(dialectOf(kind))).length - 6;
      await expect(openStore({ url: old.url })).rejects.toThrow(new RegExp(`${behind} migration\\(s\\) behind this faultdesk: start the daemon or run faultdesk migrate`));
      const env = { ...process.env, FAULTDESK_STORE_URL: old.url, FAULTDESK_RULES: path.join(REPO, 'rules') };
      const cli = (...args: string[]) => run(process.execPath, [path.join(REPO, 'dist/cli.js'), ...args, '--config', path.join(REPO, 'config/faultdesk.yaml')], { env, cwd: REPO });
      await expect(cli('outbox', 'list')).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/migration\(s\) behind/) });
      expect(await old.migrations()).toBe(6);

      const { stdout } = await cli('migrate');
      expect(stdout).toMatch(/schema up to date/);
      expect(await old.migrations()).toBe(6 + behind);
      const store = await openStore({ url: old.url });
      try {
        const ops = await store.repos.outbox.list({ limit: 10, offset: 0 });
        expect(ops.map((o) => [o.line, o.fault_id, o.kind])).toEqual([
          ['fault:f1', 'f1', 'create'],
          ['digest:abc', null, 'digest'],
        ]);
      } finally {
        await store.close();
      }
    } finally {
      await old.done();
    }
  });
});

test('explain on a SQLite file that does not exist yet creates nothing', async () => {
  const tmp = tempDir();
  try {
    const file = path.join(tmp.dir, 'none', 'faultdesk.db');
    const { stdout } = await run(
      process.execPath,
      [path.join(REPO, 'dist/cli.js'), 'explain', path.join(REPO, 'test/fixtures/am-firing.json'), '--config', path.join(REPO, 'config/faultdesk.yaml')],
      { env: { ...process.env, FAULTDESK_STORE_URL: `sqlite:${file}`, FAULTDESK_RULES: path.join(REPO, 'rules') }, cwd: REPO },
    );
    expect(JSON.parse(stdout).alerts[0]).toMatchObject({ outcome: 'opened', wouldDo: 'open' });
    expect(existsSync(path.dirname(file))).toBe(false);
  } finally {
    tmp.cleanup();
  }
});
