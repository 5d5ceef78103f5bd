// New faults: a stream where every alert is a new label set (an outage across many hosts), 10
// alerts a payload, 16 connections, side by side with a real Alertmanager taking the same stream
// through POST /api/v2/alerts. faultdesk opens a fault, stores its alert and queues its local
// ticket for each alert, durably, before it answers. Reports the accepted rate overall and per
// 10-second window (it must not decay), the latency, how long the local tickets take to catch up
// once the stream stops, and the store's size per fault.
// Usage: npm run build && node bench/new-faults.mjs [--seconds 60] [--connections 16] [--baseline DIR]
//        [--only faultdesk,alertmanager] [--no-catch-up]
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { startDaemon, outboxDepth } from './lib/daemon.mjs';
import { cpuSeconds } from './lib/processes.mjs';
import { startAlertmanager } from './lib/alertmanager.mjs';
import { alertmanagerBody, webhookBody } from './lib/payloads.mjs';
import { round } from './lib/stats.mjs';

const PER_PAYLOAD = 10;
const WINDOW_SECONDS = 10;

/** Alert n of an endless stream of new label sets (each one a new fault with the shipped rules). */
function newAlert(n) {
  const labels = { alertname: 'TargetDown', job: 'outage', instance: `node-${n}:9100`, severity: 'critical' };
  return {
    labels,
    annotations: { summary: `node-${n} is down`, description: `The node exporter on node-${n} has not answered for 5 minutes.` },
    startsAt: '2026-11-24T16:25:24.046Z',
    generatorURL: 'http://127.0.0.1:9090/graph?g0.expr=up+%3D%3D+0',
    // Like Alertmanager's: 16 hex digits of a hash of the labels, so in no order (an index by it grows at random places).
    fingerprint: createHash('sha256').update(JSON.stringify(labels)).digest('hex').slice(0, 16),
  };
}

/** Runs the stream against `url` for `seconds`; counts the answers of each window. */
async function stream({ url, format, seconds, connections, offset }) {
  let next = offset;
  const started = Date.now();
  const windows = [];
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest: (req) => {
          const alerts = [];
          for (let i = 0; i < PER_PAYLOAD; i++) alerts.push(newAlert(next++));
          return { ...req, body: format === 'webhook' ? webhookBody(alerts) : alertmanagerBody(alerts) };
        },
        onResponse: (status) => {
          if (status < 200 || status >= 300) return;
          const w = Math.floor((Date.now() - started) / 1000 / WINDOW_SECONDS);
          windows[w] = (windows[w] ?? 0) + PER_PAYLOAD;
        },
      },
    ],
  });
  if (result.non2xx) throw new Error(`${url}: ${result.non2xx} non-2xx answers`);
  // A request unanswered in 10 s (autocannon's timeout) is counted and reported, not fatal: a build that stalls is a result.
  const full = windows.slice(0, Math.floor(seconds / WINDOW_SECONDS));
  return {
    alertsPerSecond: Math.round((result.requests.total * PER_PAYLOAD) / result.duration),
    windows: full.map((n) => Math.round(n / WINDOW_SECONDS)),
    latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
    alerts: result.requests.total * PER_PAYLOAD,
    timeouts: result.timeouts,
    errors: result.errors,
    next,
  };
}

/** How long the outbox takes to deliver everything once the stream stops. */
async function catchUp(base, timeoutMs = 600_000) {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if ((await outboxDepth(base)) === 0) return round((Date.now() - started) / 1000, 1);
    // Not more often: the depth is a count over the whole backlog (about 0.2 s with 400,000 waiting).
    await new Promise((r) => setTimeout(r, 1_000));
  }
  return null;
}

export async function benchNewFaults({ seconds = 60, connections = 16, baseline, only, catchUpAfter = true, log = console.error } = {}) {
  const results = [];
  const targets = [
    { name: 'faultdesk', start: () => startDaemon({ port: 19595 }) },
    ...(baseline ? [{ name: 'faultdesk (baseline)', start: () => startDaemon({ port: 19596, root: baseline }) }] : []),
    { name: 'alertmanager', start: () => startAlertmanager({ port: 19593 }) },
  ].filter((t) => !only || only.includes(t.name.split(' ')[0]));
  for (const target of targets) {
    const proc = await target.start();
    try {
      const isFaultdesk = target.name.startsWith('faultdesk');
      const url = isFaultdesk ? `${proc.base}/api/v1/alerts/alertmanager` : `${proc.base}/api/v2/alerts`;
      // A short warm-up on other label sets, so JIT and caches are warm; then the measured stream.
      const warm = await stream({ url, format: isFaultdesk ? 'webhook' : 'api', seconds: 3, connections, offset: 50_000_000 });
      if (isFaultdesk) await catchUp(proc.base);
      const cpuBefore = cpuSeconds(proc.pid);
      const r = await stream({ url, format: isFaultdesk ? 'webhook' : 'api', seconds, connections, offset: 0 });
      // CPU time per alert: what the rate costs, less sensitive than the rate to a busy machine.
      const cpuMicrosPerAlert = Math.round(((cpuSeconds(proc.pid) - cpuBefore) * 1e6) / r.alerts);
      const entry = { target: target.name, ...r, cpuMicrosPerAlert, warmUpAlerts: warm.alerts };
      if (isFaultdesk) {
        if (catchUpAfter) entry.catchUpSeconds = await catchUp(proc.base);
        const db = path.join(proc.dir, 'bench.db');
        const bytes = statSync(db).size + (statSync(`${db}-wal`, { throwIfNoEntry: false })?.size ?? 0);
        entry.storeBytes = bytes;
        entry.bytesPerFault = Math.round(bytes / (r.alerts + warm.alerts));
      }
      delete entry.next;
      results.push(entry);
      log(`new faults: ${target.name} ${r.alertsPerSecond} alerts/s (windows ${r.windows.join(', ')}), p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, ${cpuMicrosPerAlert} µs CPU an alert` +
        (r.timeouts || r.errors ? `, ${r.timeouts} requests timed out (10 s), ${r.errors} errors` : '') +
        (entry.catchUpSeconds !== undefined ? `, tickets caught up in ${entry.catchUpSeconds} s, ${entry.bytesPerFault} bytes a fault` : ''));
    } finally {
      await proc.stop();
    }
  }
  const am = results.find((r) => r.target === 'alertmanager');
  for (const r of results) if (am && r !== am) r.ratio = round(r.alertsPerSecond / am.alertsPerSecond, 2);
  return { seconds, connections, alertsPerPayload: PER_PAYLOAD, results };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '60' },
      connections: { type: 'string', default: '16' },
      baseline: { type: 'string' },
      // Comma-separated: faultdesk, alertmanager; a profile needs no Alertmanager, a quick look no catch-up.
      only: { type: 'string' },
      'no-catch-up': { type: 'boolean', default: false },
    },
  });
  console.log(JSON.stringify(await benchNewFaults({
    seconds: Number(values.seconds),
    connections: Number(values.connections),
    baseline: values.baseline,
    only: values.only?.split(','),
    catchUpAfter: !values['no-catch-up'],
  }), null, 2));
}
