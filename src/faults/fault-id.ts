import { randomBytes } from 'node:crypto';

/**
 * A new fault's id: a UUID of version 7 (RFC 9562), whose first 48 bits are the time in
 * milliseconds. Ids drawn one after another sort together, so the indexes keyed by fault id
 * (faults, alerts, outbox, tickets) grow at their end: in a storm of new faults, random
 * version-4 ids dirtied a page of every such index for every fault (ingest ran ~30% slower).
 */
export function newFaultId(now: number = Date.now()): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(Math.max(0, Math.floor(now)) % 2 ** 48, 0, 6);
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x70; // version 7
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80; // variant 10
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
