import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import type { SourceName } from '../sources';
import { forbidden, unauthorized } from './errors';

export interface Credentials {
  bearer_token?: string;
  basic_auth?: { username: string; password?: string };
}

export interface AuthSettings {
  sources: Partial<Record<SourceName, Credentials>>;
  admin?: Credentials;
  viewer?: Credentials;
  metrics?: Credentials;
  /** Agents on monitoring hosts that fetch write-back commands (writeback.nagios.agent_token). */
  agents?: Partial<Record<AgentName, Credentials>>;
}

export type AgentName = 'nagios';

export type Role = 'admin' | 'viewer';

/** Who may use a route. Every route of the daemon declares one (test/http/access.test.ts walks them). */
export type Access =
  /** Health and readiness: probes carry no credentials. */
  | { kind: 'public' }
  /** /metrics: open unless auth.metrics sets a token of its own (admin and viewer credentials also do). */
  | { kind: 'metrics' }
  /** A source's webhook: that source's credentials, or admin's. */
  | { kind: 'source'; source: SourceName }
  /** viewer: reads and explain (admin also); admin: everything. */
  | { kind: 'role'; role: Role }
  /**
   * A ticket system's webhook: the request's HMAC signature (checked by the route, over the raw
   * body, with the secret of tickets.<system>.inbound) is its credential, not an Authorization header.
   */
  | { kind: 'signed'; system: 'zendesk' | 'servicenow' }
  /** An agent on a monitoring host: its own token, or admin's; never open, even with no other credential set. */
  | { kind: 'agent'; agent: AgentName };

/** Who made a request, for the timeline and the log. */
export interface Principal {
  role: 'admin' | 'viewer' | 'source' | 'metrics' | 'agent' | 'anonymous';
  /** The basic-auth user name, else the role or source. */
  name: string;
}

/** Compares secrets in constant time whatever their lengths. */
function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** Whether credentials are configured. */
export function hasCredentials(credentials: Credentials | undefined): credentials is Credentials {
  return !!credentials && (!!credentials.bearer_token || !!credentials.basic_auth);
}

/**
 * Whether an Authorization header carries what Alertmanager's http_config can
 * send: `Bearer …` or basic auth matching the configured credentials. Returns
 * the name to record (the basic-auth user, or `fallbackName`), or undefined.
 */
export function credentialsMatch(credentials: Credentials | undefined, header: string | undefined, fallbackName = 'token'): string | undefined {
  if (!hasCredentials(credentials)) return undefined;
  const text = header ?? '';
  const space = text.indexOf(' ');
  const scheme = text.slice(0, space).toLowerCase();
  const value = text.slice(space + 1).trim();
  if (scheme === 'bearer' && credentials.bearer_token) return safeEqual(value, credentials.bearer_token) ? fallbackName : undefined;
  if (scheme === 'basic' && credentials.basic_auth) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const ok =
      colon > 0 &&
      safeEqual(decoded.slice(0, colon), credentials.basic_auth.username) &&
      safeEqual(decoded.slice(colon + 1), credentials.basic_auth.password ?? '');
    return ok ? credentials.basic_auth.username : undefined;
  }
  return undefined;
}

/** Whether any credential at all is configured: then every route but health, readiness and /metrics needs one. */
export function isSecured(auth: AuthSettings): boolean {
  return hasCredentials(auth.admin) || hasCredentials(auth.viewer) || Object.values(auth.sources).some((c) => hasCredentials(c));
}

/** Finds who a request is from something other than its Authorization header (the console's session cookie). */
export type PrincipalLookup = (req: IncomingMessage) => Principal | undefined;

/**
 * The auth decision of every route. With no credentials configured (the
 * loopback default) every route is open and callers act as admin; once any
 * credential is configured, every route needs one of the credentials its
 * access names. A request with valid credentials of too small a role gets 403.
 */
export class AccessControl {
  readonly secured: boolean;

  constructor(
    private readonly auth: AuthSettings,
    private readonly lookup: PrincipalLookup = () => undefined,
  ) {
    this.secured = isSecured(auth);
  }

  /** The caller, or throws the 401/403 to answer. */
  check(access: Access, req: IncomingMessage): Principal {
    if (access.kind === 'public') return { role: 'anonymous', name: 'anonymous' };
    if (access.kind === 'signed') return { role: 'source', name: access.system };
    if (access.kind === 'metrics' && !hasCredentials(this.auth.metrics)) return { role: 'anonymous', name: 'anonymous' };
    if (!this.secured && access.kind !== 'metrics' && access.kind !== 'agent') return { role: 'admin', name: 'anonymous' };
    const principal = this.identify(access, req);
    if (!principal) throw unauthorized(realm(access));
    if (access.kind === 'role' && access.role === 'admin' && principal.role !== 'admin') throw forbidden('admin');
    return principal;
  }

  private identify(access: Access, req: IncomingMessage): Principal | undefined {
    const header = req.headers.authorization;
    const as = (role: Principal['role'], credentials: Credentials | undefined, name: string): Principal | undefined => {
      const who = credentialsMatch(credentials, header, name);
      return who === undefined ? undefined : { role, name: who };
    };
    const admin = () => as('admin', this.auth.admin, 'admin');
    const viewer = () => as('viewer', this.auth.viewer, 'viewer');
    switch (access.kind) {
      case 'source':
        return as('source', this.auth.sources[access.source], access.source) ?? admin();
      case 'metrics':
        return as('metrics', this.auth.metrics, 'metrics') ?? admin() ?? viewer();
      case 'agent':
        return as('agent', this.auth.agents?.[access.agent], `${access.agent} agent`) ?? admin();
      case 'role': {
        const byHeader = admin() ?? viewer();
        return byHeader ?? this.lookup(req);
      }
      default:
        return undefined;
    }
  }
}

function realm(access: Access): string {
  if (access.kind === 'signed') return `faultdesk ${access.system}`;
  if (access.kind === 'agent') return `faultdesk ${access.agent} agent`;
  return access.kind === 'source' ? `faultdesk ${access.source}` : access.kind === 'role' ? `faultdesk ${access.role}` : 'faultdesk metrics';
}

/** Marks the middleware that holds a route's auth decision, so the route table can be checked. */
export const ACCESS = Symbol('faultdesk.access');

export type GuardHandler = RequestHandler & { [ACCESS]: Access };

/** Express middleware that applies a route's access and leaves the caller in res.locals.principal. */
export function guard(control: AccessControl, access: Access): GuardHandler {
  const handler: RequestHandler = (req, res, next) => {
    try {
      res.locals.principal = control.check(access, req);
      next();
    } catch (err) {
      next(err);
    }
  };
  return Object.assign(handler, { [ACCESS]: access });
}
