import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { credentialsMatch, hasCredentials, isSecured, type AuthSettings, type Principal, type Role } from '../http/auth';

export const SESSION_COOKIE = 'faultdesk_session';
const LIFETIME_MS = 12 * 3_600_000;

export interface Session {
  /** Random id: what the CSRF token is bound to and what logout revokes. */
  id: string;
  role: Role;
  name: string;
  expiresAt: number;
}

/**
 * The console's sessions: a signed cookie (HttpOnly, SameSite=Strict, Secure
 * over TLS) that says who logged in with which role, and a CSRF token bound to
 * it that every form carries.
 *
 * With credentials configured, the signing key is derived from them, so a
 * session survives a restart and holds on every replica, and changing the
 * credentials ends every session. With none (the loopback default) the key is
 * random per process and the console hands out an anonymous admin session on
 * the first page: it carries the CSRF token, so a page of another site still
 * cannot make the browser act.
 */
export class ConsoleSessions {
  readonly secured: boolean;
  private readonly key: Buffer;
  /** Sessions logged out before they expired (this process only: their cookies are also cleared). */
  private readonly revoked = new Map<string, number>();

  constructor(
    private readonly auth: AuthSettings,
    private readonly now: () => number = Date.now,
  ) {
    this.secured = isSecured(auth);
    this.key = this.secured ? deriveKey(auth) : randomBytes(32);
  }

  /** Who a token (or `user:password` for basic-auth credentials) logs in as; undefined when it is neither admin's nor viewer's. */
  login(token: string, name?: string): Session | undefined {
    const as = (role: Role): Session | undefined => {
      const credentials = this.auth[role];
      if (!hasCredentials(credentials)) return undefined;
      const header = credentials.bearer_token ? `Bearer ${token}` : `Basic ${Buffer.from(token, 'utf8').toString('base64')}`;
      const who = credentialsMatch(credentials, header, role);
      if (who === undefined) return undefined;
      const shown = name?.trim() ? name.trim().slice(0, 100) : who;
      return { id: randomBytes(16).toString('base64url'), role, name: shown, expiresAt: this.now() + LIFETIME_MS };
    };
    return as('admin') ?? as('viewer');
  }

  /** A session for the open console (no credentials configured). */
  anonymous(): Session {
    return { id: randomBytes(16).toString('base64url'), role: 'admin', name: 'anonymous', expiresAt: this.now() + LIFETIME_MS };
  }

  /** The session a request's cookie holds, if it is ours, unexpired and not logged out. */
  read(req: IncomingMessage): Session | undefined {
    const value = cookieValue(req.headers.cookie, SESSION_COOKIE);
    if (!value) return undefined;
    const dot = value.lastIndexOf('.');
    if (dot < 0) return undefined;
    const payload = value.slice(0, dot);
    if (!this.sameMac(this.mac(payload), value.slice(dot + 1))) return undefined;
    let s: Session;
    try {
      s = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Session;
    } catch {
      return undefined;
    }
    if (typeof s.expiresAt !== 'number' || s.expiresAt <= this.now() || this.revoked.has(s.id)) return undefined;
    if (s.role !== 'admin' && s.role !== 'viewer') return undefined;
    return s;
  }

  /** Sets the cookie of a session. */
  write(req: IncomingMessage, res: ServerResponse, s: Session): void {
    const payload = Buffer.from(JSON.stringify(s), 'utf8').toString('base64url');
    const maxAge = Math.max(0, Math.floor((s.expiresAt - this.now()) / 1000));
    res.appendHeader('Set-Cookie', `${SESSION_COOKIE}=${payload}.${this.mac(payload)}; ${attributes(req)}; Max-Age=${maxAge}`);
  }

  /** Ends a session: revoked here, and its cookie cleared. */
  end(req: IncomingMessage, res: ServerResponse): void {
    const s = this.read(req);
    if (s) this.revoked.set(s.id, s.expiresAt);
    for (const [id, until] of this.revoked) if (until <= this.now()) this.revoked.delete(id);
    res.appendHeader('Set-Cookie', `${SESSION_COOKIE}=; ${attributes(req)}; Max-Age=0`);
  }

  /** The CSRF token of a session: forms carry it, and the console's actions compare it. */
  csrf(s: Session): string {
    return this.mac(`csrf:${s.id}`);
  }

  csrfMatches(s: Session, token: unknown): boolean {
    return typeof token === 'string' && this.sameMac(this.csrf(s), token);
  }

  /**
   * The principal a session cookie names, for AccessControl. Only the console's
   * pages take the cookie: the JSON API keeps to the Authorization header, so a
   * cookie can never make an API call that carries no CSRF token.
   */
  readonly lookup = (req: IncomingMessage): Principal | undefined => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (!isConsolePath(path)) return undefined;
    const s = this.read(req);
    return s ? { role: s.role, name: s.name } : undefined;
  };

  private mac(text: string): string {
    return createHmac('sha256', this.key).update(text).digest('base64url');
  }

  private sameMac(expected: string, given: string): boolean {
    const a = Buffer.from(expected);
    const b = Buffer.from(given);
    return a.length === b.length && timingSafeEqual(a, b);
  }
}

/** Paths that belong to the console (everything but the API, the operator endpoints and /metrics). */
export function isConsolePath(path: string): boolean {
  return !path.startsWith('/api/') && !path.startsWith('/-/') && path !== '/metrics';
}

function deriveKey(auth: AuthSettings): Buffer {
  const h = createHash('sha256').update('faultdesk console session v1\0');
  for (const c of [auth.admin, auth.viewer]) {
    h.update(JSON.stringify([c?.bearer_token ?? null, c?.basic_auth?.username ?? null, c?.basic_auth?.password ?? null]));
    h.update('\0');
  }
  return h.digest();
}

/** Secure when the request came over TLS (here, or at a proxy in front that says so). */
function attributes(req: IncomingMessage): string {
  const tls = (req.socket as { encrypted?: boolean }).encrypted === true || String(req.headers['x-forwarded-proto'] ?? '').split(',')[0]?.trim() === 'https';
  return `Path=/; HttpOnly; SameSite=Strict${tls ? '; Secure' : ''}`;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
