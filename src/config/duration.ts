/**
 * Durations in Prometheus' notation ("90s", "5m", "1h30m", "2d"), since the
 * people writing our config also write Alertmanager's.
 */
const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};

const WHOLE = /^((\d+)y)?((\d+)w)?((\d+)d)?((\d+)h)?((\d+)m)?((\d+)s)?((\d+)ms)?$/;

export function parseDuration(text: string): number {
  const match = WHOLE.exec(text.trim());
  if (!match || text.trim() === '') {
    throw new Error(`invalid duration "${text}": use a number with a unit, e.g. 30s, 5m, 1h30m`);
  }
  const units = ['y', 'w', 'd', 'h', 'm', 's', 'ms'];
  let total = 0;
  units.forEach((unit, i) => {
    const value = match[2 + i * 2];
    if (value !== undefined) total += Number(value) * (UNIT_MS[unit] ?? 0);
  });
  return total;
}

export function formatDuration(ms: number): string {
  if (ms <= 0) return '0s';
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('') || '0s';
}
