// Regenerates the console screenshots the README shows (docs/console-faults.png, docs/console-fault.png):
// a real daemon (dist/, shipped rules, local tickets) with a few faults, photographed in Debian's
// headless chromium through playwright-core. Usage: npm run screenshots
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { root, startDaemon, waitOutboxEmpty } from '../bench/lib/daemon.mjs';
import { webhookBody } from '../bench/lib/payloads.mjs';

const CHROMIUM = process.env.FAULTDESK_CHROMIUM ?? '/usr/bin/chromium';
const MIN = 60_000;

const alerts = [
  ['TargetDown', { job: 'api', instance: '10.0.0.1:9100', severity: 'critical' }, 'Target 10.0.0.1:9100 of job api is down', 50],
  ['NodeFilesystemAlmostOutOfSpace', { instance: 'db1:9100', mountpoint: '/var', severity: 'critical' }, '/var has 3% left', 140],
  ['NodeMemoryHighUtilization', { instance: 'cache2:9100', severity: 'warning' }, 'Memory at 93% on cache2', 20],
  ['TargetDown', { job: 'checkout', instance: '10.0.3.7:8080', severity: 'warning' }, 'Target 10.0.3.7:8080 of job checkout is down', 8],
  ['NodeCPUHighUsage', { instance: 'batch4:9100', severity: 'info' }, 'CPU busy on batch4', 200],
  ['KubePodCrashLooping', { namespace: 'payments', pod: 'ledger-7d9f', severity: 'warning' }, 'Pod payments/ledger-7d9f is crash looping', 35],
  ['SomethingNew', { team: 'search', severity: 'error' }, 'An alert no rule knows yet', 3],
].map(([alertname, labels, summary, minutesAgo], i) => ({
  labels: { alertname, ...labels },
  annotations: { summary, description: `${summary}.`, runbook_url: `https://runbooks.example.com/${alertname}` },
  startsAt: new Date(Date.now() - minutesAgo * MIN).toISOString(),
  generatorURL: 'http://prometheus.example.com:9090/graph?g0.expr=up+%3D%3D+0',
  fingerprint: (0x30000000 + i).toString(16),
}));

const daemon = await startDaemon({ port: 19191 });
const profile = mkdtempSync(path.join(tmpdir(), 'faultdesk-chromium-'));
let context;
try {
  const post = (url, body) => fetch(`${daemon.base}${url}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  await post('/api/v1/alerts/alertmanager', webhookBody(alerts));
  await waitOutboxEmpty(daemon.base);
  const { faults } = await (await fetch(`${daemon.base}/api/v1/faults`)).json();
  const byKey = (text) => faults.find((f) => f.key.includes(text));
  await post(`/api/v1/faults/${byKey('db1').id}/ack`, JSON.stringify({ by: 'Ada', text: 'cleaning up old WAL segments' }));
  await post(`/api/v1/faults/${byKey('db1').id}/comment`, JSON.stringify({ by: 'Ada', text: 'freed 40 GB, watching the trend' }));
  await post(`/api/v1/faults/${byKey('ledger').id}/ack`, JSON.stringify({ by: 'Grace' }));
  await waitOutboxEmpty(daemon.base);

  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 720 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await context.newPage();
  await page.goto(`${daemon.base}/`);
  await page.screenshot({ path: path.join(root, 'docs/console-faults.png') });
  await page.goto(`${daemon.base}/faults/${byKey('db1').id}`);
  await page.setViewportSize({ width: 1280, height: 1000 });
  await page.screenshot({ path: path.join(root, 'docs/console-fault.png') });
  console.log('wrote docs/console-faults.png and docs/console-fault.png');
} finally {
  await context?.close();
  rmSync(profile, { recursive: true, force: true });
  await daemon.stop();
}
