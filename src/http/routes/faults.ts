import express from 'express';
import { z } from 'zod';
import { conflict, invalid, notFound } from '../../errors';
import type { FaultService, HumanEvent } from '../../faults';
import type { RepairTimeEstimates } from '../../estimate';
import type { SatisfactionService } from '../../feedback';
import type { RuleEngine } from '../../rules';
import type { Store } from '../../store';
import { faultDetailJson, faultJson, writebackJson } from '../views';
import { parseBody, parseQuery } from './query';
import { admin, viewer, type Registrar } from './registrar';

export interface FaultRouteDeps {
  store: Store;
  faults: FaultService;
  /** The configured support tiers, in order (empty without tiers); a reload may change them. */
  tiers: () => readonly string[];
  rules: () => RuleEngine;
  estimates: RepairTimeEstimates;
  satisfaction: SatisfactionService;
}

const listQuery = z.strictObject({
  state: z.enum(['open', 'flapping', 'resolved']).optional(),
  category: z.string().optional(),
  tier: z.string().min(1).optional(),
  acknowledged: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});

const ratingBody = z.strictObject({ score: z.number().min(1).max(10), comment: z.string().max(10_000).optional() });
/** Who did it, when the credentials do not say (a shared admin token): shown on the timeline. */
const by = z.string().trim().min(1).max(200).optional();
const resolveBody = z.strictObject({ reason: z.string().trim().min(1).max(2_000), by });
const text = z.string().trim().min(1).max(10_000);
/** The on-call actions of the human loop, for faults whose tickets are local or anywhere else. */
const actionBodies = {
  ack: z.strictObject({ by, text: text.optional() }),
  unack: z.strictObject({ by, text: text.optional() }),
  comment: z.strictObject({ by, text }),
  close: z.strictObject({ by, code: z.string().trim().min(1).max(200).optional(), text: text.optional() }),
  assign: z.strictObject({ by, tier: z.string().trim().min(1).max(100) }),
} as const;
type Action = keyof typeof actionBodies;
const VIAS = new Set(['cli', 'console']);

/** Where a person's action came from, for the timeline: the CLI and the console say so; anything else is the API. */
function viaOf(req: express.Request): string {
  const said = req.get('X-Faultdesk-Via') ?? '';
  return VIAS.has(said) ? said : 'api';
}

/** Faults, their repair-time estimates and satisfaction ratings. */
export function faultRoutes(routes: Registrar, deps: FaultRouteDeps, jsonBody: express.RequestHandler): void {
  const { store } = deps;

  routes.get('/api/v1/faults', viewer, async (req, res) => {
    const q = parseQuery(listQuery, req);
    const rows = await store.repos.faults.list(q);
    res.json({ faults: rows.map(faultJson) });
  });

  routes.get('/api/v1/faults/:id', viewer, async (req, res) => {
    const fault = await store.repos.faults.get(String(req.params.id));
    if (!fault) throw notFound(`fault ${req.params.id}`);
    const [alerts, ops, writebacks] = await Promise.all([
      store.repos.alerts.listByFault(fault.id),
      store.repos.outbox.listByFault(fault.id),
      store.repos.writebacks.listByFault(fault.id),
    ]);
    res.json({ ...faultDetailJson(fault, alerts, ops), writeback: writebacks.map(writebackJson) });
  });

  // Configured and fitted repair-time models side by side.
  routes.get('/api/v1/estimates', viewer, (_req, res) => {
    const engine = deps.rules();
    const fits = new Map(deps.estimates.all().map((f) => [f.category, f]));
    const categories = [...engine.categories, engine.rules.fallback];
    const names = new Set([...categories.map((c) => c.name), ...fits.keys()]);
    res.json({
      estimates: [...names].map((name) => {
        const c = engine.category(name);
        const fit = fits.get(name);
        return {
          category: name,
          configured: c ? { a: c.repairTime.a, b: c.repairTime.b } : null,
          fitted: fit ? { a: round(fit.a), b: round(fit.b), samples: fit.samples, rmseHours: round(fit.rmseHours), fittedAt: new Date(fit.fittedAt).toISOString() } : null,
          inUse: fit ? 'fitted' : 'configured',
        };
      }),
    });
  });

  routes.post('/api/v1/faults/:id/satisfaction', admin, jsonBody, async (req, res) => {
    const body = parseBody(ratingBody, req.body, 'rating');
    await deps.satisfaction.record(String(req.params.id), body.score, body.comment);
    res.status(201).json({ status: 'success' });
  });

  // A fault whose source will never send the recovery (Nagios does not retry a failed notification).
  routes.post('/api/v1/faults/:id/resolve', admin, jsonBody, async (req, res) => {
    const id = String(req.params.id);
    await runFaultAction(deps, id, 'resolve', req.body ?? {}, { name: res.locals.principal?.name, via: viaOf(req) });
    res.json({ status: 'success', fault: faultJson((await store.repos.faults.get(id))!) });
  });

  for (const action of Object.keys(actionBodies) as Action[]) {
    routes.post(`/api/v1/faults/:id/${action}`, admin, jsonBody, async (req, res) => {
      const id = String(req.params.id);
      await runFaultAction(deps, id, action, req.body ?? {}, { name: res.locals.principal?.name, via: viaOf(req) });
      res.json({ status: 'success', fault: faultJson((await store.repos.faults.get(id))!) });
    });
  }

  routes.get('/api/v1/satisfaction', viewer, async (_req, res) => {
    res.json(await deps.satisfaction.summary());
  });
}

export type FaultAction = Action | 'resolve';
export const FAULT_ACTIONS: readonly FaultAction[] = [...(Object.keys(actionBodies) as Action[]), 'resolve'];

/**
 * One action of the human loop on a fault, as the API and the console take it:
 * the body checked (400 with field paths), then the event run through the
 * FaultService. `name` is who the credentials say the caller is.
 */
export async function runFaultAction(
  deps: Pick<FaultRouteDeps, 'store' | 'faults' | 'tiers'>,
  id: string,
  action: FaultAction,
  input: unknown,
  caller: { name: string | undefined; via: string },
): Promise<void> {
  if (action === 'resolve') {
    const body = parseBody(resolveBody, input);
    const fault = await deps.store.repos.faults.get(id);
    if (!fault) throw notFound(`fault ${id}`);
    if (fault.state === 'resolved') throw conflict(`fault ${id} is already resolved`);
    await deps.faults.resolveByHand(id, { by: body.by ?? caller.name ?? 'anonymous', via: caller.via }, body.reason);
    return;
  }
  const body = parseBody(actionBodies[action] as z.ZodType<{ by?: string; text?: string; code?: string; tier?: string }>, input);
  const actor = { by: body.by ?? caller.name ?? 'anonymous', via: caller.via };
  const tiers = deps.tiers();
  if (action === 'assign' && !tiers.includes(body.tier as string)) {
    throw invalid('invalid body', [{ path: 'tier', message: tiers.length ? `must be one of the tiers: ${tiers.join(', ')}` : 'no tiers are configured' }]);
  }
  const event = ((): HumanEvent => {
    switch (action) {
      case 'ack':
        return { type: 'acknowledge', ...actor, ...(body.text ? { text: body.text } : {}) };
      case 'unack':
        return { type: 'unacknowledge', ...actor, ...(body.text ? { text: body.text } : {}) };
      case 'comment':
        return { type: 'comment', ...actor, text: body.text as string };
      case 'close':
        return { type: 'close', ...actor, ...(body.code ? { code: body.code } : {}), ...(body.text ? { text: body.text } : {}) };
      case 'assign':
        return { type: 'assign', ...actor, tier: body.tier as string };
    }
  })();
  await deps.faults.act(id, async () => event);
}

function round(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}
