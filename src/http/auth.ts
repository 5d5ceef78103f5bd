import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { unauthorized } from './errors';

export interface Credentials {
  bearer_token?: string;
  basic_auth?: { username: string; password?: string };
}

/** Compares secrets in constant time whatever their lengths. */
function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** Whether credentials are configured, so that a route needs them. */
export function hasCredentials(credentials: Credentials | undefined): credentials is Credentials {
  return !!credentials && (!!credentials.bearer_token || !!credentials.basic_auth);
}

/**
 * Whether an Authorization header carries what Alertmanager's http_config can
 * send: `Bearer …` or basic auth matching the configured credentials.
 */
export function credentialsMatch(credentials: Credentials, header: string | undefined): boolean {
  const text = header ?? '';
  const space = text.indexOf(' ');
  const scheme = text.slice(0, space).toLowerCase();
  const value = text.slice(space + 1).trim();
  if (scheme === 'bearer' && credentials.bearer_token) return safeEqual(value, credentials.bearer_token);
  if (scheme === 'basic' && credentials.basic_auth) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return (
      colon > 0 &&
      safeEqual(decoded.slice(0, colon), credentials.basic_auth.username) &&
      safeEqual(decoded.slice(colon + 1), credentials.basic_auth.password ?? '')
    );
  }
  return false;
}

/** Express middleware: without configured credentials the route is open. */
export function requireCredentials(credentials: Credentials | undefined, realm: string): RequestHandler {
  if (!hasCredentials(credentials)) return (_req, _res, next) => next();
  return (req, _res, next) => next(credentialsMatch(credentials, req.headers.authorization) ? undefined : unauthorized(realm));
}
