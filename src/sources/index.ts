import type { z } from 'zod';
import type { Alert, SourceName } from './alert';
import { alertmanagerPayload, fromAlertmanager } from './alertmanager';
import { fromGeneric, genericPayload } from './generic';
import { fromNagios, nagiosPayload } from './nagios';
import { fromZabbix, zabbixPayload } from './zabbix';
import { findNul } from './labels';

export { SOURCE_NAMES, type Alert, type AlertNote, type SourceName } from './alert';
export { labelsFingerprint, mayHoldNul } from './labels';

export interface InvalidField {
  path: string;
  message: string;
}

export type ParseResult = { ok: true; alerts: Alert[] } | { ok: false; errors: InvalidField[] };

export interface ParseOptions {
  /** The raw body was seen to hold no NUL character (see mayHoldNul), so it need not be walked. */
  nulFree?: boolean;
}

/** A source: validates its payload and turns it into alerts. */
function adapter<S extends z.ZodType>(name: SourceName, schema: S, toAlerts: (p: z.infer<S>, at: number) => Alert[]) {
  return {
    name,
    /** Validates a payload; text holding NUL is refused whatever the field (no database stores it). */
    parse(body: unknown, receivedAt: number, options: ParseOptions = {}): ParseResult {
      const nul = options.nulFree ? undefined : findNul(body);
      if (nul !== undefined) return { ok: false, errors: [{ path: nul || '(body)', message: 'must not contain NUL characters' }] };
      const result = schema.safeParse(body);
      if (!result.success) {
        return {
          ok: false,
          errors: result.error.issues.map((issue) => ({
            path: issue.path.length ? issue.path.map(String).join('.') : '(body)',
            message: issue.message,
          })),
        };
      }
      return { ok: true, alerts: toAlerts(result.data, receivedAt) };
    },
  };
}

export type Source = ReturnType<typeof adapter>;
export type Sources = Record<SourceName, Source>;

/** Every source, wired explicitly: no self-registration. */
export function createSources(): Sources {
  return {
    alertmanager: adapter('alertmanager', alertmanagerPayload, fromAlertmanager),
    zabbix: adapter('zabbix', zabbixPayload, fromZabbix),
    nagios: adapter('nagios', nagiosPayload, fromNagios),
    generic: adapter('generic', genericPayload, fromGeneric),
  };
}

/** Which source a payload comes from, by its shape (for explain, where the caller may not say). */
export function detectSource(body: unknown): SourceName | undefined {
  if (Array.isArray(body)) return 'generic';
  if (!body || typeof body !== 'object') return undefined;
  const b = body as Record<string, unknown>;
  if ('alerts' in b && 'version' in b) return 'alertmanager';
  if ('event_id' in b) return 'zabbix';
  if ('notification_type' in b) return 'nagios';
  return undefined;
}
