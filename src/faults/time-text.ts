/**
 * Times as people read them in tickets and mails: absolute in UTC to the
 * second, and relative to the moment the text is written ("in 1h 17m").
 * The API and the JSON record keep ISO 8601 with milliseconds for machines.
 */

/** `2026-11-24 12:09:09 UTC` */
export function formatTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

const UNITS: ReadonlyArray<[string, number]> = [
  ['d', 86_400],
  ['h', 3_600],
  ['m', 60],
];

/** A span in its two largest units: `2d 3h`, `1h 17m`, `5m`, `45s`. */
export function roughDuration(ms: number): string {
  const seconds = Math.floor(Math.abs(ms) / 1000);
  if (seconds < 60) return `${seconds}s`;
  const i = UNITS.findIndex(([, size]) => seconds >= size);
  const [unit, size] = UNITS[i]!;
  const first = Math.floor(seconds / size);
  const next = UNITS[i + 1];
  const second = next ? Math.floor((seconds - first * size) / next[1]) : 0;
  return second > 0 && next ? `${first}${unit} ${second}${next[0]}` : `${first}${unit}`;
}

/** `in 1h 17m`, or `overdue by 5m` once the due time has passed. */
export function dueText(dueAt: number, now: number): string {
  return dueAt > now ? `in ${roughDuration(dueAt - now)}` : `overdue by ${roughDuration(now - dueAt)}`;
}

/** `3h 5m ago`, or `just now` within a minute. */
export function agoText(at: number, now: number): string {
  return now - at < 60_000 ? 'just now' : `${roughDuration(now - at)} ago`;
}
