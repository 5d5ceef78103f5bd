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

const zendesk = z.strictObject({
  url: z.url(),
  email: z.string().optional(),
  token: z.string().optional(),
  token_file: z.string().optional(),
  oauth_token: z.string().optional(),
  oauth_token_file: z.string().optional(),
});

const servicenow = z.strictObject({
  url: z.url(),
  username: z.string().optional(),
  password: z.string().optional(),
  password_file: z.string().optional(),
  client_id: z.string().optional(),
  client_secret: z.string().optional(),
  client_secret_file: z.string().optional(),
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
    })
    .prefault({}),
  rules: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).default('rules/'),
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
      admin: bearerAuth.optional(),
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
    })
    .prefault({}),
  tickets: z
    .strictObject({
      default: z.enum(['local', 'zendesk', 'servicenow']).default('local'),
      zendesk: zendesk.optional(),
      servicenow: servicenow.optional(),
    })
    .prefault({}),
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
      smtp: z
        .strictObject({
          host: z.string().min(1),
          port: z.number().int().min(1).max(65535).default(25),
          secure: z.boolean().default(false),
          username: z.string().optional(),
          password: z.string().optional(),
          password_file: z.string().optional(),
        })
        .optional(),
      from: z.string().optional(),
      to: z.array(z.string()).optional(),
    })
    .optional(),
  /** Cron schedules (node-cron syntax, an optional leading seconds field) of the scheduled jobs. */
  jobs: z
    .strictObject({
      settle_flapping: cronExpression.default('*/10 * * * * *'),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
    })
    .prefault({}),
});

export type RawConfig = z.infer<typeof configSchema>;
