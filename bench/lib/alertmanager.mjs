// A real Alertmanager (Debian package prometheus-alertmanager), clustering off, on loopback.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { start, whenReady } from './processes.mjs';

const CANDIDATES = ['/usr/bin/prometheus-alertmanager', '/usr/bin/alertmanager'];

/** The Alertmanager binary, installed from Debian's packages when missing (needs root). */
export function alertmanagerBinary() {
  const found = () => CANDIDATES.find((p) => existsSync(p));
  if (found()) return found();
  console.error('bench: installing prometheus-alertmanager (apt-get)…');
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore' });
  execFileSync('apt-get', ['install', '-y', '-qq', 'prometheus-alertmanager'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  const binary = found();
  if (!binary) throw new Error('prometheus-alertmanager is not installed and could not be installed');
  // The package starts a service on :9093; the benchmark runs its own instance.
  try {
    execFileSync('pkill', ['-f', '^/usr/bin/prometheus-alertmanager'], { stdio: 'ignore' });
  } catch {
    /* none running */
  }
  return binary;
}

/** Starts Alertmanager with a route to a receiver that sends nothing: it only ingests. */
export async function startAlertmanager({ port }) {
  const binary = alertmanagerBinary();
  const dir = mkdtempSync(path.join(tmpdir(), 'faultdesk-bench-am-'));
  const configFile = path.join(dir, 'alertmanager.yml');
  writeFileSync(configFile, "route:\n  receiver: 'null'\nreceivers:\n  - name: 'null'\n");
  const proc = start(binary, [
    `--config.file=${configFile}`,
    `--storage.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--cluster.listen-address=', // clustering off
    '--log.level=warn',
  ]);
  const base = `http://127.0.0.1:${port}`;
  await whenReady(proc, `${base}/-/ready`, 'alertmanager');
  return {
    base,
    pid: proc.pid,
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
