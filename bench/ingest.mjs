// Ingest throughput: alerts/s durably accepted through the Alertmanager webhook
// of a real daemon process (dist/, SQLite file, default config) on loopback.
// Usage: npm run build && node bench/ingest.mjs [--payloads 2000] [--alerts 10] [--concurrency 16] [--keys 5000]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    payloads: { type: 'string', default: '2000' },
    alerts: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '16' },
    keys: { type: 'string', default: '5000' },
    port: { type: 'string', default: '19595' },
  },
});
const payloads = Number(values.payloads);
const perPayload = Number(values.alerts);
const concurrency = Number(values.concurrency);
const keys = Number(values.keys);
const port = Number(values.port);

const dir = mkdtempSync(path.join(tmpdir(), 'faultdesk-bench-'));
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const child = spawn(process.execPath, [...(process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(' ') : []), path.join(root, 'dist/cli.js'), 'run', '--config', path.join(root, 'config/faultdesk.yaml')], {
  cwd: root,
  env: {
    ...process.env,
    FAULTDESK_LISTEN: `127.0.0.1:${port}`,
    FAULTDESK_STORE_URL: `sqlite:${path.join(dir, 'bench.db')}`,
    FAULTDESK_LOG_LEVEL: 'warn',
  },
  stdio: ['ignore', 'inherit', 'inherit'],
});

const base = `http://127.0.0.1:${port}`;
async function waitReady() {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${base}/-/ready`)).ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('daemon did not become ready');
}

function payload(n) {
  const alerts = [];
  for (let i = 0; i < perPayload; i++) {
    const k = (n * perPayload + i) % keys;
    alerts.push({
      status: 'firing',
      labels: { alertname: 'TargetDown', job: 'bench', instance: `host-${k}:9100`, severity: 'critical' },
      annotations: { summary: `host-${k} is down` },
      startsAt: '2026-11-24T16:25:24.046Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://127.0.0.1:9090/graph',
      fingerprint: k.toString(16).padStart(16, '0'),
    });
  }
  return JSON.stringify({
    receiver: 'faultdesk', status: 'firing', alerts, groupLabels: {}, commonLabels: {}, commonAnnotations: {},
    externalURL: 'http://127.0.0.1:9093', version: '4', groupKey: '{}:{}', truncatedAlerts: 0,
  });
}

try {
  await waitReady();
  const bodies = Array.from({ length: payloads }, (_, i) => payload(i));
  let next = 0;
  let failed = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++];
        const res = await fetch(`${base}/api/v1/alerts/alertmanager`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
        await res.arrayBuffer();
        if (res.status !== 200) failed++;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const alerts = payloads * perPayload;
  console.log(JSON.stringify({
    machine: `${cpus().length} x ${cpus()[0]?.model}`, node: process.version,
    payloads, alertsPerPayload: perPayload, concurrency, faultKeys: keys, sqliteSynchronous: 'normal (config/faultdesk.yaml)',
    seconds: Number(seconds.toFixed(3)), alertsPerSecond: Math.round(alerts / seconds), failedRequests: failed,
  }));
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
