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

/**
 * A numeric macro ($SERVICEPROBLEMID$, $TIMET$, ...): digits as text, as
 * command lines and forms send it, or a whole JSON number, as scripts that
 * write JSON send it unquoted. Either way the same text afterwards, so a
 * problem sent one way correlates with its recovery sent the other.
 */
function numericMacro(digits: RegExp, message: string) {
  return z
    .union([z.string(), z.number()], { error: message })
    .refine((v) => (typeof v === 'number' ? Number.isSafeInteger(v) && v >= 0 : digits.test(v)), { error: message })
    .transform(String)
    .optional();
}

const problemId = numericMacro(/^\d*$/, 'must be a problem id: a whole number, as text or a JSON number');
/** $SERVICEATTEMPT$ is informational: any text, or a whole JSON number. */
const attempt = numericMacro(/^/, 'must be a whole number, as text or a JSON number');
const text = z.string().optional();

/**
 * Other names a field may arrive under: the snake_case names of the macros
 * that scripts commonly use. A field's own name comes first; of the rest,
 * `service`/`host` names count only for that kind of notification (a script
 * may send $HOSTSTATETYPE$ with a service notification, where it means
 * something else).
 */
const ALIASES = {
  service_desc: { any: ['service_description'], service: [], host: [] },
  state_type: { any: [], service: ['service_state_type'], host: ['host_state_type'] },
  attempt: { any: [], service: ['service_attempt'], host: ['host_attempt'] },
  author: { any: ['notification_author'], service: ['service_ack_author'], host: ['host_ack_author'] },
  comment: { any: ['notification_comment'], service: ['service_ack_comment'], host: ['host_ack_comment'] },
} as const;

type AliasedField = keyof typeof ALIASES;

/** The names a field may arrive under, its own first. */
function namesOf(field: AliasedField, service: boolean): string[] {
  const alias = ALIASES[field];
  return [field, ...alias.any, ...(service ? alias.service : alias.host)];
}

const received = z.looseObject({
  notification_type: z.enum(NOTIFICATION_TYPES),
  host_name: z.string().min(1),
  host_address: text,
  host_state: text,
  host_output: text,
  long_host_output: text,
  host_problem_id: problemId,
  last_host_problem_id: problemId,
  service_desc: text,
  service_description: text,
  service_state: text,
  service_output: text,
  long_service_output: text,
  service_problem_id: problemId,
  last_service_problem_id: problemId,
  state_type: text,
  service_state_type: text,
  host_state_type: text,
  attempt,
  service_attempt: attempt,
  host_attempt: attempt,
  author: text,
  notification_author: text,
  service_ack_author: text,
  host_ack_author: text,
  comment: text,
  notification_comment: text,
  service_ack_comment: text,
  host_ack_comment: text,
  /** $TIMET$: Unix seconds. */
  timet: numericMacro(/^\d+$/, 'must be Unix seconds: a whole number, as text or a JSON number'),
  nagios_url: text,
});

type Received = z.infer<typeof received>;

/** One Nagios notification, every field under its own name. */
export interface NagiosPayload {
  notification_type: (typeof NOTIFICATION_TYPES)[number];
  host_name: string;
  host_address?: string;
  host_state?: string;
  host_output?: string;
  long_host_output?: string;
  host_problem_id?: string;
  last_host_problem_id?: string;
  service_desc?: string;
  service_state?: string;
  service_output?: string;
  long_service_output?: string;
  service_problem_id?: string;
  last_service_problem_id?: string;
  state_type?: string;
  attempt?: string;
  author?: string;
  comment?: string;
  timet?: string;
  nagios_url?: string;
}

function valueOf(p: Received, name: string): string | undefined {
  return (p as Record<string, string | undefined>)[name];
}

function isService(p: Received): boolean {
  return Boolean(p.service_desc || p.service_description);
}

/** The field's value: the first of its names that is set and not empty. */
function pick(p: Received, field: AliasedField): string | undefined {
  const names = namesOf(field, isService(p));
  const set = names.map((n) => valueOf(p, n)).filter((v) => v !== undefined);
  return set.find((v) => v !== '') ?? set[0];
}

/**
 * One Nagios notification, as faultdesk's notify commands send it (JSON or
 * form-encoded; config/integrations/nagios/) or as a script names the macros.
 * Macro names in lower case.
 */
export const nagiosPayload = received
  .superRefine((p, ctx) => {
    const service = isService(p);
    // Two names of one field with different values: the sender is confused, and so would we be.
    for (const field of Object.keys(ALIASES) as AliasedField[]) {
      const names = namesOf(field, service);
      const chosen = pick(p, field);
      const chosenName = names.find((n) => valueOf(p, n) === chosen);
      for (const name of names) {
        const value = valueOf(p, name);
        if (value && chosen && value !== chosen) {
          ctx.addIssue({ code: 'custom', path: [name], message: `conflicts with ${chosenName}: two names of one field with different values` });
        }
      }
    }
    const current = service ? p.service_problem_id : p.host_problem_id;
    const last = service ? p.last_service_problem_id : p.last_host_problem_id;
    if (!nonZero(current) && !nonZero(last)) {
      const field = service ? 'service_problem_id' : 'host_problem_id';
      ctx.addIssue({ code: 'custom', path: [field], message: `${field} or last_${field} must be a problem id other than 0` });
    }
  })
  .transform(
    (p): NagiosPayload => ({
      notification_type: p.notification_type,
      host_name: p.host_name,
      host_address: p.host_address,
      host_state: p.host_state,
      host_output: p.host_output,
      long_host_output: p.long_host_output,
      host_problem_id: p.host_problem_id,
      last_host_problem_id: p.last_host_problem_id,
      service_desc: pick(p, 'service_desc'),
      service_state: p.service_state,
      service_output: p.service_output,
      long_service_output: p.long_service_output,
      service_problem_id: p.service_problem_id,
      last_service_problem_id: p.last_service_problem_id,
      state_type: pick(p, 'state_type'),
      attempt: pick(p, 'attempt'),
      author: pick(p, 'author'),
      comment: pick(p, 'comment'),
      timet: p.timet,
      nagios_url: p.nagios_url,
    }),
  );

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
