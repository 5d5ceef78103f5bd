import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO } from '../../helpers';

// Running Debian's podman on these machines: the settings it needs are in containers.conf beside
// this file (no default ulimits, runc), passed to every podman command of the tests.
const HERE = path.join(REPO, 'test/e2e/container');
export const PODMAN_ENV = { ...process.env, CONTAINERS_CONF: path.join(HERE, 'containers.conf') };

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs podman and resolves with what it printed, whatever its exit code. */
export function podmanRun(args: string[], timeoutMs = 120_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile('podman', args, { env: PODMAN_ENV, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() });
    });
  });
}

/** Runs podman; rejects with its output when it fails. */
export async function podman(args: string[], timeoutMs?: number): Promise<string> {
  const r = await podmanRun(args, timeoutMs);
  if (r.code !== 0) throw new Error(`podman ${args.join(' ')} exited ${r.code}:\n${r.stderr.slice(-4000)}${r.stdout.slice(-2000)}`);
  return r.stdout;
}

/**
 * Why podman cannot run containers here, or undefined when it can. Asks podman itself (its
 * storage, the runtime) rather than guessing from the environment.
 */
export function podmanUnusable(): string | undefined {
  try {
    execFileSync('podman', ['--version'], { env: PODMAN_ENV, stdio: 'pipe' });
  } catch (err) {
    const e = err as { code?: string; stderr?: Buffer };
    if (e.code === 'ENOENT') return 'podman is not installed (Debian package podman; .ci/run installs it)';
    return `podman --version failed: ${e.stderr?.toString().trim() ?? ''}`;
  }
  try {
    execFileSync('podman', ['info', '--format', '{{.Host.OCIRuntime.Name}}'], { env: PODMAN_ENV, stdio: 'pipe', timeout: 60_000 });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    return `podman cannot run here: ${(e.stderr?.toString() || e.message).trim().split('\n').slice(-3).join(' ')}`;
  }
  if (!existsSync('/usr/sbin/debootstrap') && !existsSync('/usr/bin/debootstrap')) return 'debootstrap is not installed (Debian package debootstrap; .ci/run installs it)';
  if (process.getuid?.() !== 0) return 'building the stand-in base image needs root (debootstrap, chroot)';
  return undefined;
}

/** The external images the Dockerfile builds FROM (not its own stages), in order. */
export function dockerfileBases(dockerfile: string): string[] {
  const stages = new Set<string>();
  const bases: string[] = [];
  for (const line of dockerfile.split('\n')) {
    const m = /^FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?\s*$/i.exec(line.trim());
    if (!m) continue;
    const image = m[1] as string;
    if (!stages.has(image.toLowerCase()) && !bases.includes(image)) bases.push(image);
    if (m[2]) stages.add(m[2].toLowerCase());
  }
  return bases;
}

const STANDIN_SCRIPT = path.join(HERE, 'standin-base.sh');

/** A digest of the stand-in's recipe: a stand-in made by another recipe is made again. */
export function standinRecipe(): string {
  return createHash('sha256').update(readFileSync(STANDIN_SCRIPT)).digest('hex').slice(0, 16);
}

/**
 * Makes sure podman holds a stand-in for `image`, tagged with exactly that name. Kept in podman's
 * storage between runs: it is made again only when missing (a new FROM is a new name) or made by
 * another recipe. Returns whether it had to be made.
 */
export async function ensureStandin(image: string, log: (line: string) => void): Promise<boolean> {
  const recipe = standinRecipe();
  const label = await podmanRun(['image', 'inspect', '--format', '{{index .Labels "faultdesk.standin"}}', image]);
  if (label.code === 0 && label.stdout.trim() === recipe) return false;
  log(`making a stand-in for ${image} (debootstrap and Node from the npm registry; a few minutes, once per machine)`);
  await new Promise<void>((resolve, reject) => {
    execFile('bash', [STANDIN_SCRIPT, image, recipe], { env: PODMAN_ENV, timeout: 30 * 60_000, maxBuffer: 64 * 1024 * 1024 }, (err, _out, stderr) =>
      err ? reject(new Error(`standin-base.sh ${image} failed: ${err.message}\n${stderr.toString().slice(-4000)}`)) : resolve(),
    );
  });
  return true;
}
