import { z } from 'zod';
import type { Alert } from './alert';
import { labelMap, labelsFingerprint } from './labels';

const timestamp = z.iso.datetime({ offset: true });

/** The normalized alert itself, for any other tool: a list of alerts. */
export const genericPayload = z
  .array(
    z.strictObject({
      /** The sender's identity of the alert; by default a hash of its labels. */
      id: z.string().min(1).max(512).optional(),
      status: z.enum(['firing', 'resolved']),
      labels: labelMap({ pattern: /^[a-zA-Z_][a-zA-Z0-9_]*$/, message: 'must be a label name' }).refine((l) => Object.keys(l).length > 0, 'must have at least one label'),
      annotations: labelMap().optional().default({}),
      startsAt: timestamp.optional(),
      endsAt: timestamp.optional(),
      generatorURL: z.string().optional(),
    }),
  )
  .min(1);

export type GenericPayload = z.infer<typeof genericPayload>;

export function fromGeneric(payload: GenericPayload, receivedAt: number): Alert[] {
  return payload.map((a) => ({
    source: 'generic',
    sourceId: a.id ?? labelsFingerprint(a.labels),
    status: a.status,
    labels: a.labels,
    annotations: a.annotations,
    startsAt: a.startsAt ? Date.parse(a.startsAt) : receivedAt,
    endsAt: a.endsAt ? Date.parse(a.endsAt) : a.status === 'resolved' ? receivedAt : undefined,
    generatorURL: a.generatorURL,
    receivedAt,
  }));
}
