import express from 'express';
import type { Clock } from '../../clock';
import { AppError, invalid, malformed, unavailable } from '../../errors';
import type { FaultService, TicketEventOutcome } from '../../faults';
import type { InboundRejection, Metrics } from '../../metrics';
import { parseServiceNowWebhook } from '../../tickets/inbound/servicenow';
import { verifySignature } from '../../tickets/inbound/signature';
import type { TicketEvent } from '../../tickets/inbound/types';
import { parseZendeskWebhook, type Parsed } from '../../tickets/inbound/zendesk';
import type { Registrar } from './registrar';

type System = TicketEvent['system'];

/** How a system's webhooks are checked; absent: the system is not listened to. */
export interface InboundKeys {
  /** The HMAC key's bytes. */
  key: Buffer;
  replayWindowMs: number;
}

export interface InboundRouteDeps {
  faults: FaultService;
  metrics: Pick<Metrics, 'inboundRejected' | 'inboundChanges'>;
  clock: Clock;
  /** Read at each request: a reload may change the secrets. */
  inbound: () => Partial<Record<System, InboundKeys>>;
  maxBodyBytes: number;
  /** Called before a system's changes are applied (learns faultdesk's own user there); never throws. */
  prepare?: (system: System) => Promise<void>;
}

interface SystemWebhook {
  system: System;
  signatureHeader: string;
  timestampHeader: string;
  /** The header that names one delivery (its retries carry the same), if the system sends one. */
  deliveryHeader?: string;
  parse(body: unknown): Parsed;
}

const WEBHOOKS: readonly SystemWebhook[] = [
  {
    system: 'zendesk',
    signatureHeader: 'X-Zendesk-Webhook-Signature',
    timestampHeader: 'X-Zendesk-Webhook-Signature-Timestamp',
    deliveryHeader: 'X-Zendesk-Webhook-Invocation-Id',
    parse: parseZendeskWebhook,
  },
  {
    system: 'servicenow',
    signatureHeader: 'X-Faultdesk-Signature',
    timestampHeader: 'X-Faultdesk-Timestamp',
    parse: parseServiceNowWebhook,
  },
];

/**
 * The ticket systems' webhooks (the human loop): a request is checked in this order, and a refused
 * one stores nothing and is counted by its reason: the signature over the raw body (401), the
 * timestamp within the replay window (401), the JSON (400), its fields (400, with their paths).
 * A delivery heard before (its invocation id) and a change heard before (its change id) are
 * answered 200 and change nothing.
 */
export function inboundRoutes(routes: Registrar, deps: InboundRouteDeps): void {
  const parseRaw = express.raw({ type: () => true, limit: deps.maxBodyBytes });
  for (const hook of WEBHOOKS) {
    // A body too large (or cut off) is refused before the route: counted here too.
    const rawBody: express.RequestHandler = (req, res, next) =>
      parseRaw(req, res, (err?: unknown) => {
        if (err) deps.metrics.inboundRejected.inc({ system: hook.system, reason: (err as { type?: string }).type === 'entity.too.large' ? 'too_large' : 'malformed' });
        next(err);
      });
    const refuse = (reason: InboundRejection, error: AppError): never => {
      deps.metrics.inboundRejected.inc({ system: hook.system, reason });
      throw error;
    };
    routes.post(`/api/v1/tickets/${hook.system}/events`, { kind: 'signed', system: hook.system }, rawBody, async (req, res) => {
      const keys = deps.inbound()[hook.system];
      if (!keys) refuse('not_configured', new AppError('unauthorized', `faultdesk does not listen to ${hook.system}: set tickets.${hook.system}.inbound.secret`));
      const { key, replayWindowMs } = keys as InboundKeys;
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const failure = verifySignature({
        key,
        signature: req.get(hook.signatureHeader),
        timestamp: req.get(hook.timestampHeader),
        raw,
        now: deps.clock.now(),
        windowMs: replayWindowMs,
      });
      if (failure === 'missing_signature') refuse(failure, new AppError('unauthorized', `missing ${hook.signatureHeader} or ${hook.timestampHeader}`));
      if (failure === 'bad_signature') refuse(failure, new AppError('unauthorized', `${hook.signatureHeader} does not match the body`));
      if (failure === 'stale') refuse(failure, new AppError('unauthorized', `${hook.timestampHeader} is outside the replay window`));
      let body: unknown;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch (err) {
        refuse('malformed', malformed(`body is not valid JSON: ${(err as Error).message}`));
      }
      const parsed = hook.parse(body);
      if (!parsed.ok) refuse('invalid', invalid(`invalid ${hook.system} event`, parsed.errors));
      const { events } = parsed as Extract<Parsed, { ok: true }>;
      const delivery = hook.deliveryHeader ? req.get(hook.deliveryHeader)?.trim().slice(0, 200) : undefined;
      if (events.length > 0) await deps.prepare?.(hook.system);
      let outcomes: TicketEventOutcome[];
      try {
        outcomes = await deps.faults.onTicketEvents(events, delivery ? { deliveryKey: `${hook.system}:delivery:${delivery}` } : {});
      } catch (err) {
        // Nothing was committed; the ticket system delivers again (Zendesk retries a non-2xx).
        throw unavailable('the change could not be stored; retry later', err);
      }
      for (const outcome of outcomes) deps.metrics.inboundChanges.inc({ system: hook.system, via: 'webhook', outcome });
      res.json({ status: 'success', changes: outcomes });
    });
  }
}
