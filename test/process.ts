import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { REPO } from './helpers';

/** A free port on loopback (the daemon runs as its own process and must be told one). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** The built daemon (dist/, built by test/global-setup.js) as its own process, ready when this resolves. */
export async function spawnDaemon(env: Record<string, string>, configFile?: string): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const port = env.FAULTDESK_LISTEN ? Number(env.FAULTDESK_LISTEN.split(':').pop()) : await freePort();
  const args = [path.join(REPO, 'dist/cli.js'), 'run', ...(configFile ? ['--config', configFile] : ['--config', path.join(REPO, 'config/faultdesk.yaml')])];
  let out = '';
  const child = spawn(process.execPath, args, {
    cwd: REPO,
    env: { ...process.env, FAULTDESK_LISTEN: `127.0.0.1:${port}`, FAULTDESK_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`daemon exited with ${child.exitCode}: ${out}`);
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`daemon did not become ready: ${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, url, output: () => out };
}

/** The exit code (null when a signal ended it), whether the process has already gone or not. */
export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}
