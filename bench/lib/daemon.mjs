// A real faultdesk daemon (dist/cli.js) on a fresh SQLite file in a temporary folder, or a fresh
// PostgreSQL schema or MariaDB database (`store`).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { start, whenReady } from './processes.mjs';
import { freshStore } from './stores.mjs';

export const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

/**
 * The node flags `npm start` gives the daemon (package.json), which the image's ENTRYPOINT repeats
 * (test/deploy.test.ts): a benchmark measures the daemon as it ships. A baseline checkout runs with its own.
 */
export function shippedNodeFlags(from = root) {
  const words = (JSON.parse(readFileSync(path.join(from, 'package.json'), 'utf8')).scripts?.start ?? '').split(/\s+/);
  const cli = words.indexOf('dist/cli.js');
  return words[0] === 'node' && cli > 0 ? words.slice(1, cli) : [];
}

/**
 * Starts the daemon with the shipped rules and config/faultdesk.yaml, plus `extraConfig`
 * (YAML text appended to a copy of it; later keys win), and the node flags it ships with. BENCH_NODE_ARGS adds
 * node flags after them (profiling; a flag given again wins).
 * `root` runs another checkout's build (a baseline measured side by side). `store`: sqlite, postgres or mariadb.
 * `storeUrl` runs it on an existing store instead (e.g. `sqlite:/path/file.db`), which stop() leaves in place.
 * The config file is `configFile`: rewrite it and reload() to change what a reload applies.
 */
export async function startDaemon({ port, extraConfig = '', env = {}, root: from = root, store = 'sqlite', storeUrl }) {
  const dir = mkdtempSync(path.join(tmpdir(), 'faultdesk-bench-'));
  const db = storeUrl ? { url: storeUrl, drop: async () => undefined } : await freshStore(store);
  const configFile = path.join(dir, 'faultdesk.yaml');
  writeFileSync(configFile, `rules: ${JSON.stringify(path.join(from, 'rules'))}\n${extraConfig}\n`);
  const nodeArgs = process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(' ') : [];
  const proc = start(process.execPath, [...shippedNodeFlags(from), ...nodeArgs, path.join(from, 'dist/cli.js'), 'run', '--config', configFile], {
    cwd: dir,
    env: {
      ...process.env,
      FAULTDESK_LISTEN: `127.0.0.1:${port}`,
      FAULTDESK_STORE_URL: db.url ?? `sqlite:${path.join(dir, 'bench.db')}`,
      FAULTDESK_LOG_LEVEL: 'warn',
      ...env,
    },
    output: 'inherit',
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    await whenReady(proc, `${base}/-/ready`, 'faultdesk (its error is above)');
  } catch (err) {
    await db.drop();
    throw err;
  }
  return {
    base,
    pid: proc.pid,
    dir,
    configFile,
    /** Reads the config file again (POST /-/reload); throws when the daemon refuses it. */
    async reload() {
      const res = await fetch(`${base}/-/reload`, { method: 'POST', headers: { connection: 'close' } });
      if (!res.ok) throw new Error(`reload: ${res.status} ${await res.text()}`);
      return res.json();
    },
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
      await db.drop();
    },
  };
}

/** Undelivered outbox operations over every system, from /metrics. */
export async function outboxDepth(base) {
  // A new connection each time: a kept-alive one the daemon closes as it is reused answers ECONNRESET.
  const text = await (await fetch(`${base}/metrics`, { headers: { connection: 'close' } })).text();
  let depth = 0;
  for (const line of text.split('\n')) if (line.startsWith('faultdesk_outbox_depth{')) depth += Number(line.split(' ').pop());
  return depth;
}

/** Waits until the outbox has delivered everything (tickets created), up to `timeoutMs`. */
export async function waitOutboxEmpty(base, timeoutMs = 120_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if ((await outboxDepth(base)) === 0) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the outbox did not empty within ${timeoutMs / 1000} s`);
}
