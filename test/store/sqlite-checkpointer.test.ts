import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { SideThreadUnavailable, startSqliteCheckpointer, type CheckpointerOptions, type SqliteCheckpointer } from '../../src/store/sqlite-checkpointer';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'faultdesk-ckpt-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function walDatabase(file: string) {
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.exec('create table t (id integer primary key, text text not null)');
  return db;
}

async function until(done: () => boolean, ms = 10_000) {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('commits reach the database file through the background thread while the writer never checkpoints', async () => {
  await withCheckpointer({}, async (db, file, checkpointer) => {
    // The writer's own checkpoint only past the fallback, far above what this writes.
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(32000);
    const insert = db.prepare('insert into t (text) values (?)');
    for (let i = 0; i < 50; i++) {
      db.transaction(() => {
        for (let j = 0; j < 20; j++) insert.run(`row ${i}.${j}`);
      })();
      checkpointer.nudge();
    }
    await until(() => checkpointer.stats().complete > 0 && checkpointer.stats().runs > 0);
    // The database file alone, without its log, holds every committed row once a checkpoint caught up.
    await until(() => fileAloneCount(file) === 1000);
    expect(checkpointer.stats().failed).toBe(false);
  });
});

test('without its thread the writer checkpoints as SQLite does by default', async () => {
  const file = path.join(dir, 'b.db');
  const db = walDatabase(file);
  const checkpointer = startSqliteCheckpointer(db, path.join(dir, 'no-such.db'));
  try {
    await until(() => checkpointer.stats().failed);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
  } finally {
    await checkpointer.close();
    db.close();
  }
});

test('close ends the thread, so a daemon stops without waiting for it', async () => {
  const file = path.join(dir, 'c.db');
  const db = walDatabase(file);
  const checkpointer = startSqliteCheckpointer(db, file);
  checkpointer.nudge();
  const started = Date.now();
  await checkpointer.close();
  expect(Date.now() - started).toBeLessThan(2_000);
  db.close();
});

test('the thread answers reads with what is committed, refuses statements that write, and gives way once gone', async () => {
  const file = path.join(dir, 'd.db');
  const db = walDatabase(file);
  const checkpointer = startSqliteCheckpointer(db, file);
  try {
    db.prepare('insert into t (text) values (?)').run('committed');
    // A write of the writer's that is not committed yet is not seen.
    db.exec('begin');
    db.prepare('insert into t (text) values (?)').run('not yet');
    expect(await checkpointer.read('select text from t where id > ? order by id', [0])).toEqual([{ text: 'committed' }]);
    db.exec('commit');
    expect(await checkpointer.read('select count(*) as n from t', [])).toEqual([{ n: 2 }]);
    await expect(checkpointer.read('delete from t', [])).rejects.toThrow(/only reads/);
    expect(db.prepare('select count(*) as n from t').get()).toEqual({ n: 2 });
    await expect(checkpointer.read('select nonsense from t', [])).rejects.toThrow(/no such column/);
  } finally {
    await checkpointer.close();
  }
  await expect(checkpointer.read('select 1', [])).rejects.toBeInstanceOf(SideThreadUnavailable);
  db.close();
});

test('commits closer together than the interval share one checkpoint, and the last of them still reaches the file', async () => {
  await withCheckpointer({ minIntervalMs: 1_000, intervalMs: 60_000 }, async (db, file, checkpointer) => {
    await nudgedCommits(db, checkpointer, 20, 1, 'a row');
    // A checkpoint after every commit restarted the log as often, each restart an fsync on the writer.
    expect(checkpointer.stats().runs).toBeLessThanOrEqual(2);
    await until(() => checkpointer.stats().complete > 0 && fileAloneCount(file) === 20);
  });
});

test('once the log is long (a storm), checkpoints follow every commit again instead of waiting for the interval', async () => {
  await withCheckpointer({ minIntervalMs: 10_000, intervalMs: 60_000, busyPages: 20 }, async (db, file, checkpointer) => {
    // Each commit writes some 40 pages of log: past busyPages from the first checkpoint on.
    await nudgedCommits(db, checkpointer, 20, 40, 'x'.repeat(3_000));
    // With the interval alone there would be one checkpoint in these 200 ms, and the log would grow
    // towards the writer's own checkpoint on the event loop.
    expect(checkpointer.stats().runs).toBeGreaterThanOrEqual(10);
  });
});

test('a long log file is truncated once the writer has been idle for a while, never while commits come', async () => {
  await withCheckpointer({ intervalMs: 100, truncateAfterIdleMs: 400, truncateBytes: 16 * 1024 }, async (db, file, checkpointer) => {
    const logBytes = () => statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0;
    // 40 commits 10 ms apart: no 400 ms pass without one. Each writes a dozen pages.
    await nudgedCommits(db, checkpointer, 40, 12, 'x'.repeat(3_000));
    expect(checkpointer.stats().truncated).toBe(0);
    expect(logBytes()).toBeGreaterThan(16 * 1024);
    // Then quiet: 400 ms without a commit cut the file back, and every row is in the database file.
    await until(() => checkpointer.stats().truncated > 0);
    expect(logBytes()).toBe(0);
    expect(fileAloneCount(file)).toBe(480);
    // Writing again works as before.
    await nudgedCommits(db, checkpointer, 1, 1, 'after');
    expect((db.prepare('select count(*) as n from t').get() as { n: number }).n).toBe(481);
  });
});

/** A WAL database with its checkpoint thread for `work`; both closed after it. */
async function withCheckpointer(
  options: CheckpointerOptions,
  work: (db: BetterSqlite3.Database, file: string, checkpointer: SqliteCheckpointer) => Promise<void>,
) {
  const file = path.join(dir, 'w.db');
  const db = walDatabase(file);
  const checkpointer = startSqliteCheckpointer(db, file, options);
  try {
    await work(db, file, checkpointer);
  } finally {
    await checkpointer.close();
    db.close();
  }
}

/** `commits` commits of `rows` rows each, 10 ms apart, each followed by its nudge as the store does. */
async function nudgedCommits(db: BetterSqlite3.Database, checkpointer: { nudge(): void }, commits: number, rows: number, text: string) {
  const insert = db.prepare('insert into t (text) values (?)');
  for (let i = 0; i < commits; i++) {
    db.transaction(() => {
      for (let j = 0; j < rows; j++) insert.run(text);
    })();
    checkpointer.nudge();
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Rows of t in a copy of the database file without its log: what checkpoints have copied. */
function fileAloneCount(file: string): number {
  const copy = path.join(dir, `alone-${Date.now()}-${Math.random()}.db`);
  copyFileSync(file, copy);
  const alone = new BetterSqlite3(copy, { readonly: true });
  try {
    return (alone.prepare('select count(*) as n from t').get() as { n: number }).n;
  } finally {
    alone.close();
  }
}
