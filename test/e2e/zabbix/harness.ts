import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { PG_ADMIN_URL } from '../../postgres';
import { freePort } from '../../process';
import { ZabbixApi } from './api';
import { createRunDatabase, ensureTemplateDatabase, pgServer } from './database';
import { claimFrontendConfig, startFrontend } from './frontend';
import { ensureZabbixPackages } from './packages';
import { freeTrapperPort, startZabbixServer, zabbixServerVersion } from './server';

export { ZabbixApi, ZabbixApiError, eventAcknowledges, waitForEventAcknowledgedWith, type ZabbixAcknowledge } from './api';

const execFileAsync = promisify(execFile);

/** The frontend's stock super admin in a fresh database. */
export const ZABBIX_ADMIN = { username: 'Admin', password: 'zabbix' };

/** A real Zabbix server and frontend for one test run, on loopback, with its own database. */
export interface ZabbixHarness {
  readonly version: string;
  /** The frontend's base URL and its JSON-RPC endpoint. */
  readonly frontendUrl: string;
  readonly apiUrl: string;
  /** The server's trapper port (zabbix_sender -p). */
  readonly trapperPort: number;
  readonly database: string;
  /** Logged in as the stock Admin. */
  readonly admin: ZabbixApi;
  /** How long each step of start() took, in ms (package install, template, database, server, frontend). */
  readonly timings: Record<string, number>;
  login(username: string, password: string): Promise<ZabbixApi>;
  /**
   * Sends one value with zabbix_sender, again until the server accepts it: an
   * item created through the API is unknown to the trapper until the next
   * configuration cache reload, and until then the send reports "failed: 1".
   */
  send(host: string, key: string, value: string, timeoutMs?: number): Promise<void>;
  /** The end of the server's log and the frontend's output, for failure messages. */
  logs(): string;
  /** Stops the frontend and the server, puts the frontend configuration back and drops the database. */
  stop(): Promise<void>;
}

export interface ZabbixHarnessOptions {
  /** A private folder for the server's config, log and sockets. */
  dir: string;
}

/**
 * Brings up Zabbix from Debian's packages (installed when missing): a fresh
 * database copied from a template database built once, zabbix_server in the
 * foreground in its own process group, and the PHP frontend under PHP's
 * built-in web server. The stock "Zabbix server" host is disabled (its agent
 * items fail without an agent). Whatever started before a failure is stopped.
 */
export async function startZabbix(options: ZabbixHarnessOptions): Promise<ZabbixHarness> {
  const timings: Record<string, number> = {};
  const timed = async <T>(step: string, f: () => Promise<T> | T): Promise<T> => {
    const t = Date.now();
    try {
      return await f();
    } finally {
      timings[step] = Date.now() - t;
    }
  };
  const undo: Array<() => Promise<void> | void> = [];
  const stop = async () => {
    const errors: unknown[] = [];
    while (undo.length > 0) {
      try {
        await undo.pop()!();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'stopping Zabbix failed');
  };
  try {
    await timed('packages', ensureZabbixPackages);
    const version = zabbixServerVersion();
    const pg = pgServer(PG_ADMIN_URL);
    const template = await timed('template', () => ensureTemplateDatabase(pg, version));
    const db = await timed('database', () => createRunDatabase(pg, template));
    undo.push(db.drop);
    const trapperPort = await freeTrapperPort();
    const server = await timed('server', () => startZabbixServer({ dir: options.dir, db: { ...pg, name: db.name }, listenPort: trapperPort }));
    undo.push(server.stop);
    const release = claimFrontendConfig();
    undo.push(release);
    const frontend = await timed('frontend', async () => startFrontend({ db: { ...pg, name: db.name }, serverPort: trapperPort, port: await freePort() }));
    undo.push(frontend.stop);
    const admin = await ZabbixApi.login(frontend.apiUrl, ZABBIX_ADMIN.username, ZABBIX_ADMIN.password);
    const stock = await admin.call<Array<{ hostid: string }>>('host.get', { filter: { host: ['Zabbix server'] }, output: ['hostid'] });
    for (const { hostid } of stock) await admin.call('host.update', { hostid, status: 1 });

    return {
      version,
      frontendUrl: frontend.url,
      apiUrl: frontend.apiUrl,
      trapperPort,
      database: db.name,
      admin,
      timings,
      login: (username, password) => ZabbixApi.login(frontend.apiUrl, username, password),
      send: async (host, key, value, timeoutMs = 30_000) => {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const out = await execFileAsync('zabbix_sender', ['-z', '127.0.0.1', '-p', String(trapperPort), '-s', host, '-k', key, '-o', value]).then(
            (r) => r.stdout,
            (err: { stdout?: string; message: string }) => err.stdout ?? err.message,
          );
          if (/processed: 1;/.test(out)) return;
          if (Date.now() > deadline) throw new Error(`zabbix_sender ${host} ${key}=${value} was not accepted within ${timeoutMs} ms: ${out}`);
          await new Promise((r) => setTimeout(r, 500));
        }
      },
      // PHP's own lines (accepted, closing, 200) say nothing; its errors and warnings do.
      logs: () =>
        `--- zabbix_server.log (end)\n${server.log().slice(-6000)}\n--- php -S (other than requests)\n${frontend
          .log()
          .split('\n')
          .filter((l) => !/ (Accepted|Closing|\[200\]: POST \/api_jsonrpc\.php)$/.test(l))
          .join('\n')
          .slice(-2000)}`,
      stop,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
