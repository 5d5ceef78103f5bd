import express from 'express';
import { z } from 'zod';
import type { Clock } from '../../clock';
import type { Logger } from '../../log';
import type { Store } from '../../store';
import { operationJson } from '../views';
import { parseBody, parseQuery } from './query';
import { admin, viewer, type Registrar } from './registrar';

export interface OutboxRouteDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Called after parked operations were put back in line. */
  onRetry?: () => void;
}

const listQuery = z.strictObject({
  state: z.enum(['pending', 'running', 'parked', 'done']).optional(),
  system: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});
const retryBody = z.strictObject({ ids: z.array(z.number().int().positive()).optional(), faultId: z.string().min(1).optional() });

/** Operators' view of the outbox, and the way to send parked operations again once the cause is fixed. */
export function outboxRoutes(routes: Registrar, deps: OutboxRouteDeps): void {
  const { store, clock, logger } = deps;
  routes.get('/api/v1/outbox', viewer, async (req, res) => {
    const rows = await store.repos.outbox.list(parseQuery(listQuery, req));
    res.json({ operations: rows.map(operationJson) });
  });

  routes.post('/api/v1/outbox/retry', admin, express.json({ limit: 65_536, type: () => true }), async (req, res) => {
    const body = parseBody(retryBody, req.body ?? {});
    const retried = await store.repos.outbox.retryParked(clock.now(), body);
    logger.info('parked operations sent again', { retried, ids: body.ids, fault: body.faultId, by: res.locals.principal?.name });
    deps.onRetry?.();
    res.json({ status: 'success', retried });
  });
}
