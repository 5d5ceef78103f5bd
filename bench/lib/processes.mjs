// Starting and stopping the processes a benchmark measures, on loopback.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export async function waitFor(url, { tries = 150, interval = 100 } = {}) {
  for (let i = 0; i < tries; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, interval));
  }
  throw new Error(`${url} did not answer in time`);
}

/** Starts a command; stop() sends SIGTERM and waits for the exit. Output goes to the log file or is dropped. */
export function start(command, args, { env = process.env, cwd, output = 'ignore' } = {}) {
  const child = spawn(command, args, { env, cwd, stdio: ['ignore', output, output] });
  let exited = false;
  const exit = new Promise((resolve) => child.once('exit', (code, signal) => {
    exited = true;
    resolve({ code, signal });
  }));
  return {
    pid: child.pid,
    exit,
    get exited() {
      return exited;
    },
    async stop() {
      if (!exited) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exit;
      clearTimeout(timer);
    },
  };
}

/** Resident set size of a process in bytes (Linux /proc). */
export function rssBytes(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]);
  return kb * 1024;
}

/** CPU seconds (user + system) a process has used so far (Linux /proc). */
export function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Waits until `url` answers, or fails at once if the process exits first; a process
 * that does not become ready is stopped. `name` goes into the error.
 */
export async function whenReady(proc, url, name) {
  try {
    await Promise.race([
      waitFor(url),
      proc.exit.then(({ code }) => {
        throw new Error(`${name} exited with code ${code} before it was ready`);
      }),
    ]);
  } catch (err) {
    await proc.stop();
    throw err;
  }
}
