import { SOURCE_NAMES, type SourceName } from '../sources';

export interface StaleWindow {
  afterMs: number;
  sources: SourceName[];
  /** Whether these sources resend firing alerts (then silence means they stopped firing). */
  resends: boolean;
}

export interface StaleSettings {
  stale_after: number;
  stale_sources: readonly SourceName[];
  stale_after_by_source: Partial<Record<SourceName, number>>;
}

/**
 * How long each source may stay silent about a live fault before the fault is
 * resolved as stale, grouped by window: the sources that resend firing alerts
 * (stale_sources) use stale_after, the others their own window. A source with
 * 0 is never swept.
 */
export function staleWindows(settings: StaleSettings): StaleWindow[] {
  const windows: StaleWindow[] = [];
  for (const source of SOURCE_NAMES) {
    const resends = settings.stale_sources.includes(source);
    const afterMs = resends ? settings.stale_after : (settings.stale_after_by_source[source] ?? 0);
    if (afterMs <= 0) continue;
    const same = windows.find((w) => w.afterMs === afterMs && w.resends === resends);
    if (same) same.sources.push(source);
    else windows.push({ afterMs, sources: [source], resends });
  }
  return windows;
}
