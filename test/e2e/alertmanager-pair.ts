import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../process';
import { ensureDebianPackage } from './ensure-package';

/**
 * A real Alertmanager HA pair (Debian's prometheus-alertmanager): two instances clustered on
 * loopback, routing every alert to one webhook, as test/e2e/prometheus.e2e.ts runs them.
 */
export interface AlertmanagerPair {
  urls: [string, string];
  logs: string[];
  stop(): Promise<void>;
}

export async function startAlertmanagerPair(dir: string, webhook: { url: string; tokenFile?: string }): Promise<AlertmanagerPair> {
  const alertmanager = ensureDebianPackage('prometheus-alertmanager', 'prometheus-alertmanager');
  const [am1, am2, c1, c2] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const logs: string[] = [];
  const children: ChildProcess[] = [];
  writeFileSync(
    path.join(dir, 'alertmanager.yml'),
    'route: { receiver: faultdesk, group_by: [alertname, job, instance], group_wait: 1s, group_interval: 1s, repeat_interval: 1h }\n' +
      `receivers:\n  - name: faultdesk\n    webhook_configs:\n      - url: ${webhook.url}\n        send_resolved: true\n` +
      (webhook.tokenFile ? `        http_config: { authorization: { credentials_file: ${webhook.tokenFile} } }\n` : ''),
  );
  for (const [i, [port, cluster, peer]] of [[am1, c1, c2], [am2, c2, c1]].entries()) {
    mkdirSync(path.join(dir, `am${i}`));
    const child = spawn(
      alertmanager,
      [
        `--config.file=${path.join(dir, 'alertmanager.yml')}`,
        `--storage.path=${path.join(dir, `am${i}`)}`,
        `--web.listen-address=127.0.0.1:${port}`,
        `--cluster.listen-address=127.0.0.1:${cluster}`,
        `--cluster.advertise-address=127.0.0.1:${cluster}`,
        `--cluster.peer=127.0.0.1:${peer}`,
        '--cluster.settle-timeout=2s',
        '--cluster.gossip-interval=100ms',
        '--cluster.pushpull-interval=2s',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (c: Buffer) => logs.push(`am${i + 1}: ${c}`));
    child.stderr?.on('data', (c: Buffer) => logs.push(`am${i + 1}: ${c}`));
    children.push(child);
  }
  return {
    urls: [`http://127.0.0.1:${am1}`, `http://127.0.0.1:${am2}`],
    logs,
    async stop() {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
      await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
    },
  };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, logs: string[] = [], ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    const v = await probe().catch((err: unknown) => {
      last = err;
      return undefined;
    });
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}\n${logs.slice(-30).join('')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
