import type { FaultRow } from '../store';

export type FaultState = 'open' | 'flapping' | 'resolved';

/** What an outbox operation asks of a ticket system. */
export type OperationKind = 'create' | 'update' | 'escalate' | 'resolve' | 'reopen' | 'flapping' | 'comment';

export interface OperationPayload {
  /** What changed, one line each, for the ticket comment. */
  changes: string[];
  /** escalate: severity before and after. */
  fromFs?: number;
  toFs?: number;
  /** resolve: set the ticket solved, or only comment. */
  solve?: boolean;
  /** A sentence that heads the comment (flapping, settling). */
  note?: string;
}

export interface TimelineEntry {
  at: number;
  event: string;
  detail?: string;
}

interface Timeline {
  omitted: number;
  entries: TimelineEntry[];
}

/** A fault's timeline keeps its first and latest entries; a flapping fault must not grow without bound. */
const TIMELINE_HEAD = 20;
const TIMELINE_MAX = 200;

export function parseTimeline(text: string): Timeline {
  return JSON.parse(text) as Timeline;
}

export function appendTimeline(row: FaultRow, entry: TimelineEntry): void {
  const timeline = parseTimeline(row.timeline);
  timeline.entries.push(entry);
  if (timeline.entries.length > TIMELINE_MAX) {
    timeline.entries.splice(TIMELINE_HEAD, 1);
    timeline.omitted += 1;
  }
  row.timeline = JSON.stringify(timeline);
}

export const EMPTY_TIMELINE = JSON.stringify({ omitted: 0, entries: [] } satisfies Timeline);

/** The ident column: one fault per category and key. */
export function faultIdent(category: string, key: string): string {
  return `${category}\u001f${key}`;
}

/** Labels as `a="b", c="d"`, for comments and logs. */
export function labelText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ');
}

/** The timeline as the API and the record show it. */
export function timelineJson(text: string) {
  const timeline = parseTimeline(text);
  return {
    omitted: timeline.omitted,
    entries: timeline.entries.map((e) => ({ at: new Date(e.at).toISOString(), event: e.event, ...(e.detail ? { detail: e.detail } : {}) })),
  };
}
