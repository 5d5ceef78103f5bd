import type { z } from 'zod';
import type { Alert, SourceName } from './alert';
import { alertmanagerPayload, fromAlertmanager } from './alertmanager';

export type { Alert, SourceName } from './alert';

export interface InvalidField {
  path: string;
  message: string;
}

export type ParseResult = { ok: true; alerts: Alert[] } | { ok: false; errors: InvalidField[] };

/** A source: validates its payload and turns it into alerts. */
function adapter<S extends z.ZodType>(name: SourceName, schema: S, toAlerts: (p: z.infer<S>, at: number) => Alert[]) {
  return {
    name,
    parse(body: unknown, receivedAt: number): ParseResult {
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

/** Every source, wired explicitly: no self-registration. */
export function createSources(): Record<'alertmanager', Source> {
  return {
    alertmanager: adapter('alertmanager', alertmanagerPayload, fromAlertmanager),
  };
}
