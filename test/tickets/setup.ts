import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { ManualClock, systemClock, type Clock } from '../../src/clock';
import { loadConfig, type Config } from '../../src/config';
import { createLogger } from '../../src/log';
import { startDaemon, type Daemon } from '../../src/main';
import type { Alert } from '../../src/sources';
import { tempDir } from '../helpers';

export interface TicketTestbed {
  daemon: Daemon;
  clock: ManualClock;
  config: Config;
  /** Every log line so far. */
  logs(): string;
  fire(
    service: string,
    opts?: { severity?: string; status?: 'firing' | 'resolved'; id?: string; startsAt?: number; annotations?: Record<string, string> },
  ): Promise<string | null>;
  drain(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A daemon with the given config and rule file (YAML text; secrets written to
 * files and referenced as *_file), a manual clock, workers driven by drain(),
 * and its log lines captured.
 */
export async function ticketTestbed(configYaml: (dir: string) => string, rulesYaml: string, secrets: Record<string, string> = {}): Promise<TicketTestbed> {
  const clock = new ManualClock(Date.parse('2026-11-24T12:00:00Z'));
  const bed = await testbed(configYaml, rulesYaml, secrets, clock, false, Date.parse('2026-11-24T11:59:00Z'));
  return {
    ...bed,
    get daemon() {
      return bed.daemon;
    },
    clock,
    async drain() {
      while ((await bed.daemon.outbox.runOnce()) > 0);
    },
  };
}

export interface LiveTicketTestbed extends Omit<TicketTestbed, 'clock' | 'drain'> {
  /** Waits (in real time, up to `timeoutMs`) until `check` returns something other than undefined, and returns it. */
  until<T>(check: () => Promise<T | undefined>, timeoutMs?: number): Promise<T>;
}

/**
 * A daemon as it runs in production: the system clock and its own outbox
 * workers, so retries wait real time while a ticket system's slow answers land.
 */
export async function liveTicketTestbed(configYaml: (dir: string) => string, rulesYaml: string, secrets: Record<string, string> = {}): Promise<LiveTicketTestbed> {
  const bed = await testbed(configYaml, rulesYaml, secrets, systemClock, true, Date.now() - 60_000);
  return {
    ...bed,
    get daemon() {
      return bed.daemon;
    },
    async until(check, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = await check();
        if (value !== undefined) return value;
        if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}

async function testbed(
  configYaml: (dir: string) => string,
  rulesYaml: string,
  secrets: Record<string, string>,
  clock: Clock,
  startWorkers: boolean,
  /** When an alert fired unless told. */
  startsAt: number,
) {
  const { dir, cleanup } = tempDir('faultdesk-tickets-');
  for (const [name, value] of Object.entries(secrets)) writeFileSync(path.join(dir, name), `${value}\n`);
  writeFileSync(path.join(dir, 'rules.yaml'), rulesYaml);
  writeFileSync(path.join(dir, 'faultdesk.yaml'), configYaml(dir));
  const config = loadConfig({
    file: path.join(dir, 'faultdesk.yaml'),
    env: { FAULTDESK_LISTEN: '127.0.0.1:0', FAULTDESK_STORE_URL: `sqlite:${path.join(dir, 'db.sqlite')}`, FAULTDESK_RULES: path.join(dir, 'rules.yaml') },
  });
  const lines: string[] = [];
  const stream = new PassThrough();
  stream.on('data', (c: Buffer) => lines.push(c.toString()));
  const logger = createLogger({ level: 'debug', secrets: config.secrets, stream });
  const start = () => startDaemon({ config, clock, logger, startWorkers });
  let daemon = await start();
  return {
    get daemon(): Daemon {
      return daemon;
    },
    config,
    logs: () => lines.join(''),
    async fire(
      service: string,
      opts: { severity?: string; status?: 'firing' | 'resolved'; id?: string; startsAt?: number; annotations?: Record<string, string> } = {},
    ) {
      const alert: Alert = {
        source: 'alertmanager',
        sourceId: opts.id ?? `fp-${service}`,
        status: opts.status ?? 'firing',
        labels: { alertname: 'ServiceDown', service, host: `${service}-host`, severity: opts.severity ?? 'warning' },
        annotations: opts.annotations ?? { summary: `${service} is down` },
        startsAt: opts.startsAt ?? startsAt,
        endsAt: opts.status === 'resolved' ? clock.now() : undefined,
        receivedAt: clock.now(),
      };
      return (await daemon.faults.ingest('alertmanager', [alert])).faults[0] ?? null;
    },
    async restart() {
      await daemon.stop();
      daemon = await start();
    },
    async stop() {
      await daemon.stop();
      cleanup();
    },
  };
}
