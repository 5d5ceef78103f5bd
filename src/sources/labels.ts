import { z } from 'zod';

/** The longest label or annotation value faultdesk stores (64 KiB of text). */
export const MAX_VALUE_LENGTH = 65_536;

/** Any text but NUL (no database stores it in text) and within the length limit. */
export const labelValue = z
  .string()
  .max(MAX_VALUE_LENGTH, `must be at most ${MAX_VALUE_LENGTH} characters`)
  .refine((v) => !v.includes('\u0000'), 'must not contain NUL characters');

/** Label names as senders send them, within reason. */
export const labelNameText = z.string().min(1, 'label names must not be empty').max(1024).refine((v) => !v.includes('\u0000'), 'must not contain NUL characters');

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
