import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Test files run in parallel and may install at once: wait for the other's dpkg lock rather than fail. */
const WAIT_FOR_LOCK = ['-o', 'DPkg::Lock::Timeout=240'];

/**
 * Makes sure a Debian package's program is installed, installing the package
 * when it is missing (CI and developer machines run as root with Debian's
 * package archive reachable). Throws with the installer's output otherwise.
 */
export function ensureDebianPackage(program: string, pkg: string): string {
  const found = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'].map((d) => `${d}/${program}`).find((p) => existsSync(p));
  if (found) return found;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync('apt-get', [...WAIT_FOR_LOCK, 'install', '-y', '--no-install-recommends', pkg], { env, stdio: 'pipe', timeout: 300_000 });
  } catch {
    try {
      execFileSync('apt-get', [...WAIT_FOR_LOCK, 'update'], { env, stdio: 'pipe', timeout: 300_000 });
      execFileSync('apt-get', [...WAIT_FOR_LOCK, 'install', '-y', '--no-install-recommends', pkg], { env, stdio: 'pipe', timeout: 300_000 });
    } catch (err) {
      const e = err as { stderr?: Buffer; message: string };
      throw new Error(`${program} is missing and installing ${pkg} failed: ${e.stderr?.toString() ?? e.message}`, { cause: err });
    }
  }
  const installed = ['/usr/sbin', '/usr/bin'].map((d) => `${d}/${program}`).find((p) => existsSync(p));
  if (!installed) throw new Error(`${pkg} installed but ${program} is not on /usr/sbin or /usr/bin`);
  return installed;
}
