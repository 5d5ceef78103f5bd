import { createHmac, timingSafeEqual } from 'node:crypto';

/** Why a signed request was refused; a small fixed set (a metric label). */
export type SignatureFailure = 'missing_signature' | 'bad_signature' | 'stale';

export interface SignedRequest {
  /** The HMAC key's bytes. */
  key: Buffer;
  /** The signature header: base64 of HMAC-SHA256(key, timestamp + raw body). */
  signature: string | undefined;
  /** The timestamp header: ISO 8601 (Zendesk) or epoch milliseconds/seconds (the ServiceNow business rule). */
  timestamp: string | undefined;
  raw: Buffer;
  now: number;
  /** How far the timestamp may be from now, either way. */
  windowMs: number;
}

/** The signature faultdesk expects for a timestamp and body. */
export function sign(key: Buffer, timestamp: string, raw: Buffer | string): string {
  return createHmac('sha256', key).update(timestamp).update(raw).digest('base64');
}

/** A signature timestamp as epoch ms, or undefined when it is none. */
export function timestampMs(text: string): number | undefined {
  const t = text.trim();
  if (/^\d{9,11}$/.test(t)) return Number(t) * 1000;
  if (/^\d{12,14}$/.test(t)) return Number(t);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(t)) return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Checks a request signed as Zendesk signs its webhooks: the signature over the timestamp and the
 * raw body, compared in constant time, and a timestamp within the replay window (Zendesk sets none;
 * a captured request replayed later is refused, one replayed within the window is caught by the
 * invocation id).
 */
export function verifySignature(req: SignedRequest): SignatureFailure | undefined {
  if (!req.signature || !req.timestamp) return 'missing_signature';
  const expected = Buffer.from(sign(req.key, req.timestamp, req.raw), 'base64');
  const given = Buffer.from(req.signature.trim(), 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'bad_signature';
  const at = timestampMs(req.timestamp);
  if (at === undefined || Math.abs(req.now - at) > req.windowMs) return 'stale';
  return undefined;
}
