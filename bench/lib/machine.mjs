// What the figures were measured on: every result file carries it.
import { cpus, totalmem, release, platform } from 'node:os';
import { execFileSync } from 'node:child_process';

export function describeMachine(extra = {}) {
  const cpu = cpus();
  return {
    cpu: `${cpu.length} x ${cpu[0]?.model ?? 'unknown'}`,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${platform()} ${release()}`,
    node: process.version,
    ...extra,
  };
}

/** The installed Alertmanager's version line, or null when it is not installed. */
export function alertmanagerVersion(binary) {
  try {
    return execFileSync(binary, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0].trim();
  } catch {
    return null;
  }
}
