import { execFileSync, spawnSync } from 'node:child_process';

/**
 * The Debian 12 packages a real Zabbix 6.0 needs here: the server with its
 * PostgreSQL schema, the PHP frontend (for its JSON-RPC API) with PHP's
 * PostgreSQL driver, and zabbix_sender (shipped in zabbix-agent). php8.2-cgi
 * is named so apt satisfies the frontend's web-server dependency without
 * pulling apache2; --no-install-recommends keeps snmpd and nmap out.
 */
export const ZABBIX_PACKAGES = ['zabbix-server-pgsql', 'zabbix-frontend-php', 'php-pgsql', 'php8.2-cgi', 'zabbix-agent'];

function installed(pkg: string): boolean {
  const r = spawnSync('dpkg-query', ['-W', '-f', '${db:Status-Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() === 'installed';
}

/**
 * Installs whichever of the packages are missing (CI and developer machines run
 * as root with Debian's archive reachable; .ci/run does it before the timed
 * tests). The packaged services are not started: the harness runs its own.
 */
export function ensureZabbixPackages(): void {
  const missing = ZABBIX_PACKAGES.filter((p) => !installed(p));
  if (missing.length === 0) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Other test files may be installing at the same moment: wait for their dpkg lock rather than fail.
  const lock = ['-o', 'DPkg::Lock::Timeout=240'];
  const install = () => execFileSync('apt-get', [...lock, 'install', '-y', '--no-install-recommends', ...missing], { env, stdio: 'pipe', timeout: 600_000 });
  try {
    install();
  } catch {
    try {
      execFileSync('apt-get', [...lock, 'update'], { env, stdio: 'pipe', timeout: 300_000 });
      install();
    } catch (err) {
      const e = err as { stderr?: Buffer; message: string };
      throw new Error(`installing ${missing.join(' ')} failed: ${e.stderr?.toString() ?? e.message}`, { cause: err });
    }
  }
  const still = missing.filter((p) => !installed(p));
  if (still.length > 0) throw new Error(`apt-get succeeded but ${still.join(' ')} is still not installed`);
}
