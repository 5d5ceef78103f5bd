import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const SOURCES = ['alertmanager', 'zabbix', 'nagios', 'generic'] as const;
/** What became of one received alert; a small fixed set so it can be a label. */
export const ALERT_OUTCOMES = ['opened', 'updated', 'duplicate', 'resolved', 'reopened', 'dropped', 'ignored', 'stale'] as const;
export const FAULT_STATES = ['open', 'flapping', 'resolved'] as const;
export const TICKET_SYSTEMS = ['local', 'zendesk', 'servicenow'] as const;
export const TICKET_OPERATIONS = ['create', 'update', 'escalate', 'resolve', 'reopen', 'flapping', 'comment'] as const;

export type AlertOutcome = (typeof ALERT_OUTCOMES)[number];
/**
 * Why a webhook request was refused: the kinds of the error model (src/errors.ts) a webhook can meet,
 * with `unavailable` kept under its older name, store_unavailable.
 */
export const REJECTION_REASONS = ['unauthorized', 'forbidden', 'malformed', 'invalid', 'too_large', 'unsupported_encoding', 'store_unavailable', 'internal'] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];
/**
 * What faultdesk was doing when the store failed: reading the gauges for a
 * scrape, or the outbox workers' claims and completions. (A failed ingest is
 * counted as a store_unavailable rejection.)
 */
export const STORE_OPERATIONS = ['metrics', 'outbox'] as const;
export type StoreOperation = (typeof STORE_OPERATIONS)[number];

/** Gauges read the store when scraped, so they can never drift from it. */
export interface StateReader {
  faultsByCategoryAndState(): Promise<Array<{ category: string; state: string; n: number }>>;
  outboxBySystem(): Promise<Array<{ system: string; depth: number; parked: number; oldestCreatedAt: number | null }>>;
  overdue?(): Promise<number>;
  /** Live faults by the support tier that holds them (without tiers: none). */
  faultsByTier?(): Promise<Array<{ tier: string; n: number }>>;
  satisfaction?(): Promise<{ overall: { css: number | null }; categories: Array<{ category: string; css: number }> }>;
  /** The store's size on disk in bytes. */
  storeBytes?(): Promise<number>;
}

export interface Metrics {
  registry: Registry;
  alertsReceived: Counter<'source' | 'outcome'>;
  payloadsRejected: Counter<'source' | 'reason'>;
  ticketOperations: Counter<'system' | 'operation' | 'result'>;
  ticketErrors: Counter<'system' | 'reason'>;
  ticketDuplicates: Counter<'system'>;
  httpDuration: Histogram<'method' | 'route' | 'code'>;
  faultTransitions: Counter<'transition'>;
  emailsSent: Counter<'event'>;
  emailsFailed: Counter<'reason'>;
  emailsSuppressed: Counter<'reason'>;
  templateErrors: Counter<'category' | 'template'>;
  configReloadSuccessful: Gauge;
  repairEstimate: Histogram<'category'>;
  repairActual: Histogram<'category'>;
  configReloadTimestamp: Gauge;
  storeErrors: Counter<'operation'>;
  tierEscalations: Counter<'tier'>;
  inboundRejected: Counter<'system' | 'reason'>;
  inboundChanges: Counter<'system' | 'via' | 'outcome'>;
  retentionDeleted: Counter<'kind'>;
}

/** Why a ticket system's webhook was refused. */
export const INBOUND_REJECTIONS = ['missing_signature', 'bad_signature', 'stale', 'not_configured', 'malformed', 'invalid', 'too_large'] as const;
export type InboundRejection = (typeof INBOUND_REJECTIONS)[number];
/** What became of a change heard from a ticket system (see FaultService.onTicketEvents). */
export const INBOUND_OUTCOMES = ['applied', 'duplicate', 'own', 'unknown_ticket'] as const;

export interface MetricsOptions {
  registry?: Registry;
  state?: StateReader;
  now?: () => number;
  version?: string;
  /** Process metrics (CPU, memory, event loop); off in tests to keep scrapes cheap. */
  processMetrics?: boolean;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = options.registry ?? new Registry();
  const now = options.now ?? Date.now;
  if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'faultdesk_' });

  new Gauge({
    name: 'faultdesk_build_info',
    help: 'Build information; always 1.',
    labelNames: ['version', 'nodejs'],
    registers: [registry],
  }).set({ version: options.version ?? 'dev', nodejs: process.version }, 1);

  const alertsReceived = new Counter({
    name: 'faultdesk_alerts_received_total',
    help: 'Alerts received, by source and what became of them.',
    labelNames: ['source', 'outcome'] as const,
    registers: [registry],
  });
  for (const source of SOURCES) for (const outcome of ALERT_OUTCOMES) alertsReceived.inc({ source, outcome }, 0);

  const payloadsRejected = new Counter({
    name: 'faultdesk_payloads_rejected_total',
    help:
      'Webhook requests refused, by source and reason (unauthorized, forbidden, malformed: not JSON or form, invalid: breaks the schema, ' +
      'too_large, unsupported_encoding, store_unavailable: the store failed and the sender retries, internal).',
    labelNames: ['source', 'reason'] as const,
    registers: [registry],
  });
  for (const source of SOURCES) for (const reason of REJECTION_REASONS) payloadsRejected.inc({ source, reason }, 0);

  const ticketOperations = new Counter({
    name: 'faultdesk_ticket_operations_total',
    help: 'Ticket operations attempted, by system, operation and result (ok, retry, parked).',
    labelNames: ['system', 'operation', 'result'] as const,
    registers: [registry],
  });

  const ticketErrors = new Counter({
    name: 'faultdesk_ticket_api_errors_total',
    help: 'Failed ticket operations, by system and reason (rate_limited, server_error, timeout, connection, unauthorized, forbidden, bad_request, not_found, conflict, closed, unknown).',
    labelNames: ['system', 'reason'] as const,
    registers: [registry],
  });

  const ticketDuplicates = new Counter({
    name: 'faultdesk_ticket_duplicates_total',
    help: 'Second tickets a ticket system made for one fault (an uncertain create landed after all), found after a create and canceled, by system.',
    labelNames: ['system'] as const,
    registers: [registry],
  });
  for (const system of ['zendesk', 'servicenow']) ticketDuplicates.inc({ system }, 0);

  const faultTransitions = new Counter({
    name: 'faultdesk_fault_transitions_total',
    help: 'Fault state changes, by transition.',
    labelNames: ['transition'] as const,
    registers: [registry],
  });

  const emailsSent = new Counter({
    name: 'faultdesk_emails_sent_total',
    help: 'Mails accepted by the SMTP server, by event (open, escalate, resolve, reopen, at_risk, flapping, digest).',
    labelNames: ['event'] as const,
    registers: [registry],
  });
  const emailsFailed = new Counter({
    name: 'faultdesk_emails_failed_total',
    help: 'Failed mail deliveries, by reason (rejected: a permanent 5xx; others are retried).',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const emailsSuppressed = new Counter({
    name: 'faultdesk_emails_suppressed_total',
    help: 'Mails not sent on their own, by reason (throttle: one per fault and event per interval; digest: sent in a digest).',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  for (const reason of ['throttle', 'digest']) emailsSuppressed.inc({ reason }, 0);

  /** Store reads of this scrape still going, so the error count below includes their failures. */
  const pendingReads = new Set<Promise<unknown>>();
  /** Gauges that read the same thing in one scrape (the outbox's depth, parked and oldest) share one read. */
  const inFlight = new Map<() => Promise<unknown>, Promise<unknown>>();
  /**
   * Reads the store for a gauge. When the store fails, the scrape still
   * answers (so this failure and every other metric reach Prometheus): the
   * gauge has no samples rather than a stale value, and the failure is counted.
   */
  async function readState<T>(read: () => Promise<T>): Promise<T | undefined> {
    const shared = inFlight.get(read) as Promise<T | undefined> | undefined;
    if (shared) return shared;
    const reading = read();
    pendingReads.add(reading);
    const answer = reading.then(
      (value) => value,
      () => {
        storeErrors.inc({ operation: 'metrics' });
        return undefined;
      },
    );
    inFlight.set(read, answer);
    try {
      return await answer;
    } finally {
      pendingReads.delete(reading);
      inFlight.delete(read);
    }
  }
  const tierEscalations = new Counter({
    name: 'faultdesk_tier_escalations_total',
    help: 'Faults moved up a support tier by faultdesk (due time passed, reopened too often, FS threshold), by the tier they moved to.',
    labelNames: ['tier'] as const,
    registers: [registry],
  });
  const inboundRejected = new Counter({
    name: 'faultdesk_inbound_rejected_total',
    help: 'Ticket system webhooks refused (human loop), by system and reason: missing_signature, bad_signature, stale (outside the replay window), not_configured, malformed, invalid, too_large.',
    labelNames: ['system', 'reason'] as const,
    registers: [registry],
  });
  const inboundChanges = new Counter({
    name: 'faultdesk_inbound_changes_total',
    help: 'Ticket changes heard from ticket systems (human loop), by system, how (webhook, poll) and outcome: applied, duplicate (heard before), own (faultdesk\'s echo), unknown_ticket.',
    labelNames: ['system', 'via', 'outcome'] as const,
    registers: [registry],
  });
  for (const system of ['zendesk', 'servicenow']) {
    for (const reason of INBOUND_REJECTIONS) inboundRejected.inc({ system, reason }, 0);
    for (const via of ['webhook', 'poll']) for (const outcome of INBOUND_OUTCOMES) inboundChanges.inc({ system, via, outcome }, 0);
  }
  const templateErrors = new Counter({
    name: 'faultdesk_template_errors_total',
    help: 'Rule templates that failed while rendering a ticket or mail (a fallback was used), by category and template (subject, body, fields, runbook, graph, hints).',
    labelNames: ['category', 'template'] as const,
    registers: [registry],
  });

  const hourBuckets = [0.25, 0.5, 1, 2, 4, 8, 16, 24, 48, 96];
  const repairEstimate = new Histogram({
    name: 'faultdesk_fault_estimated_repair_hours',
    help: 'Estimated repair time of faults when they open, by category.',
    labelNames: ['category'] as const,
    buckets: hourBuckets,
    registers: [registry],
  });
  const repairActual = new Histogram({
    name: 'faultdesk_fault_repair_hours',
    help: 'How long faults were open until they resolved, by category (stale ones left out).',
    labelNames: ['category'] as const,
    buckets: hourBuckets,
    registers: [registry],
  });
  new Gauge({
    name: 'faultdesk_faults_at_risk',
    help: 'Open faults past their due time.',
    registers: [registry],
    async collect() {
      if (!state?.overdue) return;
      const overdue = await readState(state.overdue);
      // A gauge without labels always has a sample: NaN says "unknown" (no alert compares true on it).
      this.set(overdue ?? Number.NaN);
    },
  });
  new Gauge({
    name: 'faultdesk_satisfaction_score',
    help: 'Customer satisfaction score CSS = mean of the ratings (1–10) within the window, by category; category="" is all.',
    labelNames: ['category'] as const,
    registers: [registry],
    async collect() {
      if (!state?.satisfaction) return;
      const summary = await readState(state.satisfaction);
      this.reset();
      if (!summary) return;
      if (summary.overall.css !== null) this.set({ category: '' }, summary.overall.css);
      for (const c of summary.categories) this.set({ category: c.category }, c.css);
    },
  });

  const configReloadSuccessful = new Gauge({
    name: 'faultdesk_config_last_reload_successful',
    help: 'Whether the last configuration and rules (re)load succeeded (1) or failed and the running rules were kept (0).',
    registers: [registry],
  });
  const configReloadTimestamp = new Gauge({
    name: 'faultdesk_config_last_reload_success_timestamp_seconds',
    help: 'When the configuration and rules were last loaded successfully.',
    registers: [registry],
  });

  const httpDuration = new Histogram({
    name: 'faultdesk_http_request_duration_seconds',
    help: 'HTTP request latency, by method, route template and status code.',
    labelNames: ['method', 'route', 'code'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });

  const state = options.state;
  new Gauge({
    name: 'faultdesk_faults',
    help: 'Faults by category and state, counting the latest fault of each category and key.',
    labelNames: ['category', 'state'] as const,
    registers: [registry],
    async collect() {
      if (!state) return;
      const rows = await readState(state.faultsByCategoryAndState);
      this.reset();
      if (!rows) return;
      const seen = new Set(rows.map((r) => r.category));
      // Every category seen gets all three states, so a fault leaving a state shows as 0, not as a gap.
      for (const category of seen) for (const s of FAULT_STATES) this.set({ category, state: s }, 0);
      for (const r of rows) this.set({ category: r.category, state: r.state }, r.n);
    },
  });
  new Gauge({
    name: 'faultdesk_faults_by_tier',
    help: 'Live faults by the support tier that holds them (with tiers configured).',
    labelNames: ['tier'] as const,
    registers: [registry],
    async collect() {
      if (!state?.faultsByTier) return;
      const rows = await readState(state.faultsByTier);
      this.reset();
      for (const r of rows ?? []) this.set({ tier: r.tier }, r.n);
    },
  });
  new Gauge({
    name: 'faultdesk_outbox_depth',
    help: 'Outbox operations not yet delivered (pending, in flight or parked), by system.',
    labelNames: ['system'] as const,
    registers: [registry],
    async collect() {
      if (!state) return;
      const rows = await readState(state.outboxBySystem);
      this.reset();
      if (!rows) return;
      for (const system of [...TICKET_SYSTEMS, 'email']) this.set({ system }, 0);
      for (const row of rows) this.set({ system: row.system }, row.depth);
    },
  });
  new Gauge({
    name: 'faultdesk_outbox_parked',
    help: 'Outbox operations parked for an operator (refused for good by the ticket system or mail server), by system; they wait until sent again.',
    labelNames: ['system'] as const,
    registers: [registry],
    async collect() {
      if (!state) return;
      const rows = await readState(state.outboxBySystem);
      this.reset();
      if (!rows) return;
      for (const system of [...TICKET_SYSTEMS, 'email']) this.set({ system }, 0);
      for (const row of rows) this.set({ system: row.system }, row.parked);
    },
  });
  new Gauge({
    name: 'faultdesk_outbox_oldest_age_seconds',
    help: 'Age of the oldest undelivered outbox operation, by system; 0 when none.',
    labelNames: ['system'] as const,
    registers: [registry],
    async collect() {
      if (!state) return;
      const rows = await readState(state.outboxBySystem);
      this.reset();
      if (!rows) return;
      for (const system of [...TICKET_SYSTEMS, 'email']) this.set({ system }, 0);
      for (const row of rows) {
        this.set({ system: row.system }, row.oldestCreatedAt === null ? 0 : Math.max(0, (now() - row.oldestCreatedAt) / 1000));
      }
    },
  });

  new Gauge({
    name: 'faultdesk_store_size_bytes',
    help: 'Size of the store on disk: SQLite pages (in use and free) times the page size; PostgreSQL faultdesk\'s tables with their indexes.',
    registers: [registry],
    async collect() {
      if (!state?.storeBytes) return;
      const bytes = await readState(state.storeBytes);
      if (bytes !== undefined) this.set(bytes);
    },
  });
  const retentionDeleted = new Counter({
    name: 'faultdesk_retention_deleted_total',
    help: 'Rows the retention job deleted, by kind (faults, alerts, outbox, local_tickets, other: delivered digest mails).',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  for (const kind of ['faults', 'alerts', 'outbox', 'local_tickets', 'other']) retentionDeleted.inc({ kind }, 0);

  // Registered after every gauge that reads the store: a scrape starts their reads first, so this waits for them.
  const storeErrors = new Counter({
    name: 'faultdesk_store_errors_total',
    help: 'Store (database) operations that failed, by what faultdesk was doing (metrics: reading the gauges for a scrape).',
    labelNames: ['operation'] as const,
    registers: [registry],
    async collect() {
      await Promise.allSettled([...pendingReads]);
    },
  });
  for (const operation of STORE_OPERATIONS) storeErrors.inc({ operation }, 0);

  return {
    registry,
    alertsReceived,
    payloadsRejected,
    ticketOperations,
    ticketErrors,
    ticketDuplicates,
    httpDuration,
    faultTransitions,
    emailsSent,
    emailsFailed,
    emailsSuppressed,
    templateErrors,
    configReloadSuccessful,
    configReloadTimestamp,
    repairEstimate,
    repairActual,
    storeErrors,
    tierEscalations,
    inboundRejected,
    inboundChanges,
    retentionDeleted,
  };
}
