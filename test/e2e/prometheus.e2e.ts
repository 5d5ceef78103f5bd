import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Daemon } from '../../src/main';
import { getJson, startTestDaemon, tempDir, testConfig, VIEWER, VIEWER_CREDENTIALS } from '../helpers';
import { freePort } from '../process';
import { ensureDebianPackage } from './ensure-package';

// A real Prometheus scrapes a target that is down, then comes back; a real
// Alertmanager HA pair (two instances clustered on loopback) routes the alert
// to faultdesk's webhook with bearer auth. faultdesk must open one fault and one
// ticket, and resolve both when the target returns.
jest.setTimeout(180_000);

const TOKEN = 'e2e-alertmanager-token';
let dir: string;
let cleanup: () => void;
let daemon: Daemon;
const children: ChildProcess[] = [];
let target: Server | undefined;
const logs: string[] = [];

function run(bin: string, args: string[]): ChildProcess {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (c: Buffer) => logs.push(`${path.basename(bin)}: ${c}`));
  child.stderr?.on('data', (c: Buffer) => logs.push(`${path.basename(bin)}: ${c}`));
  children.push(child);
  return child;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 120_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${logs.slice(-30).join('')}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

let targetPort = 0;
let amPorts: number[] = [];

beforeAll(async () => {
  const prometheus = ensureDebianPackage('prometheus', 'prometheus');
  const alertmanager = ensureDebianPackage('prometheus-alertmanager', 'prometheus-alertmanager');
  ({ dir, cleanup } = tempDir('faultdesk-prom-'));
  const config = testConfig(dir);
  config.auth.sources.alertmanager = { bearer_token: TOKEN };
  // With any credential configured, reads need the viewer role.
  config.auth.viewer = VIEWER_CREDENTIALS;
  daemon = await startTestDaemon(config);
  daemon.outbox.start();

  targetPort = await freePort(); // nobody listens yet: the target is down
  const [promPort, am1, am2, c1, c2] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  amPorts = [am1, am2];
  writeFileSync(path.join(dir, 'token'), `${TOKEN}\n`);
  writeFileSync(
    path.join(dir, 'rules.yml'),
    'groups:\n  - name: e2e\n    rules:\n      - alert: TargetDown\n        expr: up{job="flaky"} == 0\n        for: 0s\n' +
      '        labels: { severity: critical }\n        annotations: { summary: "Target {{ $labels.instance }} of job {{ $labels.job }} is down" }\n',
  );
  writeFileSync(
    path.join(dir, 'prometheus.yml'),
    `global: { scrape_interval: 1s, evaluation_interval: 1s }\nrule_files: [${path.join(dir, 'rules.yml')}]\n` +
      `alerting:\n  alertmanagers:\n    - static_configs: [{ targets: ["127.0.0.1:${am1}", "127.0.0.1:${am2}"] }]\n` +
      `scrape_configs:\n  - job_name: flaky\n    static_configs: [{ targets: ["127.0.0.1:${targetPort}"] }]\n`,
  );
  writeFileSync(
    path.join(dir, 'alertmanager.yml'),
    'route: { receiver: faultdesk, group_by: [alertname, job, instance], group_wait: 1s, group_interval: 2s, repeat_interval: 1h }\n' +
      `receivers:\n  - name: faultdesk\n    webhook_configs:\n      - url: ${daemon.url}/api/v1/alerts/alertmanager\n        send_resolved: true\n` +
      `        http_config: { authorization: { credentials_file: ${path.join(dir, 'token')} } }\n`,
  );
  for (const [i, [port, cluster, peer]] of [[am1, c1, c2], [am2, c2, c1]].entries()) {
    mkdirSync(path.join(dir, `am${i}`));
    run(alertmanager, [
      `--config.file=${path.join(dir, 'alertmanager.yml')}`,
      `--storage.path=${path.join(dir, `am${i}`)}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--cluster.listen-address=127.0.0.1:${cluster}`,
      `--cluster.advertise-address=127.0.0.1:${cluster}`,
      `--cluster.peer=127.0.0.1:${peer}`,
      '--cluster.settle-timeout=2s',
    ]);
  }
  mkdirSync(path.join(dir, 'tsdb'));
  run(prometheus, [
    `--config.file=${path.join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${path.join(dir, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${promPort}`,
  ]);
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
  target?.close();
  await daemon?.stop();
  cleanup?.();
});

test('target down, then back: one fault and one ticket, opened then resolved, from an Alertmanager HA pair', async () => {
  const fault = await waitFor('a fault', async () => {
    const { faults } = await getJson<{ faults: Array<{ id: string; state: string; category: string; ticket: { status: string } | null }> }>(`${daemon.url}/api/v1/faults`, VIEWER);
    return faults.find((f) => f.state === 'open' && f.ticket) ?? undefined;
  });
  expect(fault.category).toBe('target-down');

  target = createServer((_req, res) => res.end('# up\n'));
  await new Promise<void>((r) => target!.listen(targetPort, '127.0.0.1', r));

  await waitFor('the fault to resolve', async () => {
    const { faults } = await getJson<{ faults: Array<{ state: string; ticket: { status: string } | null }> }>(`${daemon.url}/api/v1/faults`, VIEWER);
    return faults.length === 1 && faults[0]!.state === 'resolved' && faults[0]!.ticket?.status === 'solved' ? true : undefined;
  });
  const { tickets } = await getJson<{ tickets: Array<{ status: string }> }>(`${daemon.url}/api/v1/tickets`, VIEWER);
  expect(tickets).toEqual([expect.objectContaining({ status: 'solved' })]);
  // The pair was clustered and both instances had the alert; whichever of them sent it, one ticket came of it.
  for (const port of amPorts) {
    const status = await getJson<{ cluster: { peers: unknown[] } }>(`http://127.0.0.1:${port}/api/v2/status`, VIEWER);
    expect(status.cluster.peers).toHaveLength(2);
  }
  const metrics = await fetch(`${daemon.url}/metrics`).then((r) => r.text());
  expect(metrics).toMatch(/faultdesk_alerts_received_total\{source="alertmanager",outcome="opened"\} 1\n/);
});
