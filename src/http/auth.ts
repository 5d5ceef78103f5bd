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

/**
 * Accepts what Alertmanager's http_config can send: `Authorization: Bearer …`
 * or basic auth. Without configured credentials the route is open.
 */
export function requireCredentials(credentials: Credentials | undefined, realm: string): RequestHandler {
  if (!credentials || (!credentials.bearer_token && !credentials.basic_auth)) return (_req, _res, next) => next();
  return (req, _res, next) => {
    const header = req.headers.authorization ?? '';
    const space = header.indexOf(' ');
    const scheme = header.slice(0, space).toLowerCase();
    const value = header.slice(space + 1).trim();
    let ok = false;
    if (scheme === 'bearer' && credentials.bearer_token) {
      ok = safeEqual(value, credentials.bearer_token);
    } else if (scheme === 'basic' && credentials.basic_auth) {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      ok =
        colon > 0 &&
        safeEqual(decoded.slice(0, colon), credentials.basic_auth.username) &&
        safeEqual(decoded.slice(colon + 1), credentials.basic_auth.password ?? '');
    }
    next(ok ? undefined : unauthorized(realm));
  };
}
