import type { RequestListener } from 'node:http';
import express, { type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { detectSource, mayHoldNul, type SourceName } from '../sources';
import type { RuleEngine } from '../rules';
import type { ReloadResult } from '../reload';
import type { RepairTimeEstimates } from '../estimate';
import { UnknownFaultError, type SatisfactionService } from '../feedback';
import { explainAlerts } from '../faults';
import type { Store } from '../store';
import { requireCredentials } from './auth';
import { badRequest, errorHandler, notFound } from './errors';
import { createFastIngestRoute, createIngest, type Ingest, type IngestDeps } from './ingest';
import { faultDetailJson, faultJson, operationJson, ticketJson } from './views';

export interface AppDeps extends IngestDeps {
  store: Store;
  /** Called after parked operations were put back in line. */
  onRetry?: () => void;
  rules: () => RuleEngine;
  reload: () => Promise<ReloadResult>;
  estimates: RepairTimeEstimates;
  satisfaction: SatisfactionService;
}

const listQuery = z.strictObject({
  state: z.enum(['open', 'flapping', 'resolved']).optional(),
  category: z.string().optional(),
  status: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});

function parseQuery(req: Request) {
  const parsed = listQuery.safeParse(req.query);
  if (!parsed.success) {
    throw badRequest(
      'invalid query',
      parsed.error.issues.map((i) => ({ path: i.path.join('.') || i.code, message: i.message })),
    );
  }
  return parsed.data;
}

/** The daemon's HTTP handler: the fast webhook route, and Express for everything else. */
export function createHandler(deps: AppDeps): RequestListener {
  const ingest = createIngest(deps);
  const app = createApp(deps, ingest);
  const fast = createFastIngestRoute(deps, ingest);
  return (req, res) => {
    if (fast.handles(req)) fast.handle(req, res);
    else app(req, res);
  };
}

export function createApp(deps: AppDeps, ingest: Ingest = createIngest(deps)): express.Express {
  const { config, store, sources, metrics, logger, clock } = deps;
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

  const limit = config.http.max_body_bytes;
  const isForm = (req: Request) => req.is('application/x-www-form-urlencoded') === 'application/x-www-form-urlencoded';
  // JSON whatever the Content-Type (curl -d says form-encoded by default), except for
  // Nagios, whose notify commands send form fields so that plugin output needs no escaping.
  // JSON escapes every NUL as \u0000: a UTF-8 body without that text has none, and needs no walk.
  const nulFree = new WeakSet<object>();
  const verify = (req: object, _res: unknown, buf: Buffer, encoding: string) => {
    if (encoding === 'utf-8' && !mayHoldNul(buf)) nulFree.add(req);
  };
  const jsonBody = express.json({ limit, type: () => true, strict: false, verify });
  const jsonUnlessForm = express.json({ limit, type: (req) => !isForm(req as Request), strict: false, verify });
  const formBody = express.urlencoded({ limit, extended: false, type: (req) => isForm(req as Request), parameterLimit: 200 });

  const admin = requireCredentials(config.auth.admin, 'faultdesk admin');

  // The JSON sources' webhooks are usually answered by the fast route (./ingest); these routes take the rest.
  const ingestRoute = (name: SourceName): RequestHandler[] => [
    requireCredentials(config.auth.sources[name], `faultdesk ${name}`),
    ...(name === 'nagios' ? [formBody, jsonUnlessForm] : [jsonBody]),
    async (req: Request, res: Response) => {
      res.status(200).json({ status: 'success', ...(await ingest(name, req.body, nulFree.has(req))) });
    },
  ];
  for (const name of ['alertmanager', 'zabbix', 'nagios', 'generic'] as const) app.post(`/api/v1/alerts/${name}`, ...ingestRoute(name));

  // What would happen to these alerts, with no side effect.
  const explainQuery = z.strictObject({ source: z.enum(['alertmanager', 'zabbix', 'nagios', 'generic']).optional() });
  app.post('/api/v1/explain', formBody, jsonUnlessForm, async (req, res) => {
    const q = explainQuery.safeParse(req.query);
    if (!q.success) throw badRequest('invalid query', q.error.issues.map((i) => ({ path: i.path.join('.') || i.code, message: i.message })));
    const source = q.data.source ?? (isForm(req) ? 'nagios' : detectSource(req.body));
    if (!source) throw badRequest('cannot tell the source of this payload: add ?source=alertmanager|zabbix|nagios|generic');
    const parsed = sources[source].parse(req.body, clock.now(), { nulFree: nulFree.has(req) });
    if (!parsed.ok) throw badRequest(`invalid ${source} payload`, parsed.errors);
    res.json({ source, alerts: await explainAlerts(parsed.alerts, deps.rules(), store, clock.now()) });
  });

  app.get('/api/v1/faults', async (req, res) => {
    const q = parseQuery(req);
    const rows = await store.repos.faults.list({ state: q.state, category: q.category, limit: q.limit, offset: q.offset });
    res.json({ faults: rows.map(faultJson) });
  });

  app.get('/api/v1/faults/:id', async (req, res) => {
    const fault = await store.repos.faults.get(String(req.params.id));
    if (!fault) throw notFound(`fault ${req.params.id}`);
    const [alerts, ops] = await Promise.all([store.repos.alerts.listByFault(fault.id), store.repos.outbox.listByFault(fault.id)]);
    res.json(faultDetailJson(fault, alerts, ops));
  });

  // Configured and fitted repair-time models side by side.
  app.get('/api/v1/estimates', (_req, res) => {
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

  const ratingBody = z.strictObject({ score: z.number().min(1).max(10), comment: z.string().max(10_000).optional() });
  app.post('/api/v1/faults/:id/satisfaction', jsonBody, async (req, res) => {
    const body = ratingBody.safeParse(req.body);
    if (!body.success) throw badRequest('invalid rating', body.error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message })));
    try {
      await deps.satisfaction.record(String(req.params.id), body.data.score, body.data.comment);
    } catch (err) {
      if (err instanceof UnknownFaultError) throw notFound(`fault ${req.params.id}`);
      throw err;
    }
    res.status(201).json({ status: 'success' });
  });
  app.get('/api/v1/satisfaction', async (_req, res) => {
    res.json(await deps.satisfaction.summary());
  });

  app.get('/api/v1/tickets', async (req, res) => {
    const q = parseQuery(req);
    const { tickets, comments, attachments } = await store.repos.localTickets.list({ status: q.status, limit: q.limit, offset: q.offset });
    res.json({ tickets: tickets.map((t) => ticketJson(t, comments, attachments)) });
  });

  app.get('/api/v1/tickets/:id/attachments/:attachment', async (req, res) => {
    const a = await store.repos.localTickets.attachment(Number(req.params.attachment));
    if (!a || String(a.ticket_id) !== req.params.id) throw notFound('attachment');
    res.type(a.content_type).set('Content-Disposition', `inline; filename="${a.filename}"`).send(a.content);
  });

  // Operators' view of the outbox, and the way to send parked operations again once the cause is fixed.
  const outboxQuery = z.strictObject({
    state: z.enum(['pending', 'running', 'parked', 'done']).optional(),
    system: z.string().optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    offset: z.coerce.number().int().min(0).default(0),
  });
  app.get('/api/v1/outbox', admin, async (req, res) => {
    const q = outboxQuery.safeParse(req.query);
    if (!q.success) throw badRequest('invalid query', q.error.issues.map((i) => ({ path: i.path.join('.') || i.code, message: i.message })));
    const rows = await store.repos.outbox.list(q.data);
    res.json({ operations: rows.map(operationJson) });
  });
  const retryBody = z.strictObject({ ids: z.array(z.number().int().positive()).optional(), faultId: z.string().min(1).optional() });
  app.post('/api/v1/outbox/retry', admin, express.json({ limit: 65_536, type: () => true }), async (req, res) => {
    const body = retryBody.safeParse(req.body ?? {});
    if (!body.success) throw badRequest('invalid body', body.error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message })));
    const retried = await store.repos.outbox.retryParked(clock.now(), body.data);
    logger.info('parked operations sent again', { retried, ids: body.data.ids, fault: body.data.faultId });
    deps.onRetry?.();
    res.json({ status: 'success', retried });
  });

  app.post('/-/reload', admin, async (_req, res) => {
    const result = await deps.reload();
    if (result.ok) res.json({ status: 'success', files: result.files, categories: result.categories });
    else res.status(500).json({ status: 'error', error: result.error, errors: result.problems });
  });

  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.get('/-/healthy', (_req, res) => {
    res.type('text/plain').send('OK\n');
  });
  app.get('/-/ready', async (_req, res) => {
    const ready = deps.isReady() && (await store.ping());
    res.status(ready ? 200 : 503).type('text/plain').send(ready ? 'OK\n' : 'not ready\n');
  });

  app.use((req, _res, next) => next(notFound(`route ${req.method} ${req.path}`)));
  app.use(errorHandler(logger));
  return app;
}

function round(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}
