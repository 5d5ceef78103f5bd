import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

/**
 * A program started in its own process group, so that stopping it also stops
 * every child it forked (zabbix_server forks about 25 workers; PHP's built-in
 * server forks its workers), even when the program dies first.
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

/**
 * The group's leader: a shell that runs the program and exits with its status,
 * while a watcher in the group reads the pipe from this Node process. When
 * this process ends however it ends (Ctrl-C, a SIGKILL), the pipe closes and
 * the watcher sends SIGTERM to the whole group, so nothing outlives the test.
 */
const WATCHDOG = 'exec 3<&0; "$@" </dev/null 3<&- & program=$!; { read -r _ <&3; kill -TERM 0; } </dev/null & wait "$program"';

export function spawnGroup(command: string, args: string[], options: Omit<SpawnOptions, 'detached' | 'stdio'> = {}): ProcessGroup {
  const child = spawn('/bin/sh', ['-c', WATCHDOG, 'sh', command, ...args], { ...options, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
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
