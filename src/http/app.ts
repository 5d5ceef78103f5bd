import type { RequestListener } from 'node:http';
import express from 'express';
import type { RuleEngine } from '../rules';
import type { ReloadResult } from '../reload';
import type { RepairTimeEstimates } from '../estimate';
import type { SatisfactionService } from '../feedback';
import type { Store } from '../store';
import { consoleRoutes, ConsoleSessions } from '../console';
import { errorHandler, notFound } from './errors';
import { createFastIngestRoute, createIngest, type Ingest, type IngestDeps } from './ingest';
import { alertRoutes } from './routes/alerts';
import { explainRoutes } from './routes/explain';
import { faultRoutes } from './routes/faults';
import { inboundRoutes, type InboundKeys } from './routes/inbound';
import { outboxRoutes } from './routes/outbox';
import { createRegistrar, type RouteEntry } from './routes/registrar';
import { systemRoutes } from './routes/system';
import { ticketRoutes } from './routes/tickets';
import { writebackRoutes } from './routes/writeback';

export interface AppDeps extends IngestDeps {
  store: Store;
  /** Called after parked operations were put back in line. */
  onRetry?: () => void;
  rules: () => RuleEngine;
  reload: () => Promise<ReloadResult>;
  estimates: RepairTimeEstimates;
  satisfaction: SatisfactionService;
  /** The configured support tiers, in order (empty without tiers); a reload may change them. */
  tiers: () => readonly string[];
  /** The keys ticket systems sign their webhooks with (absent for a system: it is not listened to). */
  inbound?: () => Partial<Record<'zendesk' | 'servicenow', InboundKeys>>;
  /** Called before a ticket system's changes are applied (see InboundRouteDeps.prepare). */
  inboundPrepare?: (system: 'zendesk' | 'servicenow') => Promise<void>;
  /** Serve the Nagios write-back agent's routes (writeback.nagios.agent_token is set). */
  nagiosAgent?: boolean;
  /** The console's sessions (their lookup also goes to AccessControl); made here when not given. */
  sessions?: ConsoleSessions;
  /** The window repair-time fits take their samples from (the console draws them); 90 days when not given. */
  estimateWindowMs?: number;
}

/** The daemon's HTTP handler: the fast webhook route, and Express for everything else (its app and route table, for checks). */
export function createHandler(deps: AppDeps): { handler: RequestListener; app: express.Express; routes: RouteEntry[] } {
  const ingest = createIngest(deps);
  const { app, routes } = createApp(deps, ingest);
  const fast = createFastIngestRoute(deps, ingest);
  const handler: RequestListener = (req, res) => {
    if (fast.handles(req)) fast.handle(req, res);
    else app(req, res);
  };
  return { handler, app, routes };
}

export function createApp(deps: AppDeps, ingest: Ingest = createIngest(deps)): { app: express.Express; routes: RouteEntry[] } {
  const { config, metrics, logger } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  app.use((req, res, next) => {
    // While stopping, tell clients not to reuse the connection.
    if (!deps.isReady()) res.set('Connection', 'close');
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = req.route ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      metrics.httpDuration.observe({ method: req.method, route, code: String(res.statusCode) }, seconds);
      if (logger.isLevelEnabled('debug')) logger.debug('request', { method: req.method, route, status: res.statusCode, ms: Math.round(seconds * 1e4) / 10 });
    });
    next();
  });

  const routes = createRegistrar(app, deps.access);
  const jsonBody = express.json({ limit: config.http.max_body_bytes, type: () => true, strict: false });
  alertRoutes(routes, deps, ingest);
  explainRoutes(routes, { ...deps, maxBodyBytes: config.http.max_body_bytes });
  faultRoutes(routes, deps, jsonBody);
  inboundRoutes(routes, { ...deps, inbound: deps.inbound ?? (() => ({})), maxBodyBytes: config.http.max_body_bytes, prepare: deps.inboundPrepare });
  ticketRoutes(routes, deps.store, deps.rules);
  outboxRoutes(routes, deps);
  systemRoutes(routes, deps);
  // The Nagios agent's routes exist only when the config has it fetch commands (writeback.nagios.agent_token).
  if (deps.nagiosAgent) writebackRoutes(routes, deps);
  const consoleErrors = consoleRoutes(routes, {
    ...deps,
    sessions: deps.sessions ?? new ConsoleSessions(config.auth),
    estimateWindowMs: deps.estimateWindowMs ?? 90 * 86_400_000,
    maxBodyBytes: config.http.max_body_bytes,
  });
  app.use(consoleErrors);

  app.use((req, _res, next) => next(notFound(`route ${req.method} ${req.path}`)));
  app.use(errorHandler(logger));
  return { app, routes: routes.table };
}
