import { z } from 'zod';

/** The longest label or annotation value faultdesk stores (64 KiB of text). */
export const MAX_VALUE_LENGTH = 65_536;

/** The longest label or annotation name faultdesk accepts. */
export const MAX_NAME_LENGTH = 1024;

/**
 * Labels or annotations: a map of text to text, names of 1 to 1,024
 * characters, values of at most 64 KiB. The whole map is checked in one
 * pass and kept as parsed, not copied: z.record runs two schemas per entry
 * and builds a new object, which was most of the cost of validating a
 * webhook (every label of every alert; see bench/ and the README). The
 * issues are the ones z.record gives (zod's own messages). NUL characters
 * are refused before any schema runs (see ./index.ts).
 */
export function labelMap(nameCheck?: { pattern: RegExp; message: string }) {
  return z.custom<Record<string, string>>().check((ctx) => {
    const map = ctx.value as unknown;
    if (map === null || typeof map !== 'object' || Array.isArray(map)) {
      ctx.issues.push({ code: 'invalid_type', expected: 'record', input: map });
      return;
    }
    for (const name in map) {
      const value = (map as Record<string, unknown>)[name];
      if (typeof value !== 'string') {
        ctx.issues.push({ code: 'invalid_type', expected: 'string', input: value, path: [name] });
        continue;
      }
      if (name.length === 0) ctx.issues.push({ code: 'custom', message: 'label names must not be empty', input: map, path: [name] });
      else if (name.length > MAX_NAME_LENGTH) ctx.issues.push({ code: 'custom', message: `names must be at most ${MAX_NAME_LENGTH} characters`, input: map, path: [name] });
      else if (nameCheck && !nameCheck.pattern.test(name)) ctx.issues.push({ code: 'custom', message: nameCheck.message, input: map, path: [name] });
      if (value.length > MAX_VALUE_LENGTH) ctx.issues.push({ code: 'custom', message: `must be at most ${MAX_VALUE_LENGTH} characters`, input: map, path: [name] });
    }
  });
}

/** JSON escapes every NUL as \u0000: text without that sequence holds none. */
export function mayHoldNul(text: string | Buffer): boolean {
  return text.includes('\\u0000');
}

/** The path of the first string holding a NUL character (no database stores one in text), if any. */
export function findNul(value: unknown, at = '', depth = 0): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? at : undefined;
  if (depth > 64 || value === null || typeof value !== 'object') return undefined;
  for (const [k, v] of Object.entries(value)) {
    if (k.includes('\u0000')) return at ? `${at}.${k}` : k;
    const found = findNul(v, at ? `${at}.${k}` : k, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** A label name as Prometheus allows it: other characters become "_". */
export function labelName(raw: string): string {
  const cleaned = raw.trim().replace(/[^a-zA-Z0-9_]/g, '_');
  if (cleaned === '') return '_';
  return /^[0-9]/.test(cleaned) ? `_${cleaned}` : cleaned;
}

/** A stable identity for a label set, for sources that send none (like Alertmanager's fingerprint). */
export function labelsFingerprint(labels: Record<string, string>): string {
  // FNV-1a 64-bit over the sorted pairs.
  let hash = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  for (const name of Object.keys(labels).sort()) {
    for (const ch of `${name}\u0000${labels[name]}\u0001`) {
      hash ^= BigInt(ch.codePointAt(0) as number);
      hash = (hash * prime) & 0xffffffffffffffffn;
    }
  }
  return hash.toString(16).padStart(16, '0');
}
