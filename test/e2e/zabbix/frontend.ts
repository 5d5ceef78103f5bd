import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import axios from 'axios';
import type { PgServer } from './database';
import { spawnGroup } from './process-group';

/** Debian's frontend reads its configuration from this fixed path (CConfigFile::CONFIG_FILE_PATH). */
export const FRONTEND_CONFIG = '/etc/zabbix/zabbix.conf.php';
export const FRONTEND_ROOT = '/usr/share/zabbix';
const STATE = '/etc/zabbix/.faultdesk-e2e';
const MARKER = 'faultdesk-e2e-frontend-config';

/**
 * The frontend configuration every test run shares: it takes the database and
 * the server's port from the environment of the PHP process that reads it, so
 * runs in parallel (each with its own PHP server) each reach their own database.
 */
export const FRONTEND_CONFIG_PHP = `<?php
// ${MARKER}: written by faultdesk's end-to-end tests (test/e2e/zabbix/frontend.ts),
// removed (and any previous file put back) when the last of them stops.
$DB['TYPE'] = 'POSTGRESQL';
$DB['SERVER'] = getenv('FAULTDESK_ZBX_DB_HOST');
$DB['PORT'] = getenv('FAULTDESK_ZBX_DB_PORT');
$DB['DATABASE'] = getenv('FAULTDESK_ZBX_DB_NAME');
$DB['USER'] = getenv('FAULTDESK_ZBX_DB_USER');
$DB['PASSWORD'] = (string) getenv('FAULTDESK_ZBX_DB_PASSWORD');
$DB['SCHEMA'] = '';
$DB['ENCRYPTION'] = false;
$DB['KEY_FILE'] = '';
$DB['CERT_FILE'] = '';
$DB['CA_FILE'] = '';
$DB['VERIFY_HOST'] = false;
$DB['CIPHER_LIST'] = '';
$DB['VAULT_URL'] = '';
$DB['VAULT_DB_PATH'] = '';
$DB['VAULT_TOKEN'] = '';
$DB['DOUBLE_IEEE754'] = true;
$ZBX_SERVER = '127.0.0.1';
$ZBX_SERVER_PORT = getenv('FAULTDESK_ZBX_SERVER_PORT');
$ZBX_SERVER_NAME = 'faultdesk e2e';
$IMAGE_FORMAT_DEFAULT = IMAGE_FORMAT_PNG;
`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Holders are `<pid>-<random>`; those whose process is gone (a killed run) no longer count. */
function liveHolders(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((h) => {
    if (alive(Number(h.split('-')[0]))) return true;
    rmSync(path.join(dir, h), { force: true });
    return false;
  });
}

/**
 * Puts the shared frontend configuration in place for as long as the returned
 * release function is not called. A configuration that was there before (not
 * ours) is kept aside and put back when the last holder releases; when there
 * was none, ours is removed.
 */
export function claimFrontendConfig(paths: { config: string; state: string } = { config: FRONTEND_CONFIG, state: STATE }): () => void {
  const holders = path.join(paths.state, 'holders');
  mkdirSync(holders, { recursive: true });
  const original = path.join(paths.state, 'original.php');
  if (existsSync(paths.config) && !readFileSync(paths.config, 'utf8').includes(MARKER) && !existsSync(original)) {
    renameSync(paths.config, original);
  }
  const tmp = `${paths.config}.${process.pid}.tmp`;
  writeFileSync(tmp, FRONTEND_CONFIG_PHP, { mode: 0o644 });
  renameSync(tmp, paths.config);
  const me = `${process.pid}-${randomBytes(4).toString('hex')}`;
  writeFileSync(path.join(holders, me), '');
  let released = false;
  return () => {
    if (released) return;
    released = true;
    rmSync(path.join(holders, me), { force: true });
    if (liveHolders(holders).length > 0) return;
    if (existsSync(original)) renameSync(original, paths.config);
    else rmSync(paths.config, { force: true });
    rmSync(paths.state, { recursive: true, force: true });
  };
}

export interface FrontendOptions {
  db: PgServer & { name: string };
  serverPort: number;
  port: number;
}

export interface Frontend {
  /** The JSON-RPC endpoint. */
  readonly apiUrl: string;
  readonly url: string;
  log(): string;
  stop(): Promise<void>;
}

/**
 * Serves the frontend with PHP's built-in web server on 127.0.0.1 (two
 * workers, so a slow call does not hold up the next) and resolves once the
 * API answers apiinfo.version; a GET would only get 412.
 */
export async function startFrontend(o: FrontendOptions, timeoutMs = 30_000): Promise<Frontend> {
  const env = {
    ...process.env,
    PHP_CLI_SERVER_WORKERS: '2',
    FAULTDESK_ZBX_DB_HOST: o.db.host,
    FAULTDESK_ZBX_DB_PORT: String(o.db.port),
    FAULTDESK_ZBX_DB_NAME: o.db.name,
    FAULTDESK_ZBX_DB_USER: o.db.user,
    FAULTDESK_ZBX_DB_PASSWORD: o.db.password,
    FAULTDESK_ZBX_SERVER_PORT: String(o.serverPort),
  };
  const group = spawnGroup('php', ['-d', 'post_max_size=16M', '-d', 'memory_limit=256M', '-S', `127.0.0.1:${o.port}`, '-t', FRONTEND_ROOT], { env });
  let output = '';
  group.child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  group.child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const url = `http://127.0.0.1:${o.port}`;
  const apiUrl = `${url}/api_jsonrpc.php`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (group.child.exitCode !== null) throw new Error(`php -S exited with ${group.child.exitCode}:\n${output.slice(-2000)}`);
    const answer = await axios
      .post(apiUrl, { jsonrpc: '2.0', method: 'apiinfo.version', params: {}, id: 1 }, { timeout: 5_000, validateStatus: () => true })
      .catch(() => undefined);
    if (answer?.status === 200 && typeof answer.data?.result === 'string') break;
    if (Date.now() > deadline) {
      await group.stop();
      throw new Error(`the Zabbix frontend did not answer apiinfo.version within ${timeoutMs} ms (last: ${answer?.status} ${JSON.stringify(answer?.data)?.slice(0, 500)}):\n${output.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { apiUrl, url, log: () => output, stop: () => group.stop() };
}
