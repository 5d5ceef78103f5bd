import { z } from 'zod';
import type { Alert } from './alert';
import { labelMap } from './labels';

const stringMap = labelMap();
const timestamp = z.iso.datetime({ offset: true, precision: undefined });

/** Alertmanager's webhook payload, version 4 (notify/webhook/webhook.go); extra fields are allowed. */
export const alertmanagerPayload = z.looseObject({
  version: z.literal('4'),
  groupKey: z.string(),
  truncatedAlerts: z.number().int().nonnegative().optional(),
  receiver: z.string(),
  status: z.enum(['firing', 'resolved']),
  alerts: z
    .array(
      z.looseObject({
        status: z.enum(['firing', 'resolved']),
        labels: stringMap,
        annotations: stringMap.optional().default({}),
        startsAt: timestamp,
        endsAt: timestamp.optional(),
        generatorURL: z.string().optional(),
        fingerprint: z.string().regex(/^[0-9a-f]{1,64}$/, 'must be a hex fingerprint'),
      }),
    )
    .min(1),
  groupLabels: stringMap.optional(),
  commonLabels: stringMap.optional(),
  commonAnnotations: stringMap.optional(),
  externalURL: z.string().optional(),
});

export type AlertmanagerPayload = z.infer<typeof alertmanagerPayload>;

/** Go's zero time, which Alertmanager sends as endsAt of an alert that is still firing. */
const GO_ZERO_TIME = Date.parse('0001-01-01T00:00:00Z');

export function fromAlertmanager(payload: AlertmanagerPayload, receivedAt: number): Alert[] {
  return payload.alerts.map((a) => {
    const endsAt = a.endsAt === undefined ? undefined : Date.parse(a.endsAt);
    return {
      source: 'alertmanager',
      sourceId: a.fingerprint,
      status: a.status,
      labels: a.labels,
      annotations: a.annotations,
      startsAt: Date.parse(a.startsAt),
      endsAt: endsAt === undefined || endsAt <= GO_ZERO_TIME ? undefined : endsAt,
      generatorURL: a.generatorURL || undefined,
      receivedAt,
    };
  });
}
