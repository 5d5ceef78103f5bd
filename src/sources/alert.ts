export const SOURCE_NAMES = ['alertmanager', 'zabbix', 'nagios', 'generic'] as const;
export type SourceName = (typeof SOURCE_NAMES)[number];

/**
 * Something a source says about an alert besides firing or resolving it:
 * a comment for the ticket (acknowledgements, messages), the source's own
 * flapping detection, or a scheduled downtime.
 */
export interface AlertNote {
  kind: 'comment' | 'flapping_start' | 'flapping_stop' | 'mute' | 'unmute';
  text: string;
}

/** One alert as every source adapter hands it on; times are epoch milliseconds. */
export interface Alert {
  source: SourceName;
  /** The source's identity of the alert (Alertmanager fingerprint, Zabbix problem event id, ...). */
  sourceId: string;
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: number;
  endsAt?: number;
  generatorURL?: string;
  receivedAt: number;
  /** Present when the delivery is an update about the alert rather than a change of its state. */
  note?: AlertNote;
}
