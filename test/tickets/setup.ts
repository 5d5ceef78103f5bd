import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { ManualClock } from '../../src/clock';
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
  const { dir, cleanup } = tempDir('faultdesk-tickets-');
  for (const [name, value] of Object.entries(secrets)) writeFileSync(path.join(dir, name), `${value}\n`);
  writeFileSync(path.join(dir, 'rules.yaml'), rulesYaml);
  writeFileSync(path.join(dir, 'faultdesk.yaml'), configYaml(dir));
  const config = loadConfig({
    file: path.join(dir, 'faultdesk.yaml'),
    env: { FAULTDESK_LISTEN: '127.0.0.1:0', FAULTDESK_STORE_URL: `sqlite:${path.join(dir, 'db.sqlite')}`, FAULTDESK_RULES: path.join(dir, 'rules.yaml') },
  });
  const clock = new ManualClock(Date.parse('2026-11-24T12:00:00Z'));
  const lines: string[] = [];
  const stream = new PassThrough();
  stream.on('data', (c: Buffer) => lines.push(c.toString()));
  const logger = createLogger({ level: 'debug', secrets: config.secrets, stream });
  const start = () => startDaemon({ config, clock, logger, startWorkers: false });
  let daemon = await start();
  const bed: TicketTestbed = {
    get daemon() {
      return daemon;
    },
    clock,
    config,
    logs: () => lines.join(''),
    async fire(service, opts = {}) {
      const alert: Alert = {
        source: 'alertmanager',
        sourceId: opts.id ?? `fp-${service}`,
        status: opts.status ?? 'firing',
        labels: { alertname: 'ServiceDown', service, host: `${service}-host`, severity: opts.severity ?? 'warning' },
        annotations: opts.annotations ?? { summary: `${service} is down` },
        startsAt: opts.startsAt ?? Date.parse('2026-11-24T11:59:00Z'),
        endsAt: opts.status === 'resolved' ? clock.now() : undefined,
        receivedAt: clock.now(),
      };
      return (await daemon.faults.ingest('alertmanager', [alert])).faults[0] ?? null;
    },
    async drain() {
      while ((await daemon.outbox.runOnce()) > 0);
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
  return bed;
}
