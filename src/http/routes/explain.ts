import express, { type Request } from 'express';
import { z } from 'zod';
import type { Clock } from '../../clock';
import { invalid, malformed } from '../../errors';
import { explainAlerts } from '../../faults';
import type { RuleEngine } from '../../rules';
import { detectSource, mayHoldNul, SOURCE_NAMES, type SourceName, type Sources } from '../../sources';
import type { Store } from '../../store';
import { parseQuery } from './query';
import { viewer, type Registrar } from './registrar';

export interface ExplainRouteDeps {
  store: Store;
  sources: Sources;
  clock: Clock;
  rules: () => RuleEngine;
  maxBodyBytes: number;
}

const explainQuery = z.strictObject({ source: z.enum(SOURCE_NAMES).optional() });

/**
 * A payload's body as its source sends it. JSON is told by its content, not by
 * the Content-Type (`curl --data-binary` says form-encoded); a body that is
 * not JSON is read as a form only when it says it is one (Nagios commands).
 */
export function readPayload(req: Request, text: string): { body: unknown; form: boolean } {
  if (text.trim() === '') return { body: {}, form: false };
  try {
    return { body: JSON.parse(text) as unknown, form: false };
  } catch (err) {
    if (req.is('application/x-www-form-urlencoded') === 'application/x-www-form-urlencoded') {
      return { body: Object.fromEntries(new URLSearchParams(text)), form: true };
    }
    throw malformed(`body is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * The dry run of a payload's text, as POST /api/v1/explain and the console's
 * rule playground run it: the source is the one named, else told by the body.
 */
export async function explainPayload(deps: Omit<ExplainRouteDeps, 'maxBodyBytes'>, raw: string, options: { source?: SourceName; form: boolean; body: unknown }) {
  const source = options.source ?? (options.form ? 'nagios' : detectSource(options.body));
  if (!source) throw invalid('cannot tell the source of this payload: add ?source=alertmanager|zabbix|nagios|generic');
  const parsed = deps.sources[source].parse(options.body, deps.clock.now(), { nulFree: !mayHoldNul(raw) });
  if (!parsed.ok) throw invalid(`invalid ${source} payload`, parsed.errors);
  return { source, alerts: await explainAlerts(parsed.alerts, deps.rules(), deps.store, deps.clock.now()) };
}

/** What faultdesk would do with a payload, with no side effect. */
export function explainRoutes(routes: Registrar, deps: ExplainRouteDeps): void {
  const text = express.text({ limit: deps.maxBodyBytes, type: () => true });
  routes.post('/api/v1/explain', viewer, text, async (req, res) => {
    const q = parseQuery(explainQuery, req);
    const raw = typeof req.body === 'string' ? req.body : '';
    const { body, form } = readPayload(req, raw);
    res.json(await explainPayload(deps, raw, { source: q.source, form, body }));
  });
}
