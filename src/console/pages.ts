import { z } from 'zod';
import type { Clock } from '../clock';
import { AppError, invalid, issueFields, notFound } from '../errors';
import { repairTimeHours, type RepairTimeEstimates } from '../estimate';
import { formatTime, type Explanation } from '../faults';
import type { SatisfactionService } from '../feedback';
import { explainPayload } from '../http/routes/explain';
import { sendAttachment } from '../http/routes/tickets';
import { admin, viewer, type Registrar } from '../http/routes/registrar';
import type { Logger } from '../log';
import type { RuleEngine } from '../rules';
import { SOURCE_NAMES, type SourceName, type Sources } from '../sources';
import type { Store } from '../store';
import { markdownToHtml } from '../tickets/markdown';
import { faultRowView, formFields, operationView, PAGE_SIZE } from './faults';
import type { PageKit } from './index';

export interface OtherPageDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  sources: Sources;
  rules: () => RuleEngine;
  estimates: RepairTimeEstimates;
  satisfaction: SatisfactionService;
  /** The window the repair-time fits take their samples from. */
  estimateWindowMs: number;
  /** Called after parked operations were put back in line. */
  onRetry?: () => void;
  tiers: () => readonly string[];
}

const ticketQuery = z.strictObject({ status: z.string().max(50).optional(), page: z.coerce.number().int().min(1).max(100_000).default(1) });
const outboxQuery = z.strictObject({ system: z.string().max(100).optional(), done: z.coerce.number().int().min(0).optional() });
const WEEK = 7 * 86_400_000;
const SATISFACTION_WEEKS = 8;
/** Samples drawn per category: a plot of more shows nothing new. */
const MAX_POINTS = 1_000;

function parse<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalid('invalid query', issueFields(parsed.error.issues, '(query)'));
  return parsed.data;
}

/** Local tickets, the outbox, the rule playground, estimates and satisfaction. */
export function otherPages(routes: Registrar, deps: OtherPageDeps, kit: PageKit): void {
  const { store } = deps;

  routes.get('/tickets', viewer, async (req, res) => {
    const q = parse(ticketQuery, req.query);
    const offset = (q.page - 1) * PAGE_SIZE;
    const { tickets } = await store.repos.localTickets.list({ ...(q.status ? { status: q.status } : {}), limit: PAGE_SIZE + 1, offset });
    const link = (page: number) => `/tickets?${new URLSearchParams({ ...(q.status ? { status: q.status } : {}), page: String(page) }).toString()}`;
    const frame = kit.frame(req, res, 'Local tickets', 'tickets');
    kit.send(
      res,
      200,
      kit.views.page('tickets', frame, {
        status: q.status ?? '',
        tickets: tickets.slice(0, PAGE_SIZE).map((t) => ({ id: t.id, subject: t.subject, status: t.status, priority: t.priority, faultId: t.fault_id, createdAt: formatTime(t.created_at), updatedAt: formatTime(t.updated_at) })),
        prev: q.page > 1 ? link(q.page - 1) : null,
        next: tickets.length > PAGE_SIZE ? link(q.page + 1) : null,
      }),
    );
  });

  routes.get('/tickets/:id', viewer, async (req, res) => {
    const id = Number(req.params.id);
    if (!Number.isSafeInteger(id)) throw notFound(`ticket ${String(req.params.id)}`);
    const { tickets, comments, attachments } = await store.repos.localTickets.list({ id, limit: 1, offset: 0 });
    const t = tickets[0];
    if (!t) throw notFound(`ticket ${id}`);
    const fault = await store.repos.faults.get(t.fault_id);
    const frame = kit.frame(req, res, `Ticket ${t.id}`, 'tickets');
    kit.send(
      res,
      200,
      kit.views.page('ticket', frame, {
        ticket: { id: t.id, subject: t.subject, status: t.status, priority: t.priority, createdAt: formatTime(t.created_at), updatedAt: formatTime(t.updated_at) },
        body: kit.views.safe(markdownToHtml(t.body)),
        fields: Object.entries(JSON.parse(t.fields) as Record<string, unknown>).map(([k, v]) => ({ k, v: typeof v === 'string' ? v : JSON.stringify(v) })),
        comments: comments.map((c) => ({ at: formatTime(c.created_at), body: kit.views.safe(markdownToHtml(c.body)) })),
        attachments: attachments.map((a) => ({ filename: a.filename, contentType: a.content_type, size: a.size, record: !!a.record_format, url: `/tickets/${t.id}/attachments/${a.id}` })),
        fault: fault ? faultRowView(fault, deps.clock.now()) : null,
        actions: fault
          ? { base: `/faults/${encodeURIComponent(fault.id)}`, acknowledged: fault.acknowledged_at !== null, resolved: fault.state === 'resolved', closed: fault.human_closed_at !== null, tiers: deps.tiers().map((t) => ({ value: t, selected: t === fault.tier })) }
          : null,
      }),
    );
  });

  // Attachments from the console's session (the API's route takes the Authorization header only); same safe headers.
  routes.get('/tickets/:id/attachments/:attachment', viewer, async (req, res) => {
    await sendAttachment(store, deps.rules, String(req.params.id), Number(req.params.attachment), res);
  });

  routes.get('/outbox', viewer, async (req, res) => {
    const q = parse(outboxQuery, req.query);
    const [stats, parked, waiting] = await Promise.all([
      store.repos.outbox.statsBySystem(),
      store.repos.outbox.list({ state: 'parked', ...(q.system ? { system: q.system } : {}), limit: 200, offset: 0 }),
      store.repos.outbox.list({ state: 'pending', ...(q.system ? { system: q.system } : {}), limit: 200, offset: 0 }),
    ]);
    const frame = kit.frame(req, res, 'Outbox', 'outbox');
    kit.send(
      res,
      200,
      kit.views.page('outbox', frame, {
        system: q.system ?? '',
        done: q.done,
        stats: stats.map((s) => ({ ...s, oldest: s.oldestCreatedAt === null ? null : formatTime(s.oldestCreatedAt), selected: s.system === q.system })),
        parked: parked.map(operationView),
        waiting: waiting.map(operationView),
      }),
    );
  });

  routes.post('/outbox/retry', admin, ...kit.form, async (req, res) => {
    const fields = formFields(req.body);
    const ids = fields.id ? [Number(fields.id)] : undefined;
    if (ids && !Number.isSafeInteger(ids[0]) ) throw invalid('invalid form', [{ path: 'id', message: 'must be an operation id' }]);
    const retried = await store.repos.outbox.retryParked(deps.clock.now(), ids ? { ids } : {});
    deps.logger.info('parked operations sent again', { retried, ids, by: res.locals.principal?.name, via: 'console' });
    deps.onRetry?.();
    res.redirect(303, `/outbox?done=${retried}`);
  });

  const playground = (req: Parameters<Parameters<Registrar['get']>[2]>[0], res: Parameters<Parameters<Registrar['get']>[2]>[1], status: number, data: object) => {
    const frame = kit.frame(req, res, 'Rule playground', 'playground');
    kit.send(res, status, kit.views.page('playground', frame, { payload: '', sources: SOURCE_NAMES.map((s) => ({ value: s, selected: false })), ...data }));
  };

  routes.get('/playground', viewer, (req, res) => playground(req, res, 200, {}));

  routes.post('/playground', viewer, ...kit.form, async (req, res) => {
    const fields = formFields(req.body);
    const raw = fields.payload ?? '';
    const source = (SOURCE_NAMES as readonly string[]).includes(fields.source ?? '') ? (fields.source as SourceName) : undefined;
    const sources = SOURCE_NAMES.map((s) => ({ value: s, selected: s === source }));
    let body: unknown;
    let form = false;
    try {
      body = raw.trim() === '' ? {} : (JSON.parse(raw) as unknown);
    } catch (err) {
      // A Nagios notification is a form (what its command posts); anything else must be JSON.
      if (source === 'nagios' || (source === undefined && /^[\w.-]+=/.test(raw.trim()))) {
        body = Object.fromEntries(new URLSearchParams(raw.trim()));
        form = true;
      } else {
        return playground(req, res, 400, { payload: raw, sources, error: { message: `the payload is not valid JSON: ${(err as Error).message}`, fields: [] } });
      }
    }
    try {
      const result = await explainPayload(deps, raw, { source, form, body });
      playground(req, res, 200, { payload: raw, sources, result: { source: result.source, alerts: result.alerts.map(explanationView) } });
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      playground(req, res, err.status, { payload: raw, sources, error: { message: err.message, fields: err.fields ?? [] } });
    }
  });

  routes.get('/estimates', viewer, async (req, res) => {
    const engine = deps.rules();
    const now = deps.clock.now();
    const fits = new Map(deps.estimates.all().map((f) => [f.category, f]));
    const samples = new Map<string, Array<{ x: number; y: number }>>();
    for (const f of await store.repos.faults.resolvedSince(now - deps.estimateWindowMs)) {
      if (f.resolved_at === null) continue;
      const list = samples.get(f.category) ?? [];
      if (list.length < MAX_POINTS) list.push({ x: f.severity, y: round((f.resolved_at - f.opened_at) / 3_600_000) });
      samples.set(f.category, list);
    }
    const names = [...new Set([...engine.categories.map((c) => c.name), engine.rules.fallback.name, ...fits.keys()])];
    const curve = (m: { a: number; b: number }) => Array.from({ length: 21 }, (_, i) => ({ x: i / 2, y: round(repairTimeHours(m, i / 2)) }));
    const estimates = names.map((name) => {
      const c = engine.category(name);
      const fit = fits.get(name);
      const configured = c ? { a: c.repairTime.a, b: c.repairTime.b } : null;
      const fitted = fit ? { a: round(fit.a), b: round(fit.b), samples: fit.samples, rmseHours: round(fit.rmseHours), fittedAt: formatTime(fit.fittedAt) } : null;
      const points = samples.get(name) ?? [];
      return {
        category: name,
        configured,
        fitted,
        inUse: fit ? 'fitted' : 'configured',
        sampleCount: points.length,
        plotted: points.length > 0 || fitted !== null,
        chart: { samples: points, configured: configured ? curve(configured) : null, fitted: fitted ? curve(fitted) : null },
      };
    });
    const satisfaction = await satisfactionOverTime(deps, now);
    const frame = kit.frame(req, res, 'Estimates and satisfaction', 'estimates');
    kit.send(res, 200, kit.views.page('estimates', frame, { estimates, plotted: estimates.filter((e) => e.plotted), satisfaction, windowDays: Math.round(deps.estimateWindowMs / 86_400_000) }));
  });
}

function explanationView(e: Explanation) {
  return {
    ...e,
    labels: Object.entries(e.alert.labels).map(([k, v]) => ({ k, v })),
    dueAt: formatTime(Date.parse(e.dueAt)),
    tried: e.tried.map((t) => ({ ...t, nearMiss: !t.matched })),
  };
}

/**
 * CSS by category per week for the last weeks. The store sums ratings since a
 * time; a week's sums are the difference of two such sums, so no new query.
 */
async function satisfactionOverTime(deps: Pick<OtherPageDeps, 'store'>, now: number) {
  const cuts = Array.from({ length: SATISFACTION_WEEKS + 1 }, (_, i) => now - (SATISFACTION_WEEKS - i) * WEEK);
  const sums = await Promise.all(cuts.map((since) => deps.store.repos.satisfaction.summary(since)));
  const at = (i: number, category: string) => sums[i]!.find((r) => r.category === category) ?? { sum: 0, n: 0 };
  const categories = [...new Set(sums[0]!.map((r) => r.category))].sort();
  const weeks = cuts.slice(0, -1).map((from) => formatTime(from).slice(0, 10));
  const series = categories.map((category) => ({
    category,
    points: weeks.map((week, i) => {
      const sum = at(i, category).sum - at(i + 1, category).sum;
      const n = at(i, category).n - at(i + 1, category).n;
      return { week, css: n > 0 ? round(sum / n) : null, n };
    }),
  }));
  return { weeks, series, chart: { weeks, series: series.map((s) => ({ category: s.category, values: s.points.map((p) => p.css) })) } };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
