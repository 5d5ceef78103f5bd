import { constants, promises as fs } from 'node:fs';
import { DeliveryError } from '../delivery';
import type { AlertRow } from '../store';
import { noop, ticketText, type WritebackContext, type WritebackPlan, type WritebackTarget } from './target';

export interface NagiosTargetOptions {
  /** faultdesk on the Nagios host: the external command file (a FIFO) it writes to. */
  commandFile?: string;
  /** Author of acknowledgements when the fault does not say who. */
  author: string;
}

/**
 * Author and comment of an external command: one line, no field separator.
 * Nagios splits the line at ';' and ends it at a newline, so both are replaced.
 */
export function cleanField(text: string): string {
  return text
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/;/g, ',')
    // eslint-disable-next-line no-control-regex -- control characters are what is removed
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .trim()
    .slice(0, 1000);
}

/** Host and service names come from Nagios itself; one that could split the command is refused, never cleaned into another object's name. */
function objectName(name: string, what: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (name === '' || /[;\r\n\t\u0000-\u001f\u007f]/.test(name)) throw new DeliveryError(`nagios ${what} name ${JSON.stringify(name)} cannot be written as an external command`, 'bad_request', false);
  return name;
}

/** The host and service (none for a host problem) of each Nagios alert of the fault, once each. */
export function nagiosObjects(alerts: readonly AlertRow[], firingOnly: boolean): Array<{ host: string; service?: string }> {
  const seen = new Map<string, { host: string; service?: string }>();
  for (const a of alerts) {
    if (firingOnly && a.status !== 'firing') continue;
    const labels = JSON.parse(a.labels) as Record<string, string>;
    if (!labels.host) continue;
    const object = labels.service ? { host: labels.host, service: labels.service } : { host: labels.host };
    seen.set(`${object.host}\u0000${object.service ?? ''}`, object);
  }
  return [...seen.values()];
}

/** The external commands (without their [timestamp]) of an acknowledgement: sticky until OK, notified, persistent. */
export function acknowledgeCommands(objects: ReadonlyArray<{ host: string; service?: string }>, author: string, comment: string): string[] {
  const a = cleanField(author) || 'faultdesk';
  const c = cleanField(comment);
  return objects.map(({ host, service }) =>
    service === undefined
      ? `ACKNOWLEDGE_HOST_PROBLEM;${objectName(host, 'host')};2;1;1;${a};${c}`
      : `ACKNOWLEDGE_SVC_PROBLEM;${objectName(host, 'host')};${objectName(service, 'service')};2;1;1;${a};${c}`,
  );
}

export function removeAcknowledgementCommands(objects: ReadonlyArray<{ host: string; service?: string }>): string[] {
  return objects.map(({ host, service }) =>
    service === undefined ? `REMOVE_HOST_ACKNOWLEDGEMENT;${objectName(host, 'host')}` : `REMOVE_SVC_ACKNOWLEDGEMENT;${objectName(host, 'host')};${objectName(service, 'service')}`,
  );
}

/** One line of the command file: `[unix seconds] COMMAND`. */
export function commandLine(command: string, at: number): string {
  return `[${Math.floor(at / 1000)}] ${command}`;
}

/**
 * Nagios acknowledgements (ACKNOWLEDGE_SVC_PROBLEM / ACKNOWLEDGE_HOST_PROBLEM,
 * sticky until the service is OK): written to the command file when
 * faultdesk runs on the Nagios host, else queued for the shipped agent there
 * (config/integrations/nagios/faultdesk-writeback-agent.sh), which fetches them
 * from GET /api/v1/writeback/nagios and confirms each one it wrote.
 */
export class NagiosTarget implements WritebackTarget {
  readonly system = 'nagios';

  constructor(private readonly options: NagiosTargetOptions) {}

  plan(ctx: WritebackContext): WritebackPlan {
    const { fault, payload, state, action, now } = ctx;
    let commands: string[];
    let next: { ref: string | null; active: number; active_until: number | null };
    if (action === 'acknowledge') {
      if (state?.active === 1) return noop('acknowledged in Nagios already');
      const objects = nagiosObjects(ctx.alerts, true);
      if (objects.length === 0) return noop('no firing Nagios host or service in this fault');
      const by = payload.by ?? fault.acknowledged_by ?? this.options.author;
      commands = acknowledgeCommands(objects, by, `Acknowledged in faultdesk: fault ${fault.id}, ${ticketText(fault)}`);
      next = { ref: null, active: 1, active_until: null };
    } else {
      if (state?.active !== 1) return noop('nothing acknowledged in Nagios to release');
      next = { ref: null, active: 0, active_until: now };
      // A sticky acknowledgement ends by itself when the service is OK; a withdrawn or closed one is removed.
      commands = payload.reason === 'resolved' ? [] : removeAcknowledgementCommands(nagiosObjects(ctx.alerts, false));
    }
    const lines = commands.map((c) => commandLine(c, now));
    const where = this.options.commandFile ? `to ${this.options.commandFile}` : 'for the Nagios agent';
    return {
      describe: lines.length ? `${lines.length} external command(s) ${where}: ${lines.join(' | ')}` : 'no external command needed',
      run: async () => {
        if (lines.length === 0) return { state: next };
        if (!this.options.commandFile) return { state: next, commands: lines };
        await writeCommandFile(this.options.commandFile, lines);
        return { state: next };
      },
    };
  }
}

/**
 * Appends lines to Nagios' command file in one write (a FIFO takes a write of
 * up to PIPE_BUF bytes whole). Non-blocking: with no Nagios reading the FIFO
 * the open fails at once (ENXIO) instead of hanging the worker.
 */
export async function writeCommandFile(file: string, lines: readonly string[]): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(file, constants.O_WRONLY | constants.O_APPEND | constants.O_NONBLOCK);
    await handle.write(lines.map((l) => `${l}\n`).join(''));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code === 'EACCES' || code === 'EPERM' || code === 'EISDIR') throw new DeliveryError(`nagios command file ${file}: ${code}`, 'forbidden', false);
    // ENOENT/ENXIO: Nagios is not running (it makes the FIFO when it starts); EAGAIN: the FIFO is full.
    throw new DeliveryError(`nagios command file ${file}: ${code || (err as Error).message} (is Nagios running?)`, 'connection', true);
  } finally {
    await handle?.close();
  }
}
