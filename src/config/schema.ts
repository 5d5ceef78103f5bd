import { validate } from 'node-cron';
import { z } from 'zod';
import { parseDuration } from './duration';

/** A Prometheus-style duration string, parsed to milliseconds. */
export const durationMs = z.string().transform((text, ctx) => {
  try {
    return parseDuration(text);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

export const MAIL_EVENTS = ['open', 'escalate', 'resolve', 'reopen', 'at_risk', 'flapping'] as const;
export type MailEvent = (typeof MAIL_EVENTS)[number];
export const mailEvent = z.enum(MAIL_EVENTS);

const cronExpression = z.string().refine((expr) => validate(expr), 'must be a cron expression, e.g. "*/10 * * * * *"');

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]*):\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:9095 or :9095');

const bearerAuth = z.strictObject({
  bearer_token: z.string().min(1).optional(),
  bearer_token_file: z.string().min(1).optional(),
  basic_auth: z
    .strictObject({
      username: z.string().min(1),
      password: z.string().min(1).optional(),
      password_file: z.string().min(1).optional(),
    })
    .optional(),
});

/** A ticket field in the config or the rules: templates in strings, numbers stay numbers. */
export type FieldSpecRaw = string | number | boolean | FieldSpecRaw[] | { [key: string]: FieldSpecRaw };
export const fieldSpec: z.ZodType<FieldSpecRaw> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.array(fieldSpec), z.record(z.string(), fieldSpec)]),
);

/** How hard faultdesk may use a ticket system's API. */
const apiLimits = {
  timeout: durationMs.default(10_000),
  /**
   * How long after a create that may have happened (timeout, dropped connection,
   * 5xx) to look for its ticket before creating again; default three timeouts.
   */
  create_settle: durationMs.optional(),
  /** Operations in flight at once (always for different faults). */
  concurrency: z.number().int().min(1).max(64).default(4),
  /** Requests per minute, spread evenly. */
  requests_per_minute: z.number().int().min(1).max(100_000).default(200),
};

/**
 * Hearing what people do with the tickets (the human loop): signed webhooks, and/or polling for
 * daemons the ticket system cannot reach. Absent: faultdesk does not listen to this system.
 */
const inbound = z.strictObject({
    /** The shared secret requests are signed with (Zendesk: the webhook's signing secret). */
    secret: z.string().min(1).optional(),
    secret_file: z.string().min(1).optional(),
    /** A signed request whose timestamp is further than this from now is refused (replays). */
    replay_window: durationMs.default(300_000),
    /** Also poll the tickets of live faults (jobs.ticket_poll), for a daemon the system cannot reach. */
    poll: z.boolean().default(false),
    /** Resolutions that mean "won't fix": a ticket solved with one is closed by a person (never reopened). */
    wont_fix: z.array(z.string().min(1)).default([]),
    /** faultdesk's own API user(s) besides the configured one: their changes are echoes, ignored. */
    own_users: z.array(z.string().min(1)).default([]),
  });

const zendesk = z
  .strictObject({
    url: z.url(),
    email: z.string().optional(),
    token: z.string().optional(),
    token_file: z.string().optional(),
    oauth_token: z.string().optional(),
    oauth_token_file: z.string().optional(),
    ...apiLimits,
    /** Ticket fields every category's Zendesk ticket gets (type, tags, group_id, requester, custom_fields, ...). */
    fields: z.record(z.string(), fieldSpec).default({}),
    /** faultdesk priority words → Zendesk priorities, for bands that use other words. */
    priorities: z.record(z.string(), z.enum(['low', 'normal', 'high', 'urgent'])).default({}),
    /** Webhooks from Zendesk (POST /api/v1/tickets/zendesk/events) and/or polling; wont_fix lists tags. */
    inbound: inbound.optional(),
  })
  .refine((z1) => Boolean((z1.email && (z1.token || z1.token_file)) || z1.oauth_token || z1.oauth_token_file), {
    message: 'set email and token (or token_file) for API-token auth, or oauth_token (or oauth_token_file)',
  });

const servicenow = z
  .strictObject({
    url: z.url(),
    username: z.string().optional(),
    password: z.string().optional(),
    password_file: z.string().optional(),
    /** OAuth instead of basic auth: the password grant uses username and password too. */
    oauth: z
      .strictObject({
        grant: z.enum(['password', 'client_credentials']).default('client_credentials'),
        client_id: z.string().min(1),
        client_secret: z.string().optional(),
        client_secret_file: z.string().optional(),
      })
      .optional(),
    ...apiLimits,
    /** Incident fields every category's incident gets (assignment_group, category, caller_id, cmdb_ci, ...). */
    fields: z.record(z.string(), fieldSpec).default({}),
    /** FS bands → impact and urgency (1 high, 2 medium, 3 low). */
    bands: z
      .array(z.strictObject({ min: z.number().int().min(1).max(10), impact: z.number().int().min(1).max(3), urgency: z.number().int().min(1).max(3) }))
      .min(1)
      .default([
        { min: 9, impact: 1, urgency: 1 },
        { min: 7, impact: 2, urgency: 1 },
        { min: 4, impact: 2, urgency: 2 },
        { min: 1, impact: 3, urgency: 3 },
      ]),
    /** Resolving needs a close code on most instances; the choice values differ per instance. */
    close_code: z.string().min(1).default('Solved (Permanently)'),
    /** The business rule's posts (POST /api/v1/tickets/servicenow/events) and/or polling; wont_fix lists close codes. */
    inbound: inbound.optional(),
  })
  .refine((s1) => (s1.oauth ? s1.oauth.grant === 'client_credentials' || Boolean(s1.username && (s1.password || s1.password_file)) : Boolean(s1.username && (s1.password || s1.password_file))), {
    message: 'set username and password (or password_file) for basic auth, or oauth with client_id and client_secret (the password grant needs username and password too)',
  })
  .refine((s1) => !s1.oauth || Boolean(s1.oauth.client_secret || s1.oauth.client_secret_file), {
    message: 'oauth needs client_secret or client_secret_file',
    path: ['oauth'],
  });

const flapping = z.strictObject({
  changes: z.number().int().min(2).default(6),
  window: durationMs.default(3_600_000),
  quiet: durationMs.default(1_800_000),
});

export const configSchema = z.strictObject({
  listen: hostPort.default('127.0.0.1:9095'),
  store: z
    .strictObject({
      url: z.string().min(1).default('sqlite:data/faultdesk.db'),
      /** SQLite only: NORMAL survives a process crash, FULL also a power loss. */
      sqlite_synchronous: z.enum(['normal', 'full']).default('normal'),
      /** PostgreSQL and MySQL/MariaDB: connections per replica. */
      pool_size: z.number().int().min(1).max(100).default(10),
    })
    .prefault({}),
  rules: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).default('rules/'),
  /** Reload the rules when a rule file changes (besides SIGHUP and POST /-/reload). */
  watch_rules: z.boolean().default(false),
  auth: z
    .strictObject({
      sources: z
        .strictObject({
          alertmanager: bearerAuth.optional(),
          zabbix: bearerAuth.optional(),
          nagios: bearerAuth.optional(),
          generic: bearerAuth.optional(),
        })
        .prefault({}),
      /** Everything: reads, explain and every action. */
      admin: bearerAuth.optional(),
      /** Reads and explain, no actions. */
      viewer: bearerAuth.optional(),
      /** /metrics is open unless this sets a credential of its own (admin and viewer credentials also work). */
      metrics: bearerAuth.optional(),
      /** Listen on a non-loopback address with endpoints open to anyone: only when you mean it. */
      allow_unauthenticated: z.boolean().default(false),
    })
    .prefault({}),
  http: z
    .strictObject({
      max_body_bytes: z.number().int().positive().default(5 * 1024 * 1024),
    })
    .prefault({}),
  faults: z
    .strictObject({
      /** Changes of an open fault are coalesced into at most one ticket update per interval. */
      update_interval: durationMs.default(300_000),
      /** A fault that fires again this soon after resolving reopens its ticket. */
      reopen_within: durationMs.default(3_600_000),
      flapping: flapping.prefault({}),
      /**
       * A fault none of whose firing alerts was refreshed for this long is resolved as stale; 0 turns it off.
       * For the sources that resend firing alerts (stale_sources).
       */
      stale_after: z.union([z.literal(0), durationMs]).default(86_400_000),
      /** Sources that resend firing alerts (Alertmanager every repeat_interval): stale_after is theirs. */
      stale_sources: z.array(z.enum(['alertmanager', 'zabbix', 'nagios', 'generic'])).default(['alertmanager']),
      /**
       * The other sources send a problem once and its recovery once; a recovery that never arrives
       * (Nagios does not retry a failed notification) leaves a fault open for ever. A fault of theirs
       * with no delivery for this long is resolved as stale; 0 turns it off for that source.
       */
      stale_after_by_source: z
        .strictObject({
          alertmanager: z.union([z.literal(0), durationMs]).optional(),
          zabbix: z.union([z.literal(0), durationMs]).default(7 * 86_400_000),
          nagios: z.union([z.literal(0), durationMs]).default(7 * 86_400_000),
          generic: z.union([z.literal(0), durationMs]).default(7 * 86_400_000),
        })
        .prefault({}),
      /**
       * A person closed the ticket (closed, cancelled, won't fix): faultdesk never reopens it. When the
       * fault recurs: a new ticket that names the old one (new_ticket), or nothing for quiet_for after
       * the close, then a new ticket (quiet).
       */
      after_human_close: z
        .strictObject({ action: z.enum(['new_ticket', 'quiet']).default('new_ticket'), quiet_for: durationMs.default(86_400_000) })
        .prefault({}),
    })
    .prefault({}),
  /**
   * Support tiers (the service process): a fault starts at a tier and moves up one when its due time
   * passes unsolved, when it reopened too often, or when its FS reaches a threshold; each tier maps to
   * a Zendesk group and a ServiceNow assignment group. Absent: no tiers.
   */
  // A bare `tiers:` (null in YAML) turns tiers on with the default levels, as README says.
  tiers: z.preprocess(
    (v) => (v === null ? {} : v),
    z
      .strictObject({
        levels: z
          .array(
            z.strictObject({
              name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'must be letters, digits, and _ . -'),
              /** The Zendesk group a ticket of this tier is assigned to. */
              zendesk_group_id: z.number().int().positive().optional(),
              /** The ServiceNow assignment group (its sys_id or name) of this tier. */
              servicenow_assignment_group: z.string().min(1).optional(),
            }),
          )
          .min(1)
          .default([{ name: 'L1' }, { name: 'L2' }, { name: 'L3' }]),
        /** Where faults start unless their category says (default: the first level). */
        start: z.string().min(1).optional(),
        escalate: z
          .strictObject({
            /** Up one tier when the due time passes and no person solved the ticket. */
            on_due: z.boolean().default(true),
            /** Up one tier when the fault has reopened this many times (0: never). */
            after_reopens: z.number().int().min(0).default(3),
            /** Up one tier when FS reaches this (0: never). */
            at_fs: z.number().int().min(0).max(10).default(0),
          })
          .prefault({}),
      })
      .refine((t) => new Set(t.levels.map((l) => l.name)).size === t.levels.length, { message: 'tier names must differ', path: ['levels'] })
      .refine((t) => !t.start || t.levels.some((l) => l.name === t.start), { message: 'start must be one of the levels', path: ['start'] }),
  ).optional(),
  /** Repair-time fitting from resolved faults. */
  estimates: z
    .strictObject({
      /** A category is fitted once it has this many resolved faults in the window. */
      min_samples: z.number().int().min(3).default(20),
      window: durationMs.default(90 * 86_400_000),
      bounds: z
        .strictObject({
          a: z.tuple([z.number().positive(), z.number().positive()]).default([0.05, 500]),
          b: z.tuple([z.number().positive(), z.number().positive()]).default([0.01, 10]),
        })
        .prefault({}),
    })
    .prefault({}),
  /** Customer satisfaction: CSS = mean of the scores (1–10) of the window. */
  satisfaction: z
    .strictObject({
      window: durationMs.default(30 * 86_400_000),
      /** Zendesk rates good or bad: the scores they count as. */
      zendesk_scores: z.strictObject({ good: z.number().min(1).max(10).default(10), bad: z.number().min(1).max(10).default(1) }).prefault({}),
    })
    .prefault({}),
  tickets: z
    .strictObject({
      default: z.enum(['local', 'zendesk', 'servicenow']).default('local'),
      zendesk: zendesk.optional(),
      servicenow: servicenow.optional(),
    })
    .prefault({})
    .refine((t) => t.default === 'local' || t[t.default] !== undefined, {
      message: 'the default ticket system must be configured under tickets',
      path: ['default'],
    }),
  outbox: z
    .strictObject({
      poll_interval: durationMs.default(1_000),
      concurrency: z.number().int().min(1).max(64).default(4),
      backoff_initial: durationMs.default(1_000),
      backoff_max: durationMs.default(600_000),
      /** How long a claimed operation may run before another worker may take it over. */
      lease: durationMs.default(120_000),
    })
    .prefault({}),
  email: z
    .strictObject({
      smtp: z.strictObject({
        host: z.string().min(1),
        port: z.number().int().min(1).max(65535).default(25),
        /** Implicit TLS from the first byte (port 465). */
        secure: z.boolean().default(false),
        /** Refuse to send unless the server upgrades the connection with STARTTLS. */
        starttls: z.boolean().default(false),
        username: z.string().optional(),
        password: z.string().optional(),
        password_file: z.string().optional(),
        timeout: durationMs.default(10_000),
      }),
      from: z.string().min(3),
      /** Who gets mail for categories that do not name their own recipients. */
      to: z.array(z.string().min(3)).default([]),
      /** Without a category setting, only faults at least this severe are mailed. */
      min_severity: z.number().int().min(1).max(10).default(7),
      /** Events mailed for categories without their own setting. */
      events: z.array(mailEvent).default(['open', 'escalate', 'at_risk']),
      /** At most one mail per fault and kind of event per interval. */
      throttle: durationMs.default(1_800_000),
      /** More than `threshold` faults opening within `window` go out as one digest. */
      digest: z
        .strictObject({
          threshold: z.number().int().min(1).default(5),
          window: durationMs.default(60_000),
          /** How long an "open" mail waits, so that a storm is seen before anything is sent. */
          wait: durationMs.default(10_000),
        })
        .prefault({}),
      concurrency: z.number().int().min(1).max(16).default(2),
      /** faultdesk's address as on-call engineers reach it, for links in mails. */
      link_base: z.url().optional(),
    })
    .optional(),
  /**
   * Write-back to monitoring (src/writeback): an acknowledged fault silences or acknowledges its alerts
   * where they came from, and the mute ends with the fault. Absent: nothing is written back.
   */
  writeback: z
    .strictObject({
      /** Log what would be written, write nothing (the operations still go through the outbox). */
      dry_run: z.boolean().default(false),
      alertmanager: z
        .strictObject({
          /** One Alertmanager, or the peers of an HA cluster: silences gossip, so one that answers is enough. */
          urls: z.array(z.url()).min(1),
          /** How long a silence lasts; it is extended while the fault stays acknowledged. */
          silence_for: durationMs.default(2 * 3_600_000),
          bearer_token: z.string().min(1).optional(),
          bearer_token_file: z.string().min(1).optional(),
          basic_auth: z
            .strictObject({ username: z.string().min(1), password: z.string().min(1).optional(), password_file: z.string().min(1).optional() })
            .optional(),
          timeout: durationMs.default(10_000),
        })
        .refine((a) => a.silence_for >= 60_000, { message: 'must be at least 1m', path: ['silence_for'] })
        .optional(),
      zabbix: z
        .strictObject({
          /** The frontend's base URL (…/api_jsonrpc.php is added) or the API endpoint itself. */
          url: z.url(),
          api_token: z.string().min(1).optional(),
          api_token_file: z.string().min(1).optional(),
          /** Close the problem too when a person closed the ticket (the trigger must allow manual close). */
          close_on_ticket_close: z.boolean().default(false),
          timeout: durationMs.default(10_000),
        })
        .refine((z1) => Boolean(z1.api_token || z1.api_token_file), { message: 'set api_token or api_token_file', path: ['api_token'] })
        .optional(),
      nagios: z
        .strictObject({
          /** faultdesk runs on the Nagios host: external commands go straight into this file (nagios.cmd). */
          command_file: z.string().min(1).optional(),
          /** Otherwise the shipped agent on the Nagios host fetches them with this token. */
          agent_token: z.string().min(1).optional(),
          agent_token_file: z.string().min(1).optional(),
          /** Who the acknowledgement is by in Nagios when the fault does not say. */
          author: z.string().min(1).default('faultdesk'),
        })
        .refine((n) => Boolean(n.command_file) !== Boolean(n.agent_token || n.agent_token_file), { message: 'set command_file (faultdesk on the Nagios host) or agent_token (the shipped agent), one of them' })
        .optional(),
    })
    .optional(),
  /**
   * How long a resolved fault is kept, with its alerts, timeline, delivered outbox rows and
   * local ticket, after it resolved; 0 keeps everything. Nothing open or waiting is deleted.
   */
  retention: z.union([z.literal(0), z.literal('0').transform(() => 0), durationMs]).default(90 * 86_400_000),
  /** Cron schedules (node-cron syntax, an optional leading seconds field) of the scheduled jobs. */
  jobs: z
    .strictObject({
      settle_flapping: cronExpression.default('*/10 * * * * *'),
      fit_repair_time: cronExpression.default('17 */6 * * *'),
      at_risk: cronExpression.default('*/30 * * * * *'),
      stale_sweep: cronExpression.default('*/5 * * * *'),
      satisfaction_pull: cronExpression.default('*/15 * * * *'),
      /** Reads changes of the tickets of live faults, for systems with tickets.<system>.inbound.poll. */
      ticket_poll: cronExpression.default('*/1 * * * *'),
      /** Extends the Alertmanager silences of faults still acknowledged. */
      writeback_renew: cronExpression.default('*/30 * * * * *'),
      retention: cronExpression.default('41 * * * *'),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
    })
    .prefault({}),
});

export type RawConfig = z.infer<typeof configSchema>;
