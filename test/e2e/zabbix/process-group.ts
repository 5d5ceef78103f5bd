import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

/**
 * A program started as the leader of its own process group, so that stopping
 * it also stops every child it forked (zabbix_server forks about 25 workers;
 * PHP's built-in server forks its workers), even when the leader dies first.
 */
export interface ProcessGroup {
  readonly child: ChildProcess;
  readonly pid: number;
  /** SIGTERM to the group; SIGKILL to what is left after graceMs. Resolves when the group is gone. */
  stop(graceMs?: number): Promise<void>;
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    // EPERM: something of the group is still there, just not ours to signal.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    /* already gone */
  }
}

async function waitUntil(done: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

export function spawnGroup(command: string, args: string[], options: Omit<SpawnOptions, 'detached'> = {}): ProcessGroup {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options, detached: true });
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  const pid = child.pid;
  let stopping: Promise<void> | undefined;
  return {
    child,
    pid,
    stop(graceMs = 15_000) {
      stopping ??= (async () => {
        signalGroup(pid, 'SIGTERM');
        if (!(await waitUntil(() => !groupAlive(pid), graceMs))) {
          signalGroup(pid, 'SIGKILL');
          await waitUntil(() => !groupAlive(pid), 5_000);
        }
      })();
      return stopping;
    },
  };
}
