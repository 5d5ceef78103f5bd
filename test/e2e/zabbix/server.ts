import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import type { PgServer } from './database';
import { spawnGroup, type ProcessGroup } from './process-group';

export const ZABBIX_SERVER = '/usr/sbin/zabbix_server';

/** "6.0.14", from `zabbix_server -V`. */
export function zabbixServerVersion(): string {
  const out = execFileSync(ZABBIX_SERVER, ['-V'], { encoding: 'utf8' });
  const m = /zabbix_server \(Zabbix\) (\d+\.\d+\.\d+)/.exec(out);
  if (!m) throw new Error(`cannot read the version from zabbix_server -V: ${out.slice(0, 200)}`);
  return m[1]!;
}

/**
 * A free port on 127.0.0.1 that zabbix_server accepts as ListenPort (1024–32767,
 * below the kernel's ephemeral range, so port 0 cannot choose it): a random
 * pick, checked by binding it.
 */
export async function freeTrapperPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port for the Zabbix trapper between 20000 and 32000');
}

export interface ZabbixServerOptions {
  /** A private folder for the config, log, pid file and sockets. */
  dir: string;
  db: PgServer & { name: string };
  /** The trapper port zabbix_sender talks to (1024–32767: see freeTrapperPort). */
  listenPort: number;
}

export interface ZabbixServer {
  readonly configFile: string;
  readonly logFile: string;
  readonly listenPort: number;
  /** The server log so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

/**
 * zabbix_server.conf for one run: loopback only, every file in a private
 * folder, the smallest set of worker processes that runs triggers, actions and
 * webhooks, and a configuration cache reloaded every second so objects created
 * through the API take effect at once.
 */
export function serverConfig(o: ZabbixServerOptions): string {
  const lines = {
    LogFile: path.join(o.dir, 'zabbix_server.log'),
    LogFileSize: 0,
    DebugLevel: 3,
    PidFile: path.join(o.dir, 'zabbix_server.pid'),
    SocketDir: o.dir,
    TmpDir: o.dir,
    DBHost: o.db.host,
    DBPort: o.db.port,
    DBName: o.db.name,
    DBUser: o.db.user,
    ...(o.db.password ? { DBPassword: o.db.password } : {}),
    ListenIP: '127.0.0.1',
    ListenPort: o.listenPort,
    // The harness runs as root in CI; without this the server switches to user zabbix, which cannot write the private folder.
    AllowRoot: 1,
    CacheUpdateFrequency: 1,
    HousekeepingFrequency: 0,
    StartAlerters: 1,
    StartEscalators: 1,
    StartTrappers: 2,
    StartPollers: 1,
    StartPollersUnreachable: 1,
    StartPingers: 0,
    StartDiscoverers: 0,
    StartHTTPPollers: 0,
    StartTimers: 1,
    StartPreprocessors: 1,
    StartLLDProcessors: 1,
    StartDBSyncers: 1,
    StartReportWriters: 0,
    StartHistoryPollers: 1,
    StatsAllowedIP: '127.0.0.1',
    Timeout: 10,
  };
  return `${Object.entries(lines)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')}\n`;
}

function readLog(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

/**
 * Starts `zabbix_server -f` in its own process group and resolves once its
 * trapper is up (the log says "started [trapper #1]"). stop() sends SIGTERM to
 * the group and waits until every process of it is gone: a SIGKILL of the main
 * process alone would leave its workers holding the port.
 */
export async function startZabbixServer(o: ZabbixServerOptions, timeoutMs = 60_000): Promise<ZabbixServer> {
  const configFile = path.join(o.dir, 'zabbix_server.conf');
  const logFile = path.join(o.dir, 'zabbix_server.log');
  writeFileSync(configFile, serverConfig(o));
  let output = '';
  const group: ProcessGroup = spawnGroup(ZABBIX_SERVER, ['-f', '-c', configFile]);
  group.child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  group.child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const log = () => `${readLog(logFile)}${output}`;
  const deadline = Date.now() + timeoutMs;
  while (!readLog(logFile).includes('started [trapper #1]')) {
    if (group.child.exitCode !== null || group.child.signalCode !== null) {
      await group.stop();
      throw new Error(`zabbix_server exited with ${group.child.exitCode ?? group.child.signalCode} before it was ready:\n${log().slice(-3000)}`);
    }
    if (Date.now() > deadline) {
      await group.stop();
      throw new Error(`zabbix_server was not ready after ${timeoutMs} ms:\n${log().slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { configFile, logFile, listenPort: o.listenPort, log, stop: () => group.stop() };
}
