export type SourceName = 'alertmanager' | 'zabbix' | 'nagios' | 'generic';

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
}
