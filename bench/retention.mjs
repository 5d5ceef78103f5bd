// Retention: webhook latency while the retention purge deletes a backlog of resolved faults, side
// by side with the same daemon on the same store that keeps everything (retention: 0).
// The store is seeded once by the daemon itself: the latency streams' 10,000 faults open with
// their local tickets, and --faults more opened and resolved with theirs (outbox delivered); then,
// stopped, those are aged by a year (their times rewritten in the file). Every measured window
// runs a fresh daemon on a copy of that file: warmed up, then its config reloaded (retention 30d
// for the purge, still 0 for the control; jobs.retention runs every second in both) and one stream
// of bench/latency.mjs sent at the fixed rate. /metrics before and after each window say what the
// purge deleted in it and the store's size; after a purge window the daemon, now idle, is watched
// until the purge is done. Control and purge windows alternate, each run in the other order.
// Usage: npm run build && node bench/retention.mjs [--faults 20000] [--runs 3] [--seconds 10] [--rate 2000]
//   [--seed FILE] (keeps the seed in FILE, or reuses FILE when it exists: made with the same --faults)
//   [--root DIR] (the measured daemons run DIR's build, e.g. a checkout with a change to the purge)
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { startDaemon, waitOutboxEmpty } from './lib/daemon.mjs';
import { bodies } from './lib/payloads.mjs';
import { postLoad } from './lib/load.mjs';
import { median, round } from './lib/stats.mjs';
import { KEYS, PER_PAYLOAD, changingBodies } from './latency.mjs';

const PORT = 19598;
const DAY_MS = 86_400_000;
/** How far back the seeded faults are moved, and the retention that then deletes them (and nothing else). */
const AGE_DAYS = 365;
const RETENTION = '30d';
/** The seeded faults' keys, far from the latency streams' (0 to 2 × KEYS). */
const SEED_FIRST = 1_000_000;
const SEED_PER_PAYLOAD = 100;
const MiB = 2 ** 20;

/** A metric from a /metrics text, summed over the series that carry every one of `labels` (`kind="faults"`). */
export function metricValue(text, name, labels = []) {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!labels.every((l) => line.includes(l))) continue;
    sum += Number(line.split(' ').pop());
  }
  return sum;
}

async function scrape(base) {
  const text = await (await fetch(`${base}/metrics`, { headers: { connection: 'close' } })).text();
  return {
    deletedFaults: metricValue(text, 'faultdesk_retention_deleted_total', ['kind="faults"']),
    storeBytes: metricValue(text, 'faultdesk_store_size_bytes'),
    // Runs of the job that ended, and their time (it ticks every second; with nothing to delete a run takes a millisecond).
    retentionRuns: metricValue(text, 'faultdesk_job_duration_seconds_count', ['name="retention"', 'result="ok"']),
    retentionSeconds: metricValue(text, 'faultdesk_job_duration_seconds_sum', ['name="retention"', 'result="ok"']),
    // The longest the event loop was held since the last scrape (prom-client resets it at each scrape).
    eventLoopMaxMs: round(metricValue(text, 'faultdesk_nodejs_eventloop_lag_max_seconds') * 1000),
  };
}

/**
 * The seed: a SQLite file made by the daemon, holding the latency streams' faults (open, tickets
 * created) and `faults` resolved ones (tickets created and resolved), the latter aged by a year.
 */
async function seed({ file, faults, log }) {
  const started = Date.now();
  const daemon = await startDaemon({ port: PORT, storeUrl: `sqlite:${file}` });
  try {
    const url = `${daemon.base}/api/v1/alerts/alertmanager`;
    const send = (list) => postLoad({ url, bodies: list, connections: 4, amount: list.length });
    await send(bodies(KEYS / PER_PAYLOAD, PER_PAYLOAD, KEYS, 'webhook'));
    await send(bodies(KEYS / PER_PAYLOAD, PER_PAYLOAD, KEYS, 'webhook', KEYS));
    const count = Math.ceil(faults / SEED_PER_PAYLOAD);
    await send(bodies(count, SEED_PER_PAYLOAD, faults, 'webhook', SEED_FIRST));
    await waitOutboxEmpty(daemon.base, 600_000);
    await send(bodies(count, SEED_PER_PAYLOAD, faults, 'webhook', SEED_FIRST, 'resolved'));
    await waitOutboxEmpty(daemon.base, 600_000);
  } finally {
    await daemon.stop();
  }
  const db = new Database(file);
  try {
    // Only the resolve time decides what retention deletes (src/store/sql/retention.ts); the fault's
    // other times move with it so the record stays consistent.
    const shift = AGE_DAYS * DAY_MS;
    const aged = db
      .prepare(
        `update faults set resolved_at = resolved_at - @shift, opened_at = opened_at - @shift, due_at = due_at - @shift,
         updated_at = updated_at - @shift, last_change_at = last_change_at - @shift,
         last_update_at = case when last_update_at is null then null else last_update_at - @shift end
         where state = 'resolved'`,
      )
      .run({ shift }).changes;
    const byState = db.prepare('select state, count(*) as n from faults group by state').all();
    const waiting = db.prepare("select count(*) as n from outbox where state != 'done'").get().n;
    db.pragma('wal_checkpoint(TRUNCATE)');
    log(`retention: seeded ${aged} resolved faults aged ${AGE_DAYS} days (${byState.map((s) => `${s.n} ${s.state}`).join(', ')}; outbox waiting ${waiting}) in ${round((Date.now() - started) / 1000)} s`);
    if (aged !== faults) throw new Error(`seeded ${aged} resolved faults, not ${faults}`);
    return { faults: aged, byState, seconds: round((Date.now() - started) / 1000) };
  } finally {
    db.close();
  }
}

/** Config of a measured daemon: the purge job ticks every second; `retention` decides whether it has work. */
const configOf = (retention) => `retention: ${JSON.stringify(retention)}\njobs:\n  retention: "* * * * * *"\n`;

/** One measured window: a fresh daemon on a copy of the seed, warmed up, reloaded with `mode`'s retention, one stream. */
async function window({ seedFile, mode, stream, seconds, rate, faults, root }) {
  const dir = mkdtempSync(path.join(tmpdir(), 'faultdesk-retention-'));
  const file = path.join(dir, 'store.db');
  copyFileSync(seedFile, file);
  const daemon = await startDaemon({ port: PORT, storeUrl: `sqlite:${file}`, extraConfig: configOf(0), ...(root ? { root } : {}) });
  try {
    const url = `${daemon.base}/api/v1/alerts/alertmanager`;
    const requestsPerSecond = rate / PER_PAYLOAD;
    // Warm: every repeat once (they are then answered from memory), then a few seconds of the stream's kind.
    const repeats = bodies(KEYS / PER_PAYLOAD, PER_PAYLOAD, KEYS, 'webhook');
    await postLoad({ url, bodies: repeats, connections: 16, amount: repeats.length });
    const measured = stream === 'repeats' ? repeats : changingBodies(requestsPerSecond * seconds * 2);
    const warm = stream === 'repeats' ? repeats : changingBodies(requestsPerSecond * 3, 1_000_000);
    // (Changes queue ticket updates; the outbox delivers them as it would in the window, in both modes.)
    await postLoad({ url, bodies: warm, connections: 10, seconds: 3, rate: requestsPerSecond });
    writeFileSync(daemon.configFile, readFileSync(daemon.configFile, 'utf8').replace(configOf(0), configOf(mode === 'purge' ? RETENTION : 0)));
    // A third of a second past a whole second (a busy daemon runs a tick late): the job's next tick,
    // the purge's start, is then after the window's.
    await new Promise((res) => setTimeout(res, 1300 - (Date.now() % 1000)));
    const before = await scrape(daemon.base);
    await daemon.reload();
    // Reading the rules again holds the event loop for a moment: done before the window, and that hold
    // (prom-client resets the event loop's maximum at each scrape) left out of it.
    const reloaded = await scrape(daemon.base);
    const started = Date.now();
    if (reloaded.deletedFaults > before.deletedFaults || started % 1000 > 900) {
      throw Object.assign(new Error(`${mode} ${stream}: the purge may have started before the window (${started % 1000} ms into the second)`), { retry: true });
    }
    const r = await postLoad({ url, bodies: measured, connections: 10, seconds, rate: requestsPerSecond });
    const after = await scrape(daemon.base);
    if (r.non2xx || r.errors) throw new Error(`${mode} ${stream}: ${r.non2xx} non-2xx answers and ${r.errors} errors`);
    const entry = {
      mode,
      stream,
      ...r.latencyMs,
      alertsPerSecond: Math.round(r.requestsPerSecond * PER_PAYLOAD),
      eventLoopMaxMs: after.eventLoopMaxMs,
      deletedInWindow: after.deletedFaults - before.deletedFaults,
      storeMiBBefore: round(before.storeBytes / MiB, 1),
      storeMiBAfterWindow: round(after.storeBytes / MiB, 1),
    };
    if (mode === 'purge') {
      // The purge is one run of the job, ended once every aged fault is gone and a later run has ended too.
      const done = (m) => m.deletedFaults - before.deletedFaults >= faults && m.retentionRuns >= before.retentionRuns + 2;
      entry.purgeDoneInWindow = done(after);
      let last = after;
      while (!done(last) && Date.now() - started < 300_000) {
        await new Promise((res) => setTimeout(res, 250));
        last = await scrape(daemon.base);
      }
      // Its duration, with the compaction: the job's time since the reload (the runs with nothing to do add milliseconds).
      entry.purgeSeconds = done(last) ? round(last.retentionSeconds - before.retentionSeconds, 2) : null;
      entry.storeMiBAfterPurge = round(last.storeBytes / MiB, 1);
    }
    return entry;
  } finally {
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `seedFile`: keep the seed there, or take it from there when it exists (the same --faults).
 * `root`: the measured daemons run another checkout's build (the seed is made by this one's).
 */
export async function benchRetention({ faults = 20_000, runs = 3, seconds = 10, rate = 2000, seedFile: kept, root, log = console.error } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'faultdesk-retention-seed-'));
  const seedFile = kept ?? path.join(dir, 'seed.db');
  const windows = [];
  try {
    const seeded = kept && existsSync(kept) ? { faults, reused: kept } : await seed({ file: seedFile, faults, log });
    for (let run = 0; run < runs; run++) {
      for (const stream of ['repeats', 'changes']) {
        // Alternating which goes first, so that a drift of the machine does not favour one.
        for (const mode of run % 2 === 0 ? ['control', 'purge'] : ['purge', 'control']) {
          let w;
          for (let attempt = 1; !w; attempt++) {
            try {
              w = await window({ seedFile, mode, stream, seconds, rate, faults, root });
            } catch (err) {
              if (!err.retry || attempt >= 3) throw err;
              log(`retention: ${err.message}; again`);
            }
          }
          windows.push({ run: run + 1, ...w });
          log(
            `retention ${stream}, ${mode}, run ${run + 1}: p50 ${w.p50} ms, p99 ${w.p99} ms, max ${w.max} ms at ${w.alertsPerSecond} alerts/s, event loop held up to ${w.eventLoopMaxMs} ms; ` +
              `deleted ${w.deletedInWindow} faults in the window, store ${w.storeMiBBefore} → ${w.storeMiBAfterWindow} MiB` +
              (mode === 'purge' ? `; the purge took ${w.purgeSeconds} s (${w.purgeDoneInWindow ? 'within' : 'beyond'} the window), store then ${w.storeMiBAfterPurge} MiB` : ''),
          );
        }
      }
    }
    const results = [];
    for (const stream of ['repeats', 'changes']) {
      for (const mode of ['control', 'purge']) {
        const ws = windows.filter((w) => w.stream === stream && w.mode === mode);
        const m = (k) => median(ws.map((w) => w[k]));
        results.push({
          stream,
          mode,
          alertsPerSecond: m('alertsPerSecond'),
          p50Ms: m('p50'),
          p90Ms: m('p90'),
          p99Ms: m('p99'),
          maxMs: m('max'),
          eventLoopMaxMs: m('eventLoopMaxMs'),
          deletedInWindow: m('deletedInWindow'),
          ...(mode === 'purge'
            ? {
                // Null when a purge did not end within 5 minutes of its window's start.
                purgeSeconds: ws.some((w) => w.purgeSeconds === null) ? null : round(m('purgeSeconds'), 2),
                purgesDoneInWindow: ws.filter((w) => w.purgeDoneInWindow).length,
              }
            : {}),
        });
      }
      const [control, purge] = results.slice(-2);
      purge.p99Ratio = round(purge.p99Ms / control.p99Ms, 2);
      // Side by side within each run, then the median of those.
      const pairs = [];
      for (let run = 1; run <= runs; run++) {
        const c = windows.find((w) => w.run === run && w.stream === stream && w.mode === 'control');
        const p = windows.find((w) => w.run === run && w.stream === stream && w.mode === 'purge');
        pairs.push(p.p99 / c.p99);
      }
      purge.p99RatioPerRun = pairs.map((x) => round(x, 2));
    }
    const purges = windows.filter((w) => w.mode === 'purge');
    return {
      faults,
      openFaults: 2 * KEYS,
      seeded,
      rate,
      alertsPerPayload: PER_PAYLOAD,
      seconds,
      runs,
      retention: RETENTION,
      agedDays: AGE_DAYS,
      storeMiB: {
        before: round(median(purges.map((w) => w.storeMiBBefore)), 1),
        afterWindow: round(median(purges.map((w) => w.storeMiBAfterWindow)), 1),
        afterPurge: round(median(purges.map((w) => w.storeMiBAfterPurge)), 1),
        afterWindowControl: round(median(windows.filter((w) => w.mode === 'control').map((w) => w.storeMiBAfterWindow)), 1),
      },
      resolutionMs: 1,
      results,
      windows,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      faults: { type: 'string', default: '20000' },
      runs: { type: 'string', default: '3' },
      seconds: { type: 'string', default: '10' },
      rate: { type: 'string', default: '2000' },
      seed: { type: 'string' },
      root: { type: 'string' },
    },
  });
  const result = await benchRetention({
    faults: Number(values.faults),
    runs: Number(values.runs),
    seconds: Number(values.seconds),
    rate: Number(values.rate),
    ...(values.seed ? { seedFile: path.resolve(values.seed) } : {}),
    ...(values.root ? { root: path.resolve(values.root) } : {}),
  });
  console.log(JSON.stringify(result, null, 2));
}
