import { z } from 'zod';
import type { Alert } from './alert';
import { labelName } from './labels';

/**
 * What faultdesk's Zabbix webhook media type posts (config/integrations/zabbix/):
 * the media type's parameters, with unexpanded macros already dropped by its script.
 */
export const zabbixPayload = z.looseObject({
  event_id: z.string().regex(/^\d+$/, 'must be the numeric {EVENT.ID}'),
  /** {EVENT.VALUE}: 1 problem, 0 recovery. */
  event_value: z.enum(['0', '1']),
  /** {EVENT.UPDATE.STATUS}: 1 for an update (acknowledge, message, severity change). */
  event_update_status: z.enum(['0', '1']).optional().default('0'),
  event_source: z.enum(['0', '1', '2', '3']).optional().default('0'),
  event_nseverity: z.enum(['0', '1', '2', '3', '4', '5']),
  event_severity: z.string().optional(),
  event_name: z.string().optional(),
  /** {EVENT.TIMESTAMP} and {EVENT.RECOVERY.TIMESTAMP}: Unix seconds. */
  event_timestamp: z.string().regex(/^\d+$/, 'must be Unix seconds').optional(),
  event_recovery_timestamp: z.string().regex(/^\d+$/, 'must be Unix seconds').optional(),
  event_tags: z.array(z.object({ tag: z.string(), value: z.string() })).optional().default([]),
  event_update_action: z.string().optional(),
  event_update_message: z.string().optional(),
  event_update_user: z.string().optional(),
  host_name: z.string().min(1),
  host_ip: z.string().optional(),
  trigger_id: z.string().optional(),
  trigger_name: z.string().min(1),
  alert_subject: z.string().optional(),
  alert_message: z.string().optional(),
  zabbix_url: z.string().optional(),
});

export type ZabbixPayload = z.infer<typeof zabbixPayload>;

const SEVERITY_NAMES = ['not classified', 'information', 'warning', 'average', 'high', 'disaster'];

/**
 * The media type stores the fault's id and link on the problem as tags with this
 * prefix, and Zabbix sends them back with every later event of it: they say
 * nothing about the problem, and as labels they would change the alert.
 */
const OWN_TAG_PREFIX = '__faultdesk_';

export function fromZabbix(p: ZabbixPayload, receivedAt: number): Alert[] {
  const nseverity = Number(p.event_nseverity);
  const labels: Record<string, string> = {};
  // Tags first, so that faultdesk's own labels win a clash.
  for (const { tag, value } of p.event_tags) if (!tag.startsWith(OWN_TAG_PREFIX)) labels[labelName(tag)] = value;
  Object.assign(labels, {
    monitor: 'zabbix',
    alertname: p.trigger_name,
    host: p.host_name,
    severity: SEVERITY_NAMES[nseverity] ?? 'not classified',
    zabbix_severity: p.event_severity || (SEVERITY_NAMES[nseverity] ?? ''),
    nseverity: String(nseverity),
  });
  if (p.trigger_id) labels.trigger_id = p.trigger_id;
  const annotations: Record<string, string> = {};
  if (p.alert_subject) annotations.summary = p.alert_subject;
  if (p.alert_message) annotations.description = p.alert_message;
  if (p.event_name && p.event_name !== p.trigger_name) annotations.event_name = p.event_name;
  if (p.host_ip) annotations.host_ip = p.host_ip;
  const base = p.zabbix_url?.replace(/\/+$/, '');
  const link = base && p.trigger_id ? `${base}/tr_events.php?triggerid=${p.trigger_id}&eventid=${p.event_id}` : undefined;
  const isUpdate = p.event_update_status === '1';
  const note = isUpdate
    ? {
        kind: 'comment' as const,
        text: [
          `Zabbix update${p.event_update_user ? ` by ${p.event_update_user}` : ''}${p.event_update_action ? `: ${p.event_update_action}` : ''}`,
          p.event_update_message ?? '',
        ]
          .filter((s) => s !== '')
          .join('\n'),
      }
    : undefined;
  return [
    {
      source: 'zabbix',
      sourceId: p.event_id,
      status: p.event_value === '1' ? 'firing' : 'resolved',
      labels,
      annotations,
      startsAt: p.event_timestamp ? Number(p.event_timestamp) * 1000 : receivedAt,
      endsAt: p.event_value === '0' ? (p.event_recovery_timestamp ? Number(p.event_recovery_timestamp) * 1000 : receivedAt) : undefined,
      generatorURL: link,
      receivedAt,
      note,
    },
  ];
}
