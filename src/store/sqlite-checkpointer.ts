import { statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';

/**
 * Copies the SQLite write-ahead log back into the database file on a thread
 * of its own. SQLite does it on the writer's connection after a commit once
 * the log passes 1,000 pages, and a checkpoint ends with fsyncs: in a storm of
 * new faults that blocked the event loop for about half of all its time. With
 * the copying elsewhere, the writer only appends to the log.
 *
 * The log starts over from its beginning when a write begins after a
 * checkpoint copied all of it, so the thread checkpoints right after a
 * commit (when the next one is furthest away) and again until it has caught
 * up. Starting over costs the writer an fsync of the log's header on the
 * event loop, and each checkpoint two more fsyncs on the disk the writer
 * appends to: with a checkpoint after every commit, 200 commits a second
 * made 529 fsyncs on the event loop in 8 s (368 ms) and 2,816 on the thread.
 * Commits closer together than `minIntervalMs` share one checkpoint, while
 * the log is short: once it holds `busyPages` (a storm of new faults writes
 * that many in a few commits) the thread checkpoints after every commit
 * again, or the log would reach `fallbackPages` between two checkpoints and
 * the writer would copy it itself, on the event loop. Should the thread fall
 * behind, the writer's own checkpoint at `fallbackPages` copies what is left
 * and the log stays bounded.
 *
 * In a storm the thread never quite catches up (each checkpoint copies the
 * log as it was when it began, and commits keep coming), so the log only
 * starts over after the writer's own checkpoint: a stall of 30–90 ms on the
 * event loop (the last frames, and an fsync of the database file). At 8,000
 * pages that came every second or so and set the storm's p99; at 32,000
 * (128 MiB of log) it comes a quarter as often. The log file keeps the size
 * it grew to when it starts over (truncating it at each start cost the storm
 * more than the stalls), so once the daemon has had no commit for
 * `truncateAfterIdleMs` and a checkpoint has copied the whole log, a log file
 * past `truncateBytes` is cut back to nothing. That holds the writer off only
 * while the file is cut (a writer then waits in SQLite's busy handler).
 *
 * Its connection also answers reads that count whole tables (the gauges of
 * /metrics, the console's counts): with 100,000 faults or a backlog of as many
 * operations, one such count held the event loop for 30–60 ms at every scrape.
 * A reader beside the writer sees the last commit (WAL), as the writer does.
 */
export interface SqliteCheckpointer {
  /** Asks for a checkpoint; called after each commit (a call during one asks for another; one starts at most every minIntervalMs). */
  nudge(): void;
  /** Runs a read-only statement on the thread; rejects with SideThreadUnavailable once the thread is gone. */
  read(sql: string, parameters: readonly unknown[]): Promise<unknown[]>;
  /** Checkpoints run, how many of them caught up with the log, how many truncated it, and whether the thread failed (for tests). */
  stats(): { runs: number; complete: number; truncated: number; failed: boolean };
  close(): Promise<void>;
}

export interface CheckpointerOptions {
  /** Log pages past which the writer checkpoints itself: the bound if the thread falls behind. */
  fallbackPages?: number;
  /** How often an idle daemon's other writes (not through transactions) are checkpointed. */
  intervalMs?: number;
  /** The least time from one checkpoint's start to the next: commits closer together share one. */
  minIntervalMs?: number;
  /** Log pages from which checkpoints run after every commit again, without the interval. */
  busyPages?: number;
  /** Bytes of log file past which an idle daemon truncates the file. */
  truncateBytes?: number;
  /** How long without a commit makes the daemon idle (rounded up to whole intervals). */
  truncateAfterIdleMs?: number;
}

/** The thread is gone (failed or closing): the caller reads on its own connection instead. */
export class SideThreadUnavailable extends Error {
  constructor() {
    super('the SQLite side thread is not running');
  }
}

/**
 * The worker: one connection that never waits for a lock (a busy checkpoint is simply tried again).
 * A read is a message with an id, answered with that id; only statements that return rows run.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 0');
const statements = new Map();
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  if (typeof message === 'object') {
    try {
      let statement = statements.get(message.sql);
      if (!statement) {
        statement = db.prepare(message.sql);
        if (!statement.reader) throw new Error('the side thread only reads');
        if (statements.size >= 100) statements.clear();
        statements.set(message.sql, statement);
      }
      parentPort.postMessage({ id: message.id, rows: statement.all(message.parameters) });
    } catch (err) {
      parentPort.postMessage({ id: message.id, error: String((err && err.message) || err) });
    }
    return;
  }
  try {
    // TRUNCATE waits for no one (busy_timeout 0): with a writer at work it reports busy and is tried later.
    const [r] = db.pragma(message === 'truncate' ? 'wal_checkpoint(TRUNCATE)' : 'wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ busy: r.busy, log: r.log, checkpointed: r.checkpointed });
  } catch (err) {
    parentPort.postMessage({ error: String((err && err.message) || err) });
  }
});
`;

function logFileBytes(file: string): number {
  return statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0;
}

interface CheckpointResult {
  /** Set on the answer to a read. */
  id?: number;
  rows?: unknown[];
  busy?: number;
  log?: number;
  checkpointed?: number;
  error?: string;
}

const DEFAULT_FALLBACK_PAGES = 32_000;
const DEFAULT_TRUNCATE_BYTES = 32 * 1024 * 1024;
const DEFAULT_TRUNCATE_AFTER_IDLE_MS = 10_000;
const DEFAULT_MIN_INTERVAL_MS = 250;
const DEFAULT_BUSY_PAGES = 2_000;
const RETRY_MAX = 20;

export function startSqliteCheckpointer(database: BetterSqlite3.Database, file: string, options: CheckpointerOptions = {}): SqliteCheckpointer {
  let running = false;
  let closing = false;
  let wanted = false;
  let retries = 0;
  let failed = false;
  let runs = 0;
  let complete = 0;
  let truncated = 0;
  let truncating = false;
  /** Commits since the interval timer last looked, and intervals in a row without one. */
  let commits = 0;
  let idleIntervals = 0;
  /** Whether the last checkpoint copied the whole log as it was when it began. */
  let caughtUpLast = false;
  let exited = false;
  let nextRead = 0;
  let lastStart = 0;
  let deferred: NodeJS.Timeout | undefined;
  const minInterval = options.minIntervalMs ?? DEFAULT_MIN_INTERVAL_MS;
  const busyPages = options.busyPages ?? DEFAULT_BUSY_PAGES;
  /** Pages in the log at the last checkpoint. */
  let logPages = 0;
  const reads = new Map<number, { resolve: (rows: unknown[]) => void; reject: (err: Error) => void }>();
  const dropReads = () => {
    for (const r of reads.values()) r.reject(new SideThreadUnavailable());
    reads.clear();
  };
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver: require.resolve('better-sqlite3'), file } });
  // The writer's own checkpoint takes over only past the fallback; SQLite's 1,000 pages until the thread runs.
  const fail = () => {
    if (failed) return;
    failed = true;
    database.pragma('wal_autocheckpoint = 1000');
  };
  const run = (kind: 'checkpoint' | 'truncate' = 'checkpoint') => {
    running = true;
    wanted = false;
    truncating = kind === 'truncate';
    lastStart = Date.now();
    worker.postMessage(kind);
  };
  worker.on('message', (r: CheckpointResult) => {
    if (r.id !== undefined) {
      const read = reads.get(r.id);
      reads.delete(r.id);
      if (r.error !== undefined) read?.reject(new Error(r.error));
      else read?.resolve(r.rows ?? []);
      // No read pending: nothing keeps the process alive for the thread.
      if (reads.size === 0 && !closing) worker.unref();
      return;
    }
    running = false;
    runs++;
    if (r.error) {
      fail();
      return;
    }
    if (truncating && r.busy === 0) truncated++;
    truncating = false;
    logPages = r.log ?? 0;
    const caughtUp = r.busy === 0 && r.log === r.checkpointed;
    caughtUpLast = caughtUp;
    if (caughtUp) complete++;
    // Not caught up: commits came during the copy, or another checkpoint held the lock. Again after the
    // interval, a bounded number of times.
    if (wanted || (!caughtUp && retries++ < RETRY_MAX)) schedule();
    else if (caughtUp) retries = 0;
  });
  worker.on('error', () => {
    fail();
    dropReads();
  });
  worker.on('exit', () => {
    running = false;
    exited = true;
    dropReads();
    if (!closing) fail();
  });
  worker.unref();
  database.pragma(`wal_autocheckpoint = ${options.fallbackPages ?? DEFAULT_FALLBACK_PAGES}`);
  const truncateBytes = options.truncateBytes ?? DEFAULT_TRUNCATE_BYTES;
  const intervalMs = options.intervalMs ?? 1_000;
  const idleIntervalsToTruncate = Math.max(1, Math.ceil((options.truncateAfterIdleMs ?? DEFAULT_TRUNCATE_AFTER_IDLE_MS) / intervalMs));
  const timer = setInterval(() => {
    idleIntervals = commits === 0 ? idleIntervals + 1 : 0;
    commits = 0;
    const idle = idleIntervals >= idleIntervalsToTruncate && caughtUpLast;
    if (idle && !running && !failed && !closing && logFileBytes(file) > truncateBytes) {
      run('truncate');
    } else {
      checkpointSoon();
    }
  }, intervalMs);
  timer.unref();
  /** After a commit: counts it (the idle check) and asks for a checkpoint. */
  function nudge(): void {
    commits++;
    checkpointSoon();
  }
  function checkpointSoon(): void {
    retries = 0;
    schedule();
  }
  /** Runs a checkpoint now, or once `minInterval` has passed since the last one began. */
  function schedule(): void {
    if (failed || closing) return;
    if (running) {
      wanted = true;
      return;
    }
    const wait = logPages >= busyPages ? 0 : lastStart + minInterval - Date.now();
    if (wait <= 0) {
      run();
    } else if (!deferred) {
      deferred = setTimeout(() => {
        deferred = undefined;
        schedule();
      }, wait);
      deferred.unref();
    }
  }
  return {
    nudge,
    read(sql, parameters) {
      if (failed || closing || exited) return Promise.reject(new SideThreadUnavailable());
      const id = nextRead++;
      // Referenced while a read is pending: its answer is awaited.
      worker.ref();
      return new Promise<unknown[]>((resolve, reject) => {
        reads.set(id, { resolve, reject });
        worker.postMessage({ id, sql, parameters });
      });
    },
    stats: () => ({ runs, complete, truncated, failed }),
    async close() {
      if (closing) return;
      closing = true;
      clearInterval(timer);
      clearTimeout(deferred);
      if (exited) return;
      // Referenced while it closes: with nothing else left to do, the process would otherwise end
      // before the store is closed (and before the daemon says it stopped).
      worker.ref();
      const ended = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      let giveUp: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (giveUp = setTimeout(resolve, 2_000)));
      if (!failed) worker.postMessage('close');
      await Promise.race([ended, timeout]);
      clearTimeout(giveUp);
      await worker.terminate();
    },
  };
}
