import { z } from 'zod';
import type { Alert, AlertNote } from './alert';

const NOTIFICATION_TYPES = [
  'PROBLEM',
  'RECOVERY',
  'ACKNOWLEDGEMENT',
  'FLAPPINGSTART',
  'FLAPPINGSTOP',
  'FLAPPINGDISABLED',
  'DOWNTIMESTART',
  'DOWNTIMEEND',
  'DOWNTIMECANCELLED',
  'CUSTOM',
] as const;

const problemId = z.string().regex(/^\d*$/, 'must be a number').optional();

/**
 * One Nagios notification, as faultdesk's notify commands send it (JSON or
 * form-encoded; config/integrations/nagios/). Macro names in lower case.
 */
export const nagiosPayload = z
  .looseObject({
    notification_type: z.enum(NOTIFICATION_TYPES),
    host_name: z.string().min(1),
    host_address: z.string().optional(),
    host_state: z.string().optional(),
    host_output: z.string().optional(),
    long_host_output: z.string().optional(),
    host_problem_id: problemId,
    last_host_problem_id: problemId,
    service_desc: z.string().optional(),
    service_state: z.string().optional(),
    service_output: z.string().optional(),
    long_service_output: z.string().optional(),
    service_problem_id: problemId,
    last_service_problem_id: problemId,
    state_type: z.string().optional(),
    attempt: z.string().optional(),
    author: z.string().optional(),
    comment: z.string().optional(),
    /** $TIMET$: Unix seconds. */
    timet: z.string().regex(/^\d+$/, 'must be Unix seconds').optional(),
    nagios_url: z.string().optional(),
  })
  .superRefine((p, ctx) => {
    const service = Boolean(p.service_desc);
    const current = service ? p.service_problem_id : p.host_problem_id;
    const last = service ? p.last_service_problem_id : p.last_host_problem_id;
    if (!nonZero(current) && !nonZero(last)) {
      const field = service ? 'service_problem_id' : 'host_problem_id';
      ctx.addIssue({ code: 'custom', path: [field], message: `${field} or last_${field} must be a problem id other than 0` });
    }
  });

export type NagiosPayload = z.infer<typeof nagiosPayload>;

function nonZero(id: string | undefined): id is string {
  return id !== undefined && id !== '' && id !== '0';
}

/**
 * Nagios gives a problem an id when a host or service leaves OK/UP and keeps it
 * until recovery. The documentation says a RECOVERY carries it in the "last"
 * macro; Nagios 4.4.6 sends it in the current one, with "last" 0 (see
 * test/e2e/nagios.test.ts). Take the current id when set, else the last one.
 */
function problemIdOf(p: NagiosPayload): string {
  const service = Boolean(p.service_desc);
  const current = service ? p.service_problem_id : p.host_problem_id;
  const last = service ? p.last_service_problem_id : p.last_host_problem_id;
  return nonZero(current) ? current : (last as string);
}

export function fromNagios(p: NagiosPayload, receivedAt: number): Alert[] {
  const service = p.service_desc || undefined;
  const state = (service ? p.service_state : p.host_state) ?? '';
  const labels: Record<string, string> = { monitor: 'nagios', alertname: service ?? 'HOST', host: p.host_name };
  if (service) labels.service = service;
  const okState = state === '' || state === 'OK' || state === 'UP';
  if (!okState) labels.severity = state.toLowerCase();
  const output = service ? p.service_output : p.host_output;
  const longOutput = unescapeLongOutput(service ? p.long_service_output : p.long_host_output);
  // Plugins start their output with their name and the state ("DISK CRITICAL - ..."): a label rules can match.
  const plugin = /^([A-Za-z][A-Za-z0-9_]*)\s+(OK|WARNING|CRITICAL|UNKNOWN)\b/.exec(output ?? '')?.[1];
  if (plugin) labels.plugin = plugin.toLowerCase();
  const annotations: Record<string, string> = {};
  if (output) annotations.summary = `${service ? `${service} on ` : ''}${p.host_name} is ${state}: ${output}`;
  if (output) annotations.output = output;
  if (longOutput) annotations.long_output = longOutput;
  if (p.host_address) annotations.address = p.host_address;
  const at = p.timet ? Number(p.timet) * 1000 : receivedAt;
  const type = p.notification_type;
  const by = p.author ? ` by ${p.author}` : '';
  const said = p.comment ? `: ${p.comment}` : '';
  let note: AlertNote | undefined;
  if (type === 'ACKNOWLEDGEMENT') note = { kind: 'comment', text: `Acknowledged in Nagios${by}${said}` };
  else if (type === 'CUSTOM') note = { kind: 'comment', text: `Nagios custom notification${by}${said}` };
  else if (type === 'FLAPPINGSTART') note = { kind: 'flapping_start', text: 'Nagios reports that it is flapping.' };
  else if (type === 'FLAPPINGSTOP' || type === 'FLAPPINGDISABLED')
    note = { kind: 'flapping_stop', text: type === 'FLAPPINGSTOP' ? 'Nagios reports that it stopped flapping.' : 'Nagios flap detection was disabled.' };
  else if (type === 'DOWNTIMESTART') note = { kind: 'mute', text: `Scheduled downtime started in Nagios${by}${said}` };
  else if (type === 'DOWNTIMEEND' || type === 'DOWNTIMECANCELLED')
    note = { kind: 'unmute', text: `Scheduled downtime ${type === 'DOWNTIMEEND' ? 'ended' : 'was cancelled'} in Nagios.` };
  const link = p.nagios_url
    ? `${p.nagios_url.replace(/\/+$/, '')}/cgi-bin/extinfo.cgi?type=${service ? 2 : 1}&host=${encodeURIComponent(p.host_name)}${service ? `&service=${encodeURIComponent(service)}` : ''}`
    : undefined;
  return [
    {
      source: 'nagios',
      sourceId: `${p.host_name}/${service ?? ''}#${problemIdOf(p)}`,
      status: type === 'RECOVERY' || (note === undefined && okState) ? 'resolved' : 'firing',
      labels,
      annotations,
      startsAt: at,
      endsAt: type === 'RECOVERY' ? at : undefined,
      generatorURL: link,
      receivedAt,
      note,
    },
  ];
}

/** Nagios hands long output over with newlines as "\\n" and backslashes as "\\\\". */
function unescapeLongOutput(text: string | undefined): string | undefined {
  return text?.replace(/\\([\\n])/g, (_m, ch: string) => (ch === 'n' ? '\n' : '\\'));
}
