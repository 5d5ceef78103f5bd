import { z } from 'zod';
import { durationMs } from '../config';
import { fieldSpec, mailEvent } from '../config/schema';

const fs = z.number().int().min(1).max(10);
const labelName = z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'must be a label name');

export const severitySchema = z.union([
  fs,
  z.strictObject({
    /** Label whose value is looked up in `map` (case-insensitive). */
    label: labelName.optional(),
    map: z.record(z.string(), fs).optional(),
    /** Label holding FS as a number; rounded and clamped to 1–10. */
    numeric_label: labelName.optional(),
    default: fs.optional(),
  }),
]);

export const ticketSchema = z.strictObject({
  system: z.enum(['local', 'zendesk', 'servicenow']).optional(),
  subject: z.string().min(1).optional(),
  body: z.string().min(1).optional(),
  /** At resolve: set the ticket solved (true) or only comment and leave it open (false). */
  solve_on_resolve: z.boolean().optional(),
  /** Fields for the ticket system, merged over the system's defaults from the config. */
  fields: z.record(z.string(), fieldSpec).optional(),
});

export const diagnosisSchema = z.strictObject({
  runbook: z.string().optional(),
  graph: z.string().optional(),
  hints: z.array(z.string()).optional(),
});

export const notifySchema = z.strictObject({
  /** Recipients; without it, email.to from the config. */
  to: z.array(z.string().min(3)).optional(),
  /** Events that mail; an empty list mails nothing. */
  events: z.array(mailEvent),
});

const categoryFields = {
  notify: notifySchema.optional(),
  fault_key: z.array(labelName).min(1).optional(),
  severity: severitySchema.optional(),
  repair_time: z.strictObject({ a: z.number().positive(), b: z.number().positive() }).optional(),
  priority: z.array(z.strictObject({ min: fs, value: z.string().min(1) })).min(1).optional(),
  ticket: ticketSchema.optional(),
  diagnosis: diagnosisSchema.optional(),
  update_interval: durationMs.optional(),
  reopen_within: durationMs.optional(),
  flapping: z
    .strictObject({ changes: z.number().int().min(2).optional(), window: durationMs.optional(), quiet: durationMs.optional() })
    .optional(),
  action: z.enum(['ticket', 'drop']).optional(),
  /** The support tier faults of this category start at (one of the config's tiers). */
  tier: z.string().min(1).optional(),
  /** false: acknowledgements of its faults are not written back to the monitoring systems. */
  writeback: z.boolean().optional(),
};

export const categorySchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'must be letters, digits, and _ . : -'),
  /** Alertmanager matchers; all must match. Empty matches every alert. */
  match: z.array(z.string()).default([]),
  /** Used for alerts no other category matches, wherever it stands. */
  default: z.boolean().optional(),
  ...categoryFields,
});

export const ruleFileSchema = z.strictObject({
  /** Settings every category of this file gets unless it sets its own. */
  defaults: z.strictObject(categoryFields).optional(),
  categories: z.array(categorySchema).default([]),
});

/** The file without its categories checked: the loader checks each category alone. */
export const ruleFileFrameSchema = z.strictObject({
  defaults: z.unknown().optional(),
  categories: z.array(z.unknown()).default([]),
});

export const defaultsSchema = z.strictObject(categoryFields);

export type RuleFile = z.infer<typeof ruleFileSchema>;
export type CategorySpec = z.infer<typeof categorySchema>;
export type CategoryDefaults = NonNullable<RuleFile['defaults']>;
