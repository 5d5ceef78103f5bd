import type { Timeline } from './fault';

export { faultIdent, labelText, type FaultState, type TimelineEntry } from './fault';
export type { OperationKind, OperationPayload } from './intents';

export function parseTimeline(text: string): Timeline {
  return JSON.parse(text) as Timeline;
}

/** The timeline as the API and the record show it. */
export function timelineJson(text: string) {
  const timeline = parseTimeline(text);
  return {
    omitted: timeline.omitted,
    entries: timeline.entries.map((e) => ({
      at: new Date(e.at).toISOString(),
      event: e.event,
      ...(e.detail ? { detail: e.detail } : {}),
      ...(e.by ? { by: e.by } : {}),
      ...(e.via ? { via: e.via } : {}),
    })),
  };
}
