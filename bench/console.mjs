// The console with 10,000 open faults: how long each page takes the daemon to answer (target: under
// 200 ms). Seeds a real daemon (dist/cli.js, SQLite, shipped rules, local tickets) with open faults
// of several categories and severities, a share of them acknowledged, lets the outbox create their
// local tickets, then times sequential GETs of every console page over loopback.
// Usage: npm run build && node bench/console.mjs [--faults 10000] [--runs 50] [--port 19190]
import { parseArgs } from 'node:util';
import { startDaemon, waitOutboxEmpty } from './lib/daemon.mjs';
import { webhookBody } from './lib/payloads.mjs';
import { median, quantile, round } from './lib/stats.mjs';

const { values } = parseArgs({
  options: { faults: { type: 'string', default: '10000' }, runs: { type: 'string', default: '50' }, port: { type: 'string', default: '19190' } },
});
const FAULTS = Number(values.faults);
const RUNS = Number(values.runs);
const TARGET_MS = 200;

// Alert names of the shipped rules, so the faults spread over categories and severities.
const KINDS = [
  { alertname: 'TargetDown', severity: 'critical' },
  { alertname: 'NodeFilesystemAlmostOutOfSpace', severity: 'warning', mountpoint: '/var' },
  { alertname: 'NodeMemoryHighUtilization', severity: 'warning' },
  { alertname: 'NodeCPUHighUsage', severity: 'info' },
  { alertname: 'SomethingNew', severity: 'error' },
];

function alert(n) {
  const kind = KINDS[n % KINDS.length];
  return {
    labels: { ...kind, job: 'console-bench', instance: `host-${n}:9100` },
    annotations: { summary: `host-${n}: ${kind.alertname}`, description: `Seeded by bench/console.mjs (${n}).` },
    startsAt: new Date(Date.now() - n * 1000).toISOString(),
    generatorURL: 'http://127.0.0.1:9090/graph?g0.expr=up+%3D%3D+0',
    fingerprint: (0x20000000 + n).toString(16),
  };
}

async function seed(base) {
  const per = 200;
  for (let first = 0; first < FAULTS; first += per) {
    const alerts = [];
    for (let n = first; n < Math.min(FAULTS, first + per); n++) alerts.push(alert(n));
    const res = await fetch(`${base}/api/v1/alerts/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: webhookBody(alerts) });
    if (!res.ok) throw new Error(`seeding: ${res.status} ${await res.text()}`);
  }
  // A tenth acknowledged, so the acknowledged filter has both kinds.
  const { faults } = await (await fetch(`${base}/api/v1/faults?limit=1000`)).json();
  for (const f of faults) {
    await fetch(`${base}/api/v1/faults/${f.id}/ack`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"by":"bench"}' });
  }
  return faults[0].id;
}

async function time(url, init) {
  const started = process.hrtime.bigint();
  const res = await fetch(url, init);
  const body = await res.text();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (!res.ok) throw new Error(`${url}: ${res.status} ${body.slice(0, 200)}`);
  return { ms, bytes: body.length };
}

async function measure(name, url, init) {
  for (let i = 0; i < 5; i++) await time(url, init);
  const samples = [];
  let bytes = 0;
  for (let i = 0; i < RUNS; i++) {
    const t = await time(url, init);
    samples.push(t.ms);
    bytes = t.bytes;
  }
  const sorted = [...samples].sort((a, b) => a - b);
  return { page: name, medianMs: round(median(samples), 1), p95Ms: round(quantile(sorted, 0.95), 1), maxMs: round(sorted[sorted.length - 1], 1), kB: round(bytes / 1024, 1) };
}

const daemon = await startDaemon({ port: Number(values.port) });
try {
  const seeded = Date.now();
  const faultId = await seed(daemon.base);
  await waitOutboxEmpty(daemon.base, 600_000);
  console.error(`seeded ${FAULTS} open faults with their local tickets in ${round((Date.now() - seeded) / 1000, 1)} s`);
  const { tickets } = await (await fetch(`${daemon.base}/api/v1/tickets?limit=1`)).json();
  const playground = new URLSearchParams({ payload: webhookBody([alert(1)]), source: '' });
  // The open console's anonymous session and CSRF token, for the playground's POST.
  const home = await fetch(`${daemon.base}/`);
  const cookie = (home.headers.get('set-cookie') ?? '').split(';')[0];
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await (await fetch(`${daemon.base}/playground`, { headers: { cookie } })).text())?.[1] ?? '';
  playground.set('_csrf', csrf);

  const pages = [
    ['faults: live, page 1', '/'],
    ['faults: live, partial (polled)', '/?partial=1'],
    ['faults: page 150 of 200', '/?page=150'],
    ['faults: all states', '/?state=all'],
    ['faults: category + not acknowledged', '/?category=node-memory&acknowledged=no'],
    ['faults: acknowledged', '/?acknowledged=yes'],
    ['fault page', `/faults/${faultId}`],
    ['tickets', '/tickets'],
    ['ticket page', `/tickets/${tickets[0].id}`],
    ['outbox', '/outbox'],
    ['playground (GET)', '/playground'],
    ['estimates', '/estimates'],
  ];
  const rows = [];
  for (const [name, path] of pages) rows.push(await measure(name, `${daemon.base}${path}`, { headers: { cookie } }));
  rows.push(
    await measure('playground (POST, dry run)', `${daemon.base}/playground`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: playground.toString(),
    }),
  );
  console.log(`\nConsole pages with ${FAULTS} open faults (${RUNS} sequential requests each, loopback, SQLite):\n`);
  console.log('| page | median ms | p95 ms | max ms | size kB |');
  console.log('|---|---:|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.page} | ${r.medianMs} | ${r.p95Ms} | ${r.maxMs} | ${r.kB} |`);
  const worst = Math.max(...rows.map((r) => r.maxMs));
  console.log(`\nslowest single answer: ${worst} ms (target < ${TARGET_MS} ms): ${worst < TARGET_MS ? 'met' : 'MISSED'}`);
  process.exitCode = worst < TARGET_MS ? 0 : 1;
} finally {
  await daemon.stop();
}
