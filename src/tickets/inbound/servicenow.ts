import { z } from 'zod';
import { issueFields } from '../../errors';
import type { Parsed } from './zendesk';
import type { TicketEvent } from './types';

// What ServiceNow says about an incident: the body the shipped business rule posts
// (config/integrations/servicenow/faultdesk-business-rule.js), and a row of the Table API read by a
// poll, as TicketEvents. Both name a change by the incident's sys_id and sys_mod_count, so a change
// the business rule posted and a poll then reads is the same change, applied once.

/** Incident states (the state field's values) in faultdesk's words. */
const STATES: Record<string, TicketEvent['status']> = {
  '1': 'new',
  '2': 'working',
  '3': 'waiting',
  '6': 'solved',
  '7': 'closed',
  '8': 'cancelled',
};

const sysId = z.string().regex(/^[0-9a-f]{32}$/, 'must be a sys_id (32 hex digits)');
const optional = (max: number) =>
  z
    .string()
    .max(max)
    .transform((t) => t.trim())
    .optional();
const state = z.union([z.string(), z.number()]).transform((s, ctx) => {
  const word = STATES[String(s).trim()];
  if (word === undefined) {
    ctx.addIssue({ code: 'custom', message: `must be an incident state (${Object.entries(STATES).map(([k, v]) => `${k} ${v}`).join(', ')})` });
    return z.NEVER;
  }
  return word;
});
const modCount = z.union([z.number().int().nonnegative(), z.string().regex(/^\d{1,12}$/, 'must be a number')]).transform(Number);

const businessRuleBody = z.strictObject({
  faultdesk: z.literal('servicenow-business-rule/1'),
  sys_id: sysId,
  number: optional(40),
  correlation_id: optional(200),
  state,
  close_code: optional(200),
  priority: optional(40),
  assigned_to: optional(32),
  assigned_to_name: optional(1000),
  assignment_group: optional(32),
  assignment_group_name: optional(1000),
  sys_updated_by: z.string().trim().min(1).max(200),
  sys_updated_on: z.string().trim().min(1).max(40),
  sys_mod_count: modCount,
  journal: z
    .strictObject({
      element: z.enum(['work_notes', 'comments']),
      value: z.string().max(65_536),
      created_by: optional(200),
    })
    .nullable()
    .optional(),
});

type Incident = {
  sys_id: string;
  correlation_id?: string;
  state: TicketEvent['status'];
  close_code?: string;
  priority?: string;
  assigned_to?: string;
  assignment_group?: string;
  assignment_group_name?: string;
  sys_updated_by: string;
  sys_updated_on: string;
  sys_mod_count: number;
};

/** "2026-11-24 10:00:00" (ServiceNow's UTC date-time in the Table API) as epoch ms. */
export function serviceNowTime(text: string): number {
  const ms = Date.parse(`${text.replace(' ', 'T')}Z`);
  return Number.isNaN(ms) ? 0 : ms;
}

function toEvent(i: Incident, comment?: TicketEvent['comment']): TicketEvent {
  const blankToNull = (v: string | undefined) => (v === undefined ? undefined : v === '' ? null : v);
  const assignee = blankToNull(i.assigned_to);
  const group = blankToNull(i.assignment_group);
  return {
    system: 'servicenow',
    ticketId: i.sys_id,
    ...(i.correlation_id ? { faultId: i.correlation_id } : {}),
    changeId: `servicenow:${i.sys_id}:${i.sys_mod_count}`,
    at: serviceNowTime(i.sys_updated_on),
    actor: { name: i.sys_updated_by },
    status: i.state,
    ...(i.close_code ? { closeCode: i.close_code } : {}),
    ...(assignee !== undefined ? { assignee } : {}),
    ...(group !== undefined ? { group } : {}),
    ...(i.assignment_group_name ? { groupName: i.assignment_group_name } : {}),
    ...(i.priority ? { priority: i.priority } : {}),
    ...(comment ? { comment } : {}),
  };
}

/** The business rule's body as the change it tells of; the field paths of what is wrong otherwise. */
export function parseServiceNowWebhook(body: unknown): Parsed {
  const r = businessRuleBody.safeParse(body);
  if (!r.success) return { ok: false, errors: issueFields(r.error.issues) };
  const b = r.data;
  const j = b.journal;
  const comment = j && j.value.trim() !== '' ? { text: j.value.trim(), author: j.created_by || b.sys_updated_by, public: j.element === 'comments' } : undefined;
  return { ok: true, events: [toEvent({ ...b, state: b.state }, comment)] };
}

/** The fields a poll asks for (sysparm_fields). */
export const POLL_FIELDS = ['sys_id', 'correlation_id', 'state', 'close_code', 'priority', 'assigned_to', 'assignment_group', 'sys_updated_by', 'sys_updated_on', 'sys_mod_count'];

const polledRow = z.looseObject({
  sys_id: sysId,
  correlation_id: optional(200),
  state,
  close_code: optional(200),
  priority: optional(40),
  // With sysparm_exclude_reference_link=true a reference is its sys_id as a string.
  assigned_to: optional(32),
  assignment_group: optional(32),
  sys_updated_by: z.string().min(1),
  sys_updated_on: z.string().min(1),
  sys_mod_count: modCount,
});

/** A Table API row read by a poll as a change (no journal: a poll does not read comments). Undefined for a row that does not parse. */
export function fromPolledIncident(raw: unknown): TicketEvent | undefined {
  const r = polledRow.safeParse(raw);
  return r.success ? toEvent(r.data) : undefined;
}
