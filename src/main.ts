import type { AxiosInstance } from 'axios';
import type { Transporter } from 'nodemailer';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { Registry } from 'prom-client';
import { systemClock, type Clock } from './clock';
import type { Config } from './config';
import { FaultService, RepeatCache, sampleTicketContext, staleWindows, type LoopSettings } from './faults';
import type express from 'express';
import { createHandler } from './http/app';
import { isLoopback, splitListen } from './http/listen';
import type { RouteEntry } from './http/routes/registrar';
import { AccessControl } from './http/auth';
import { ConsoleSessions } from './console';
import { Scheduler, type Job } from './jobs';
import { TicketPoller, type ServiceNowPolled, type ZendeskPolled } from './jobs/ticket-poll';
import { purgeExpired } from './jobs/retention';
import { RepairTimeEstimates } from './estimate';
import { SatisfactionService } from './feedback';
import { createLogger, type Logger } from './log';
import { createMetrics, type Metrics } from './metrics';
import { MailPlanner } from './notify';
import { Outbox, TicketHandler } from './outbox';
import type { FieldValue, RuleEngine, RuleContext, TicketSystemName } from './rules';
import { RuleReloader, type ReloadResult } from './reload';
import { createSources, SOURCE_NAMES } from './sources';
import { openStore, type Store } from './store';
import { createTicketSystems } from './tickets';
import { inboundKeys, inboundSettings } from './tickets/inbound/settings';
import { OwnUsers } from './tickets/inbound/own-users';
import type { ZendeskTicketSystem } from './tickets/zendesk';
import { createWriteback, MutedAlertsWatch, renewSilences } from './writeback';

export interface Daemon {
  /** The address the HTTP server listens on (port 0 in the config gives a free one). */
  address: AddressInfo;
  url: string;
  store: Store;
  metrics: Metrics;
  faults: FaultService;
  outbox: Outbox;
  rules: () => RuleEngine;
  estimates: RepairTimeEstimates;
  satisfaction: SatisfactionService;
  /** The Express app behind the fast webhook route, and its route table with each route's auth decision. */
  app: express.Express;
  routes: RouteEntry[];
  /** The scheduled jobs (run on their schedules when workers are started; tests run them directly). */
  jobs: Job[];
  /** Reads the config and rules again; keeps the running rules when they are broken. */
  reload(): Promise<ReloadResult>;
  /** Stops accepting requests, lets those in flight and the outbox operations in hand finish, closes the store. */
  stop(): Promise<void>;
}

export interface DaemonOptions {
  config: Config;
  /** Where the config came from, so a reload can read it again. */
  configFile?: string;
  env?: Record<string, string | undefined>;
  logger?: Logger;
  clock?: Clock;
  /** Off in tests: a daemon that only delivers when told to (outbox.runOnce). */
  startWorkers?: boolean;
  /** For tests: the HTTP client the ticket systems use. */
  axios?: AxiosInstance;
  /** For tests: the mail transport. */
  mailTransport?: Transporter;
  version?: string;
}

export function ruleContext(config: Config): RuleContext {
  const systems: TicketSystemName[] = ['local'];
  if (config.tickets.zendesk) systems.push('zendesk');
  if (config.tickets.servicenow) systems.push('servicenow');
  return {
    defaultSystem: config.tickets.default,
    systems,
    email: config.email !== undefined,
    systemFields: { zendesk: config.tickets.zendesk?.fields, servicenow: config.tickets.servicenow?.fields },
    updateIntervalMs: config.faults.update_interval,
    reopenWithinMs: config.faults.reopen_within,
    flapping: {
      changes: config.faults.flapping.changes,
      windowMs: config.faults.flapping.window,
      quietMs: config.faults.flapping.quiet,
    },
    ...(config.tiers ? { tiers: config.tiers.levels.map((l) => l.name), startTier: config.tiers.start ?? config.tiers.levels[0]?.name } : {}),
    sampleContext: sampleTicketContext,
  };
}

/** The composition root: config → store → stages → HTTP and jobs. */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger({ level: config.log.level, secrets: config.secrets });
  const store = await openStore({
    url: config.store.url,
    sqliteSynchronous: config.store.sqlite_synchronous,
    poolSize: config.store.pool_size,
    migrate: true,
    checkpointInBackground: true,
  });
  const registry = new Registry();
  const metrics = createMetrics({
    registry,
    now: () => clock.now(),
    version: options.version,
    processMetrics: true,
    state: {
      faultsByCategoryAndState: () => store.repos.faults.countByCategoryAndState(),
      outboxBySystem: () => store.repos.outbox.statsBySystem(),
      overdue: () => store.repos.faults.countOverdue(clock.now()),
      faultsByTier: () => store.repos.faults.countByTier(),
      satisfaction: () => satisfaction.summary(),
      storeBytes: () => store.sizeBytes(),
    },
  });
  let reloader: RuleReloader;
  try {
    reloader = new RuleReloader({ config, configFile: options.configFile, env: options.env, ruleContext, logger, metrics, clock });
  } catch (err) {
    await store.close();
    throw err;
  }
  const rules = reloader.rules;
  // Read at each use, so that a reload's values apply (src/reload.ts lists what needs a restart).
  const current = reloader.config;
  const satisfaction = new SatisfactionService(
    store,
    clock,
    () => ({ windowMs: current().satisfaction.window, zendeskScores: current().satisfaction.zendesk_scores }),
    logger,
  );
  const estimates = new RepairTimeEstimates(
    store,
    () => ({ minSamples: current().estimates.min_samples, windowMs: current().estimates.window, bounds: current().estimates.bounds }),
    clock,
    logger,
  );
  await estimates.load();

  const systems = createTicketSystems(config, { store, clock, logger, metrics, axios: options.axios });
  const workerOptions = (concurrency: number) => ({
    concurrency,
    pollIntervalMs: config.outbox.poll_interval,
    leaseMs: config.outbox.lease,
    backoff: { initialMs: config.outbox.backoff_initial, maxMs: config.outbox.backoff_max },
  });
  // One outbox system per monitoring system written back to (writeback:), named after its source.
  const writeback = createWriteback(config.writeback, { store, clock, logger, registry, axios: options.axios });
  const writebacks = writeback.handlers;
  const outbox = new Outbox({
    store,
    clock,
    logger,
    onStoreError: () => metrics.storeErrors.inc({ operation: 'outbox' }),
    // The store has one writer on SQLite: alerts first, tickets when they are stored.
    yieldTo: (maxWaitMs) => faults.ingestIdle(maxWaitMs),
    handlers: [
      ...[...systems.values()].map(({ system, concurrency }) => ({
        handler: new TicketHandler({ store, system, rules, logger, metrics, clock, tierGroup: (tier) => tierGroup(current(), system.name, tier) }),
        options: workerOptions(concurrency),
      })),
      ...(config.email
        ? [{ handler: new (loadMailHandler())({ config: config.email, store, rules, metrics, clock, transport: options.mailTransport }), options: workerOptions(config.email.concurrency) }]
        : []),
      ...writebacks.map((handler) => ({ handler, options: workerOptions(config.outbox.concurrency) })),
    ],
  });
  const mail = config.email ? new MailPlanner(config.email, metrics) : undefined;
  // Zendesk's event subscriptions name people by id: faultdesk asks Zendesk which id is its own.
  const zendeskListened = config.tickets.zendesk?.inbound ? (systems.get('zendesk')?.system as ZendeskTicketSystem | undefined) : undefined;
  const ownUsers = new OwnUsers(zendeskListened ? { zendesk: () => zendeskListened.me() } : {}, logger);
  // SQLite has one writer, this process, so what it committed is what is stored: repeats can be
  // answered from memory. PostgreSQL replicas change each other's faults, so every delivery reads.
  const repeats = store.dialect === 'sqlite' ? new RepeatCache(store, logger, config.faults.stale_after) : undefined;
  const faults = new FaultService({
    store,
    rules,
    clock,
    logger,
    metrics,
    mail,
    repeats,
    estimates: estimates.model,
    loop: () => loopSettings(current()),
    inbound: () => inboundSettings(current(), (system) => ownUsers.of(system)),
    writebackTargets: writebacks.map((h) => h.system),
    onOperationsQueued: () => outbox.wake(),
  });
  const scheduler = new Scheduler(logger, registry, (name, work) => store.jobs.runOnce(name, clock.now(), work));
  const zendesk = systems.get('zendesk')?.system;
  const silenceFor = config.writeback?.alertmanager?.silence_for;
  // Silences of acknowledged faults are extended; their muted alerts are asked for, since Alertmanager sends nothing of them.
  const muted = writeback.alertmanager
    ? new MutedAlertsWatch({ store, target: writeback.alertmanager, clock, logger, ingest: (alerts) => faults.ingest('alertmanager', alerts) })
    : undefined;
  const renewAndWatch = async (forMs: number) => {
    await faults.tick((tx) => renewSilences(tx, clock.now(), forMs), { type: 'writeback_due' });
    await muted?.run();
  };
  const jobs: Job[] = [
    { name: 'settle_flapping', schedule: config.jobs.settle_flapping, run: () => faults.settleFlapping() },
    { name: 'at_risk', schedule: config.jobs.at_risk, run: () => faults.escalateAtRisk() },
    { name: 'stale_sweep', schedule: config.jobs.stale_sweep, run: () => faults.sweepStale(staleWindows(current().faults)) },
    { name: 'fit_repair_time', schedule: config.jobs.fit_repair_time, run: () => estimates.refit((c) => rules().category(c)?.repairTime.b) },
    {
      name: 'retention',
      schedule: config.jobs.retention,
      run: () =>
        purgeExpired({
          store,
          clock,
          logger,
          keepMs: () => current().retention,
          counted: (kind, n) => metrics.retentionDeleted.inc({ kind }, n),
          yieldTo: (maxWaitMs) => faults.ingestIdle(maxWaitMs),
        }),
    },
    ...(zendesk ? [{ name: 'satisfaction_pull', schedule: config.jobs.satisfaction_pull, run: () => satisfaction.pullZendesk(zendesk) }] : []),
    ...ticketPollJob(config, { store, faults, metrics, logger, clock, systems, prepare: (system) => ownUsers.learn(system) }),
    ...(writeback.alertmanager && silenceFor !== undefined
      ? [{ name: 'writeback_renew', schedule: config.jobs.writeback_renew, run: () => renewAndWatch(silenceFor) }]
      : []),
  ];

  let ready = false;
  const agentToken = config.writeback?.nagios?.agent_token;
  const sessions = new ConsoleSessions(config.auth);
  const access = new AccessControl({ ...config.auth, agents: agentToken ? { nagios: { bearer_token: agentToken } } : {} }, sessions.lookup);
  const http = createHandler({
    config,
    access,
    store,
    faults,
    sources: createSources(),
    metrics,
    logger,
    clock,
    rules,
    estimates,
    satisfaction,
    reload: () => reloader.reload(),
    isReady: () => ready,
    onRetry: () => outbox.wake(),
    tiers: () => loopSettings(current()).tiers,
    inbound: () => inboundKeys(current()),
    inboundPrepare: (system) => ownUsers.learn(system),
    nagiosAgent: agentToken !== undefined,
    sessions,
    estimateWindowMs: config.estimates.window,
  });
  const { host, port } = splitListen(config.listen);
  const open = access.secured ? [] : openEndpoints();
  if (!isLoopback(host) && open.length > 0 && !config.auth.allow_unauthenticated) {
    await store.close();
    throw new Error(
      `refusing to listen on ${config.listen} with no credentials for ${open.join(', ')}: ` +
        'set auth.sources.<source> and auth.admin (bearer_token_file or basic_auth), or auth.allow_unauthenticated: true',
    );
  }
  const server: Server = createServer(http.handler);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host }, resolve);
    });
  } catch (err) {
    await store.close();
    throw new Error(`cannot listen on ${config.listen}: ${(err as Error).message}`, { cause: err });
  }
  server.keepAliveTimeout = 65_000;

  if (config.watch_rules) reloader.watchRules();
  repeats?.start();
  if (options.startWorkers !== false) {
    outbox.start();
    for (const job of jobs) scheduler.add(job);
  }
  ready = true;
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  logger.info('faultdesk listening', {
    listen: `${shownHost}:${address.port}`,
    store: store.dialect,
    rules: rules().rules.files.length,
    categories: rules().categories.length,
  });

  return {
    address,
    url: `http://${shownHost}:${address.port}`,
    store,
    metrics,
    faults,
    outbox,
    rules,
    estimates,
    satisfaction,
    jobs,
    app: http.app,
    routes: http.routes,
    reload: () => reloader.reload(),
    async stop() {
      ready = false;
      reloader.stop();
      // Stop accepting; answer what is in flight; a kept-alive connection closes as soon as it is idle,
      // and after the grace period whatever is left is cut.
      await new Promise<void>((resolve) => {
        const idle = setInterval(() => server.closeIdleConnections(), 50);
        const cut = setTimeout(() => server.closeAllConnections(), 10_000);
        server.close(() => {
          clearInterval(idle);
          clearTimeout(cut);
          resolve();
        });
        server.closeIdleConnections();
      });
      await scheduler.stop();
      await outbox.stop();
      await repeats?.stop();
      await store.close();
      logger.info('faultdesk stopped');
    },
  };
}

/** The human loop's poll (and the pruning of the changes heard), when a ticket system is listened to. */
function ticketPollJob(
  config: Config,
  deps: Omit<ConstructorParameters<typeof TicketPoller>[0], 'zendesk' | 'servicenow'> & { systems: ReturnType<typeof createTicketSystems> },
): Job[] {
  const z = config.tickets.zendesk?.inbound;
  const s = config.tickets.servicenow?.inbound;
  if (!z && !s) return [];
  const poller = new TicketPoller({
    ...deps,
    // The connectors are these classes when their systems are configured (src/tickets/registry.ts).
    zendesk: z?.poll ? (deps.systems.get('zendesk')?.system as unknown as ZendeskPolled | undefined) : undefined,
    servicenow: s?.poll ? (deps.systems.get('servicenow')?.system as unknown as ServiceNowPolled | undefined) : undefined,
  });
  return [{ name: 'ticket_poll', schedule: config.jobs.ticket_poll, run: () => poller.run() }];
}

/** The group a support tier maps to in a ticket system, if the config says. */
function tierGroup(config: Config, system: string, tier: string): FieldValue | undefined {
  const level = config.tiers?.levels.find((l) => l.name === tier);
  if (system === 'zendesk') return level?.zendesk_group_id;
  if (system === 'servicenow') return level?.servicenow_assignment_group;
  return system === 'local' ? tier : undefined;
}

/** The human loop's settings for every category: tiers and what follows a person's close. */
export function loopSettings(config: Config): LoopSettings {
  const t = config.tiers;
  return {
    tiers: t ? t.levels.map((l) => l.name) : [],
    tierEscalation: t ? { onDue: t.escalate.on_due, afterReopens: t.escalate.after_reopens, atFs: t.escalate.at_fs } : { onDue: false, afterReopens: 0, atFs: 0 },
    afterHumanClose: { action: config.faults.after_human_close.action, quietForMs: config.faults.after_human_close.quiet_for },
  };
}

/** With no credential configured at all, every endpoint is open. */
function openEndpoints(): string[] {
  return [...SOURCE_NAMES.map((s) => `source ${s}`), 'admin'];
}

/** nodemailer is loaded only when e-mail is configured: a daemon without it saves its memory. */
function loadMailHandler(): typeof import('./notify/mailer').MailHandler {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a require, so that it loads on demand
  return (require('./notify/mailer') as typeof import('./notify/mailer')).MailHandler;
}

export { splitListen, isLoopback } from './http/listen';
