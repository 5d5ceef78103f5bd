import type { Request, Response } from 'express';
import { z } from 'zod';
import type { Clock } from '../clock';
import { invalid, issueFields, notFound } from '../errors';
import { dueText, formatTime, roughDuration, timelineJson, type FaultService } from '../faults';
import { alertView, renderRecord } from '../faults/render';
import { FAULT_ACTIONS, runFaultAction, type FaultAction } from '../http/routes/faults';
import { admin, viewer, type Registrar } from '../http/routes/registrar';
import type { RuleEngine } from '../rules';
import type { FaultRow, OutboxRow, Store } from '../store';
import { markdownToHtml } from '../tickets/markdown';
import type { PageKit } from './index';

export interface FaultPageDeps {
  store: Store;
  faults: FaultService;
  clock: Clock;
  rules: () => RuleEngine;
  tiers: () => readonly string[];
}

export const PAGE_SIZE = 50;

const listQuery = z.strictObject({
  state: z.enum(['open', 'flapping', 'resolved', 'live', 'all']).default('live'),
  category: z.string().max(200).optional(),
  tier: z.string().max(100).optional(),
  acknowledged: z.enum(['', 'yes', 'no']).optional(),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  partial: z.literal('1').optional(),
});

const ACTION_WORDS: Record<FaultAction, { title: string; done: string }> = {
  ack: { title: 'Acknowledge', done: 'Acknowledged' },
  unack: { title: 'Take back the acknowledgement of', done: 'Acknowledgement taken back' },
  comment: { title: 'Comment on', done: 'Comment added' },
  assign: { title: 'Assign a tier to', done: 'Tier assigned' },
  resolve: { title: 'Resolve', done: 'Resolved by hand' },
  close: { title: 'Close', done: 'Closed' },
};

/** The colour class of a fault's priority, from its severity (FS 1–10): priorities are names the rules choose. */
export function urgencyClass(fs: number): string {
  return fs >= 8 ? 'u-critical' : fs >= 6 ? 'u-high' : fs >= 4 ? 'u-medium' : 'u-low';
}

function ticketLink(f: FaultRow) {
  if (!f.ticket_id) return null;
  const local = f.ticket_system === 'local';
  return { system: f.ticket_system, id: f.ticket_id, status: f.ticket_status, url: local ? `/tickets/${encodeURIComponent(f.ticket_id)}` : f.ticket_url, local };
}

export function faultRowView(f: FaultRow, now: number) {
  const live = f.state !== 'resolved';
  return {
    id: f.id,
    state: f.state,
    live,
    tier: f.tier,
    priority: f.priority,
    severity: f.severity,
    urgency: urgencyClass(f.severity),
    category: f.category,
    key: f.fault_key,
    summary: f.summary,
    due: live ? dueText(f.due_at, now) : `resolved ${formatTime(f.resolved_at ?? f.updated_at)}`,
    overdue: live && f.due_at <= now,
    dueAt: formatTime(f.due_at),
    openedAt: formatTime(f.opened_at),
    acknowledgedBy: f.acknowledged_at === null ? null : f.acknowledged_by,
    ticket: ticketLink(f),
  };
}

/** The faults list, one fault's page, and the actions of the human loop. */
export function faultPages(routes: Registrar, deps: FaultPageDeps, kit: PageKit): void {
  const { store } = deps;

  routes.get('/', viewer, async (req, res) => {
    const parsed = listQuery.safeParse(req.query);
    if (!parsed.success) throw invalid('invalid filter', issueFields(parsed.error.issues, '(query)'));
    const q = parsed.data;
    const now = deps.clock.now();
    const filter = {
      ...(q.state === 'live' ? { states: ['open', 'flapping'] } : q.state === 'all' ? {} : { state: q.state }),
      ...(q.category ? { category: q.category } : {}),
      ...(q.tier ? { tier: q.tier } : {}),
      ...(q.acknowledged ? { acknowledged: q.acknowledged === 'yes' } : {}),
    };
    const offset = (q.page - 1) * PAGE_SIZE;
    // One more than a page says whether there is a next one, without counting every match.
    const rows = await store.repos.faults.list({ ...filter, order: 'urgency', limit: PAGE_SIZE + 1, offset });
    const more = rows.length > PAGE_SIZE;
    const counts = await store.repos.faults.countByState();
    const query = (page: number) => {
      const p = new URLSearchParams();
      if (q.state !== 'live') p.set('state', q.state);
      if (q.category) p.set('category', q.category);
      if (q.tier) p.set('tier', q.tier);
      if (q.acknowledged) p.set('acknowledged', q.acknowledged);
      if (page > 1) p.set('page', String(page));
      const s = p.toString();
      return s ? `/?${s}` : '/';
    };
    const table = {
      faults: rows.slice(0, PAGE_SIZE).map((f) => faultRowView(f, now)),
      page: q.page,
      first: offset + 1,
      last: offset + Math.min(rows.length, PAGE_SIZE),
      prev: q.page > 1 ? query(q.page - 1) : null,
      next: more ? query(q.page + 1) : null,
      updatedAt: formatTime(now),
      counts: { open: counts.open ?? 0, flapping: counts.flapping ?? 0, resolved: counts.resolved ?? 0 },
    };
    if (q.partial) {
      res.status(200).set({ 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' }).type('html').send(kit.views.fragment('faults-table', table));
      return;
    }
    const engine = deps.rules();
    const frame = kit.frame(req, res, 'Faults', 'faults');
    kit.send(
      res,
      200,
      kit.views.page('faults', frame, {
        table,
        filters: {
          states: ['live', 'open', 'flapping', 'resolved', 'all'].map((s) => ({ value: s, selected: s === q.state })),
          categories: [...engine.categories.map((c) => c.name), engine.rules.fallback.name].map((c) => ({ value: c, selected: c === q.category })),
          tiers: deps.tiers().map((t) => ({ value: t, selected: t === q.tier })),
          acknowledged: [
            { value: '', label: 'either', selected: !q.acknowledged },
            { value: 'yes', label: 'yes', selected: q.acknowledged === 'yes' },
            { value: 'no', label: 'no', selected: q.acknowledged === 'no' },
          ],
        },
        pollUrl: `${query(q.page)}${query(q.page).includes('?') ? '&' : '?'}partial=1`,
      }),
    );
  });

  routes.get('/faults/:id', viewer, async (req, res) => {
    const id = String(req.params.id);
    const fault = await store.repos.faults.get(id);
    if (!fault) throw notFound(`fault ${id}`);
    const [alerts, ops] = await Promise.all([store.repos.alerts.listByFault(fault.id, 200), store.repos.outbox.listByFault(fault.id)]);
    const now = deps.clock.now();
    const engine = deps.rules();
    const record = renderRecord(fault, alerts, engine.category(fault.category));
    const done = typeof req.query.done === 'string' && (FAULT_ACTIONS as readonly string[]).includes(req.query.done) ? ACTION_WORDS[req.query.done as FaultAction].done : null;
    const timeline = timelineJson(fault.timeline);
    const frame = kit.frame(req, res, `Fault ${fault.category} ${fault.fault_key}`, 'faults');
    kit.send(
      res,
      200,
      kit.views.page('fault', frame, {
        fault: faultRowView(fault, now),
        detail: {
          rule: `${fault.rule_file}:${fault.rule_line}`,
          repairTime: roughDuration(fault.repair_time_hours * 3_600_000),
          firing: fault.firing_count,
          alertCount: fault.alert_count,
          handledBy: fault.handled_at === null ? null : fault.handled_by,
          closedBy: fault.human_closed_at === null ? null : fault.human_closed_by,
          ticketError: fault.ticket_error,
        },
        done,
        timeline: { omitted: timeline.omitted, entries: [...timeline.entries].reverse().map((e) => ({ ...e, at: formatTime(Date.parse(e.at)) })) },
        alerts: alerts.map(alertView).map((a) => ({ ...a, labels: Object.entries(a.labels).map(([k, v]) => ({ k, v })), annotations: Object.entries(a.annotations).map(([k, v]) => ({ k, v })) })),
        operations: ops.map(operationView),
        record: kit.views.safe(markdownToHtml(record.markdown)),
        recordJson: record.json,
        actions: actionsView(fault, deps.tiers()),
      }),
    );
  });

  for (const action of FAULT_ACTIONS) {
    routes.post(`/faults/:id/${action}`, admin, ...kit.form, async (req: Request, res: Response) => {
      const id = String(req.params.id);
      const fields = formFields(req.body);
      if (fields.confirmed !== 'yes') {
        // Without JavaScript the confirmation is a page of its own; the script asks in a dialog and sends confirmed=yes.
        const fault = await store.repos.faults.get(id);
        if (!fault) throw notFound(`fault ${id}`);
        const frame = kit.frame(req, res, 'Confirm', 'faults');
        const hidden = Object.entries(fields).map(([name, value]) => ({ name, value }));
        kit.send(res, 200, kit.views.page('confirm', frame, { title: ACTION_WORDS[action].title, fault: faultRowView(fault, deps.clock.now()), action: `/faults/${encodeURIComponent(id)}/${action}`, hidden }));
        return;
      }
      const body: Record<string, string> = {};
      for (const [k, v] of Object.entries(fields)) if (k !== 'confirmed' && v.trim() !== '') body[k] = v;
      await runFaultAction(deps, id, action, body, { name: res.locals.principal?.name, via: 'console' });
      res.redirect(303, `/faults/${encodeURIComponent(id)}?done=${action}`);
    });
  }
}

/** The form's fields but the CSRF token, as strings. */
export function formFields(body: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((body ?? {}) as Record<string, unknown>)) if (k !== '_csrf' && typeof v === 'string') out[k] = v;
  return out;
}

function actionsView(fault: FaultRow, tiers: readonly string[]) {
  const base = `/faults/${encodeURIComponent(fault.id)}`;
  return {
    base,
    acknowledged: fault.acknowledged_at !== null,
    resolved: fault.state === 'resolved',
    closed: fault.human_closed_at !== null,
    tiers: tiers.map((t) => ({ value: t, selected: t === fault.tier })),
  };
}

export function operationView(o: OutboxRow) {
  return {
    id: o.id,
    faultId: o.fault_id,
    kind: o.kind,
    system: o.system,
    state: o.state,
    attempts: o.attempts,
    next: o.state === 'pending' ? formatTime(o.next_attempt_at) : null,
    lastError: o.last_error,
    createdAt: formatTime(o.created_at),
    updatedAt: formatTime(o.updated_at),
    parked: o.state === 'parked',
  };
}
