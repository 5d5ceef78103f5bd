import { formatDuration } from '../config';
import { faultKey, renderFields, severityOf, type Category, type FieldValue } from '../rules';
import type { AlertRow, FaultRow } from '../store';
import { draftFault } from './draft';
import { agoText, dueText, formatTime, roughDuration } from './time-text';
import type { TierSpan } from './fault';
import { labelText, parseTimeline, type OperationKind, type OperationPayload } from './model';

/** Alerts listed in a ticket body; the record attached to the ticket has them all. */
const ALERTS_IN_BODY = 20;

export interface AlertView {
  source: string;
  sourceId: string;
  status: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string | null;
  generatorURL: string | null;
  fs: number;
  firstReceivedAt: string;
  lastReceivedAt: string;
}

export function alertView(row: AlertRow): AlertView {
  return {
    source: row.source,
    sourceId: row.source_id,
    status: row.status,
    labels: JSON.parse(row.labels) as Record<string, string>,
    annotations: JSON.parse(row.annotations) as Record<string, string>,
    startsAt: iso(row.starts_at),
    endsAt: row.ends_at === null ? null : iso(row.ends_at),
    generatorURL: row.generator_url,
    fs: row.fs,
    firstReceivedAt: iso(row.first_received_at),
    lastReceivedAt: iso(row.last_received_at),
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** What the templates of a category see. */
export interface TicketContext {
  faultId: string;
  category: string;
  key: string;
  keyLabels: Record<string, string>;
  where: string;
  state: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  fs: number;
  priority: string;
  repairTimeHours: number;
  /** The estimate as text, e.g. 2h9m9s. */
  repairTime: string;
  /** In UTC to the second: `2026-11-24 10:00:00 UTC`. */
  openedAt: string;
  /** `3h 5m ago`, at the time of rendering. */
  openedAgo: string;
  dueAt: string;
  /** `in 1h 17m` or `overdue by 5m` at the time of rendering; empty once the fault has resolved. */
  dueIn: string;
  rule: string;
  alertCount: number;
  firingCount: number;
  alerts: TemplateAlert[];
  alertsOmitted: number;
  runbook: string;
  /** A graph of the problem: the rule's, or Prometheus' expression link of an Alertmanager alert. */
  graph: string;
  /** The source's own page of the first alert when it is not a graph: `{ label: "Zabbix event", url }`. */
  sourceLink: { label: string; url: string } | null;
  /** The first lines of the plugin's long output (Nagios), and how many more lines the record has. */
  longOutput: string;
  longOutputOmitted: number;
  hints: string[];
}

/** An alert as templates see it: its times in UTC to the second. */
export interface TemplateAlert extends AlertView {
  /** `5m ago`, at the time of rendering. */
  startsAgo: string;
}

function templateAlert(row: AlertRow, now: number): TemplateAlert {
  return {
    ...alertView(row),
    startsAt: formatTime(row.starts_at),
    endsAt: row.ends_at === null ? null : formatTime(row.ends_at),
    startsAgo: agoText(row.starts_at, now),
  };
}

/** What the link a source sends with its alerts is (Alertmanager's is a Prometheus graph). */
const SOURCE_LINKS: Record<string, string> = { zabbix: 'Zabbix event', nagios: 'Nagios status', generic: 'Source' };

/** Lines of a long output shown in a ticket; the record has them all. */
const LONG_OUTPUT_LINES = 10;

/** Labels that say where a fault is, in the order we prefer them. */
const WHERE_LABELS = ['instance', 'host', 'hostname', 'pod', 'node', 'service', 'job'];

/** The templates of a category, as a small fixed set (a metric label). */
export type TemplateName = 'subject' | 'body' | 'fields' | 'runbook' | 'graph' | 'hints';

/** A template that threw while rendering; what was rendered instead says so. */
export interface TemplateFailure {
  template: TemplateName;
  message: string;
}

export interface RenderOptions {
  /** The time relative times are told from (the clock's now); by default the fault's last update. */
  now?: number;
  /** Collects the templates that failed; a failed diagnosis template renders nothing. */
  failures?: TemplateFailure[];
}

/** Renders a template; a failure is collected and renders as undefined. */
export function renderOrRecord(
  template: { render(c: object): string } | undefined,
  context: object,
  name: TemplateName,
  failures: TemplateFailure[] | undefined,
): string | undefined {
  if (!template) return undefined;
  try {
    return template.render(context);
  } catch (err) {
    failures?.push({ template: name, message: firstLine(err) });
    return undefined;
  }
}

export function ticketContext(fault: FaultRow, alerts: readonly AlertRow[], category: Category | undefined, options: RenderOptions = {}): TicketContext {
  const now = options.now ?? fault.updated_at;
  const views = alerts.slice(0, ALERTS_IN_BODY).map((a) => templateAlert(a, now));
  const first = views[0];
  const labels = first?.labels ?? {};
  const keyLabels = JSON.parse(fault.key_labels) as Record<string, string>;
  const where = category?.faultKey
    ? Object.entries(keyLabels)
        .filter(([k]) => k !== 'alertname')
        .map(([, v]) => v)
        .join(' ')
    : (WHERE_LABELS.map((l) => labels[l]).find((v) => v) ?? '');
  const base = {
    faultId: fault.id,
    category: fault.category,
    key: fault.fault_key,
    keyLabels,
    where,
    state: fault.state,
    labels,
    annotations: first?.annotations ?? {},
    fs: fault.severity,
    priority: fault.priority,
    repairTimeHours: Math.round(fault.repair_time_hours * 100) / 100,
    repairTime: formatDuration(fault.repair_time_hours * 3_600_000),
    openedAt: formatTime(fault.opened_at),
    openedAgo: agoText(fault.opened_at, now),
    dueAt: formatTime(fault.due_at),
    dueIn: fault.resolved_at === null ? dueText(fault.due_at, now) : '',
    rule: `${fault.rule_file}:${fault.rule_line}`,
    alertCount: fault.alert_count,
    firingCount: fault.firing_count,
    alerts: views,
    alertsOmitted: Math.max(0, fault.alert_count - views.length),
  };
  const render = (t: { render(c: object): string } | undefined, name: TemplateName) => renderOrRecord(t, base, name, options.failures)?.trim() ?? '';
  const link = first?.generatorURL ?? '';
  const isGraph = first?.source === 'alertmanager';
  const longLines = (base.annotations.long_output ?? '').replace(/\s+$/, '').split('\n');
  const shownLines = longLines.slice(0, LONG_OUTPUT_LINES);
  return {
    ...base,
    runbook: render(category?.diagnosis.runbook, 'runbook') || base.annotations.runbook_url || base.annotations.runbook || '',
    graph: render(category?.diagnosis.graph, 'graph') || (isGraph ? link : ''),
    sourceLink: link && !isGraph ? { label: SOURCE_LINKS[first!.source] ?? 'Source', url: link } : null,
    longOutput: shownLines.join('\n'),
    longOutputOmitted: longLines.length - shownLines.length,
    hints: (category?.diagnosis.hints ?? []).map((h) => render(h, 'hints')).filter((h) => h !== ''),
  };
}

/** When the example fault of `sampleTicketContext` opened. */
const SAMPLE_TIME = Date.UTC(2026, 0, 1, 12);

/**
 * What a category's templates would see for a typical alert: labels from the
 * category's equality matchers, every fault key label filled, a summary and a
 * description. Rule loading renders every template with it.
 */
export function sampleTicketContext(category: Category): TicketContext {
  const labels: Record<string, string> = {};
  for (const m of category.matchers) if (m.type === '=' && m.value !== '') labels[m.name] = m.value;
  for (const name of category.faultKey ?? []) labels[name] ??= `example-${name}`;
  labels.alertname ??= 'ExampleAlert';
  const { key, keyLabels } = faultKey(category, labels);
  const fs = severityOf(category, labels);
  const fault = { ...draftFault(category, key, keyLabels, fs, SAMPLE_TIME), id: 'example' };
  const alert: AlertRow = {
    id: 0,
    fault_id: fault.id,
    ident: 'alertmanager:example',
    source: 'alertmanager',
    source_id: 'example',
    status: 'firing',
    labels: JSON.stringify(labels),
    annotations: JSON.stringify({ summary: 'Example summary', description: 'Example description' }),
    starts_at: SAMPLE_TIME,
    ends_at: null,
    generator_url: 'http://prometheus.example:9090/graph?g0.expr=up',
    fs,
    first_received_at: SAMPLE_TIME,
    last_received_at: SAMPLE_TIME,
  };
  return ticketContext(fault, [alert], category);
}

export interface RenderedTicket {
  subject: string;
  body: string;
  fields: Record<string, FieldValue>;
  /** Templates that threw; the ticket says so and uses a fallback for each. */
  failures: TemplateFailure[];
}

/**
 * A new ticket's subject, body and fields from the category's templates. A
 * template that throws never stops the ticket: a broken subject or body is
 * replaced by a fallback, and the body starts by naming the broken template.
 */
export function renderTicket(fault: FaultRow, alerts: readonly AlertRow[], category: Category | undefined, options: { now?: number } = {}): RenderedTicket {
  const failures: TemplateFailure[] = [];
  const ctx = ticketContext(fault, alerts, category, { now: options.now, failures });
  if (!category) return { subject: oneLine(`${fault.category} ${fault.fault_key}`), body: fault.summary, fields: {}, failures };
  const subject = renderSubject(category, ctx, failures);
  const body = renderOrRecord(category.ticket.body, ctx, 'body', failures);
  const fields = renderFields(category.ticket.fields, ctx, (field, err) =>
    failures.push({ template: 'fields', message: `${field}: ${firstLine(err)}` }),
  );
  const notice = failures.map(
    (f) =>
      `> faultdesk could not render the ${f.template} template of category "${category.name}" (rule ${ctx.rule}): ${f.message}. ` +
      `${FALLBACK_SAYS[f.template]} Fix the template (\`faultdesk check\` shows where) and reload the rules.`,
  );
  return {
    subject,
    body: [...notice, ...(notice.length > 0 ? [''] : []), body ?? renderRecord(fault, alerts, category).markdown].join('\n'),
    fields,
    failures,
  };
}

const FALLBACK_SAYS: Record<TemplateName, string> = {
  subject: 'The subject is a fallback.',
  body: 'Below is the fault record instead of the body.',
  fields: 'The field was left out.',
  runbook: 'The runbook link was left out.',
  graph: 'The graph link was left out.',
  hints: 'The hint was left out.',
};

/**
 * The category's subject on one line; when its template throws, what is
 * broken and where without it, marked as a fallback.
 */
export function renderSubject(category: Category | undefined, ctx: TicketContext, failures?: TemplateFailure[]): string {
  if (!category) return oneLine(`${ctx.category} ${ctx.key}`);
  return oneLine(renderOrRecord(category.ticket.subject, ctx, 'subject', failures) ?? `${fallbackSubject(ctx)} [subject template failed]`);
}

/** What is broken and where, without the category's templates (they failed). */
function fallbackSubject(ctx: TicketContext): string {
  const what = ctx.labels.alertname || ctx.category;
  return `[${ctx.priority.toUpperCase()}] ${what}${ctx.where ? ` on ${ctx.where}` : ''}${ctx.annotations.summary ? `: ${ctx.annotations.summary}` : ''}`;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function firstLine(err: unknown): string {
  return ((err as Error)?.message ?? String(err)).split('\n')[0]!;
}

export interface FaultRecord {
  markdown: string;
  json: string;
}

/** What people did to a fault, as the API and the record show it. */
export function humanLoopJson(fault: FaultRow) {
  const tierHistory = (JSON.parse(fault.tier_history) as TierSpan[]).map((t) => ({ tier: t.tier, from: iso(t.from), to: t.to === null ? null : iso(t.to), reason: t.reason, ...(t.by ? { by: t.by } : {}) }));
  return {
    acknowledged: fault.acknowledged_at === null ? null : { by: fault.acknowledged_by, at: iso(fault.acknowledged_at) },
    handled: fault.handled_at === null ? null : { by: fault.handled_by, at: iso(fault.handled_at) },
    closedByHuman: fault.human_closed_at === null ? null : { by: fault.human_closed_by, at: iso(fault.human_closed_at), code: fault.close_code },
    priorityPinned: fault.priority_pinned,
    tier: fault.tier,
    tierHistory,
    followsTicket: fault.follows_ticket,
  };
}

/** The fault record attached to the ticket: everything faultdesk knows of the fault. */
export function renderRecord(fault: FaultRow, alerts: readonly AlertRow[], category: Category | undefined): FaultRecord {
  const ctx = ticketContext(fault, alerts, category);
  const views = alerts.map(alertView);
  const timeline = parseTimeline(fault.timeline);
  const doc = {
    kind: 'faultdesk.fault-record/v1',
    id: fault.id,
    category: fault.category,
    key: fault.fault_key,
    keyLabels: ctx.keyLabels,
    rule: { file: fault.rule_file, line: fault.rule_line },
    state: fault.state,
    severity: fault.severity,
    priority: fault.priority,
    repairTimeHours: fault.repair_time_hours,
    repairTimeModel: { a: fault.rt_a, b: fault.rt_b },
    openedAt: iso(fault.opened_at),
    dueAt: iso(fault.due_at),
    resolvedAt: fault.resolved_at === null ? null : iso(fault.resolved_at),
    diagnosis: { runbook: ctx.runbook || null, graph: ctx.graph || null, hints: ctx.hints },
    ticket: fault.ticket_id ? { system: fault.ticket_system, id: fault.ticket_id, status: fault.ticket_status } : null,
    ...humanLoopJson(fault),
    alerts: views,
    timeline: timeline.entries.map((e) => ({ at: iso(e.at), event: e.event, ...(e.detail ? { detail: e.detail } : {}), ...(e.by ? { by: e.by } : {}), ...(e.via ? { via: e.via } : {}) })),
    timelineOmitted: timeline.omitted,
  };
  const md: string[] = [
    `# Fault ${fault.category} ${fault.fault_key}`,
    '',
    `- Fault id: ${fault.id}`,
    `- State: ${fault.state}`,
    `- Category: ${fault.category} (rule ${fault.rule_file}:${fault.rule_line})`,
    `- Fault severity (FS): ${fault.severity}/10, priority ${fault.priority}`,
    `- Estimated repair time: ${formatDuration(fault.repair_time_hours * 3_600_000)} (RT = ${fault.rt_a}·ln(1 + ${fault.rt_b}·FS) h)`,
    `- Opened: ${ctx.openedAt}; due: ${ctx.dueAt}` +
      (fault.resolved_at === null ? '' : `; resolved: ${formatTime(fault.resolved_at)} (open for ${roughDuration(fault.resolved_at - fault.opened_at)})`),
  ];
  if (fault.acknowledged_at !== null) md.push(`- Acknowledged by ${fault.acknowledged_by} at ${formatTime(fault.acknowledged_at)}`);
  if (fault.handled_at !== null) md.push(`- Handled: ${fault.handled_by} solved the ticket at ${formatTime(fault.handled_at)} while alerts still fired`);
  if (fault.human_closed_at !== null) md.push(`- Closed by ${fault.human_closed_by} at ${formatTime(fault.human_closed_at)}${fault.close_code ? ` (${fault.close_code})` : ''}`);
  if (fault.priority_pinned) md.push(`- Priority set by a person: ${fault.priority_pinned}`);
  if (fault.follows_ticket) md.push(`- Follows the closed ticket ${fault.follows_ticket}`);
  const tiers = JSON.parse(fault.tier_history) as TierSpan[];
  if (tiers.length > 0) {
    md.push(`- Tier: ${fault.tier}; held by ${tiers.map((t) => `${t.tier} ${roughDuration((t.to ?? fault.updated_at) - t.from)}${t.by ? ` (moved by ${t.by})` : ''}`).join(', ')}`);
  }
  if (ctx.runbook) md.push(`- Runbook: ${ctx.runbook}`);
  if (ctx.graph) md.push(`- Graph: ${ctx.graph}`);
  if (ctx.sourceLink) md.push(`- ${ctx.sourceLink.label}: ${ctx.sourceLink.url}`);
  if (ctx.hints.length) md.push('', '## Diagnosis', '', ...ctx.hints.map((h) => `- ${h}`));
  md.push('', `## Alerts (${fault.firing_count} firing of ${fault.alert_count})`, '');
  for (const a of views) {
    md.push(`### [${a.status}] ${labelText(a.labels)}`, '');
    md.push(`- Source: ${a.source} ${a.sourceId}`, `- Starts: ${formatTime(Date.parse(a.startsAt))}${a.endsAt ? `; ends: ${formatTime(Date.parse(a.endsAt))}` : ''}`);
    if (a.generatorURL) md.push(`- Source link: ${a.generatorURL}`);
    for (const [k, v] of Object.entries(a.annotations)) md.push(`- ${k}: ${v.replace(/\n/g, ' ')}`);
    md.push('');
  }
  md.push('## Timeline', '');
  if (timeline.omitted > 0) md.push(`(${timeline.omitted} entries omitted)`);
  for (const e of timeline.entries) md.push(`- ${formatTime(e.at)} ${e.event}${e.by ? ` by ${e.by}` : ''}${e.via ? ` (${e.via})` : ''}${e.detail ? `: ${e.detail.replace(/\n/g, ' ')}` : ''}`);
  return { markdown: md.join('\n') + '\n', json: JSON.stringify(doc, null, 2) + '\n' };
}

/** The comment an operation posts on the ticket. */
export function renderComment(kind: OperationKind, payload: OperationPayload, fault: FaultRow, now: number = fault.updated_at): string {
  const lines: string[] = [];
  if (payload.note) lines.push(payload.note);
  switch (kind) {
    case 'escalate':
      lines.push(
        `Escalated: fault severity ${payload.fromFs} → ${payload.toFs}, priority now ${fault.priority}. ` +
          `Estimated repair time ${formatDuration(fault.repair_time_hours * 3_600_000)}, due ${formatTime(fault.due_at)} (${dueText(fault.due_at, now)}).`,
      );
      break;
    case 'resolve':
      if (!payload.note) lines.push(`Resolved: every alert of this fault has resolved (${fault.alert_count} in all).`);
      if (fault.resolved_at !== null) {
        lines.push(
          `Open for ${formatDuration(fault.resolved_at - fault.opened_at)}; estimated ${formatDuration(fault.repair_time_hours * 3_600_000)}.`,
        );
      }
      break;
    case 'reopen':
      if (!payload.note) lines.push('Reopened: the fault is firing again.');
      break;
    case 'update':
      lines.push(`Update: ${fault.firing_count} of ${fault.alert_count} alerts firing.`);
      break;
    default:
      break;
  }
  if (payload.changes.length) lines.push('', ...payload.changes.map((c) => `- ${c}`));
  return lines.join('\n');
}
