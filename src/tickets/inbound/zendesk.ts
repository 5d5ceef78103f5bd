import { z } from 'zod';
import { issueFields, type InvalidField } from '../../errors';
import type { TicketEvent } from './types';

// What Zendesk says about a ticket, in either of the two webhook kinds (event subscriptions, or a
// trigger whose body is config/integrations/zendesk/trigger-body.json) and in show_many's tickets,
// as TicketEvents. Fields faultdesk does not read are let through unchecked: Zendesk adds fields.

export type Parsed = { ok: true; events: TicketEvent[] } | { ok: false; errors: InvalidField[] };

const id = z.union([z.string().regex(/^\d{1,20}$/, 'must be a numeric id'), z.number().int().nonnegative()]).transform(String);
const text = z.string().max(65_536);
const nullableId = z.union([id, z.literal(''), z.null()]).transform((v) => (v === '' || v === null ? null : v));
const time = z.string().refine((t) => !Number.isNaN(Date.parse(t)), 'must be a date and time (ISO 8601)');

/** Zendesk's status words (any case; event subscriptions say SOLVED, triggers Solved) in faultdesk's. */
const STATUS: Record<string, TicketEvent['status']> = {
  new: 'new',
  open: 'working',
  pending: 'waiting',
  hold: 'waiting',
  'on-hold': 'waiting',
  on_hold: 'waiting',
  solved: 'solved',
  closed: 'closed',
};
const status = z.string().transform((s, ctx) => {
  const word = STATUS[s.trim().toLowerCase().replace(/\s+/g, '-')];
  if (word === undefined) {
    ctx.addIssue({ code: 'custom', message: `must be a Zendesk ticket status (${Object.keys(STATUS).join(', ')})` });
    return z.NEVER;
  }
  return word;
});
/** low … urgent; a trigger renders an unset priority as "-" or nothing. */
const priority = z
  .string()
  .max(40)
  .transform((p) => p.trim().toLowerCase())
  .transform((p) => (p === '' || p === '-' ? undefined : p));

// --- event subscriptions ---------------------------------------------------------------------

const detail = z.looseObject({
  id: id.optional(),
  status: status.optional(),
  external_id: z.union([text, z.null()]).optional(),
  assignee_id: nullableId.optional(),
  group_id: nullableId.optional(),
  priority: z.union([priority, z.null()]).optional(),
  tags: z.array(z.string().max(1000)).max(1000).optional(),
  updated_at: time.optional(),
  // Zendesk names changes made by no person (a trigger, the system) with ids such as -1: kept as they come.
  actor_id: z.union([z.string().trim().max(40), z.number().int(), z.null()]).transform((v) => (v === null || v === '' ? null : String(v))).optional(),
});

const comment = z.looseObject({
  id: id.optional(),
  body: text,
  is_public: z.boolean().optional(),
  author: z.looseObject({ id: id.optional(), name: z.string().max(1000).optional(), email: z.string().max(1000).optional() }).optional(),
});

const eventSubscription = z.looseObject({
  type: z.string().regex(/^zen:event-type:/, 'must be a Zendesk event type (zen:event-type:…)'),
  id: z.string().min(1).max(200),
  time: time,
  subject: z.string().max(200).optional(),
  detail: detail,
  event: z.looseObject({ comment: comment.optional() }).optional(),
});

function fromEventSubscription(body: z.infer<typeof eventSubscription>): TicketEvent[] {
  if (!body.type.startsWith('zen:event-type:ticket.')) return []; // user, organization … events: not about tickets
  const ticketId = body.detail.id ?? /^zen:ticket:(\d+)$/.exec(body.subject ?? '')?.[1];
  if (ticketId === undefined) return [];
  const d = body.detail;
  const kind = body.type.slice('zen:event-type:ticket.'.length);
  const c = kind === 'comment_added' ? body.event?.comment : undefined;
  const at = Date.parse(d.updated_at ?? body.time);
  return [
    {
      system: 'zendesk',
      ticketId,
      ...(d.external_id ? { faultId: d.external_id } : {}),
      // One update can send several events (a status change and a comment): each is a change of its own.
      changeId: `zendesk:ticket:${ticketId}:${d.updated_at ?? body.time}:${kind}`,
      at,
      ...(d.actor_id ? { actor: { id: d.actor_id } } : c?.author ? { actor: author(c.author) } : {}),
      ...(d.status !== undefined ? { status: d.status } : {}),
      ...(d.assignee_id !== undefined ? { assignee: d.assignee_id } : {}),
      ...(d.group_id !== undefined ? { group: d.group_id } : {}),
      ...(d.priority ? { priority: d.priority } : {}),
      ...(d.tags ? { tags: d.tags } : {}),
      ...(c ? { comment: { ...(c.id ? { id: c.id } : {}), text: c.body, ...(c.author ? { author: c.author.email ?? c.author.name ?? c.author.id } : {}), ...(c.is_public !== undefined ? { public: c.is_public } : {}) } } : {}),
    },
  ];
}

function author(a: { id?: string; name?: string; email?: string }): NonNullable<TicketEvent['actor']> {
  return { ...(a.id ? { id: a.id } : {}), ...(a.email ? { email: a.email } : {}), ...(a.name ? { name: a.name } : {}) };
}

// --- trigger webhooks (config/integrations/zendesk/trigger-body.json) ------------------------

const optionalText = (max: number) =>
  z
    .string()
    .max(max)
    .transform((t) => t.trim())
    .transform((t) => (t === '' || t === '-' ? undefined : t))
    .optional();

const trigger = z.strictObject({
  faultdesk: z.literal('zendesk-trigger/1'),
  ticket: z.looseObject({
    id,
    external_id: optionalText(200),
    status,
    priority: priority.optional(),
    assignee: optionalText(1000),
    group_id: optionalText(40),
    group: optionalText(1000),
    tags: z.string().max(65_536).optional(),
    // Rendered by Zendesk; it names the update, so it is kept as it is even when it is no ISO time.
    updated_at: z.string().trim().min(1).max(100),
    latest_comment: z.string().max(65_536).optional(),
    latest_comment_author: optionalText(1000),
  }),
  current_user: z.looseObject({ id: optionalText(40), email: optionalText(1000), name: optionalText(1000) }),
});

function fromTrigger(body: z.infer<typeof trigger>): TicketEvent {
  const t = body.ticket;
  const u = body.current_user;
  const actor = { ...(u.id ? { id: u.id } : {}), ...(u.email ? { email: u.email } : {}), ...(u.name ? { name: u.name } : {}) };
  const group = t.group_id !== undefined && /^\d{1,20}$/.test(t.group_id) ? t.group_id : undefined;
  const at = Date.parse(t.updated_at);
  const commentText = t.latest_comment?.trim();
  return {
    system: 'zendesk',
    ticketId: t.id,
    ...(t.external_id ? { faultId: t.external_id } : {}),
    changeId: `zendesk:ticket:${t.id}:${t.updated_at}`,
    at: Number.isNaN(at) ? 0 : at,
    ...(Object.keys(actor).length > 0 ? { actor } : {}),
    status: t.status,
    // The trigger names the assignee by e-mail; empty: nobody.
    assignee: t.assignee ?? null,
    ...(group !== undefined ? { group } : {}),
    ...(t.group ? { groupName: t.group } : {}),
    ...(t.priority ? { priority: t.priority } : {}),
    ...(t.tags !== undefined ? { tags: t.tags.split(/\s+/).filter((x) => x !== '') } : {}),
    // The trigger fires on the updates its conditions name; a comment is one only when the update added it (see the README).
    ...(commentText ? { comment: { text: commentText, ...(t.latest_comment_author ? { author: t.latest_comment_author } : {}) } } : {}),
  };
}

/** A webhook body of either kind as the changes it tells of; the field paths of what is wrong otherwise. */
export function parseZendeskWebhook(body: unknown): Parsed {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { ok: false, errors: [{ path: '(body)', message: 'must be a JSON object' }] };
  const isTrigger = 'faultdesk' in body;
  if (isTrigger) {
    const r = trigger.safeParse(body);
    return r.success ? { ok: true, events: [fromTrigger(r.data)] } : { ok: false, errors: issueFields(r.error.issues) };
  }
  const r = eventSubscription.safeParse(body);
  return r.success ? { ok: true, events: fromEventSubscription(r.data) } : { ok: false, errors: issueFields(r.error.issues) };
}

// --- polling: GET /api/v2/tickets/show_many -----------------------------------------------------

const shownTicket = z.looseObject({
  id,
  status: status,
  external_id: z.union([text, z.null()]).optional(),
  assignee_id: nullableId.optional(),
  group_id: nullableId.optional(),
  priority: z.union([priority, z.null()]).optional(),
  tags: z.array(z.string()).optional(),
  updated_at: time,
});

/**
 * A ticket as show_many returns it, as the change that made it so: no actor (show_many does not
 * say who) and no comment. The change id is the ticket's update time, so a poll that finds nothing
 * new changes nothing. Tickets that do not parse are left out (a poll must not stop at one).
 */
export function fromShownTicket(raw: unknown): TicketEvent | undefined {
  const r = shownTicket.safeParse(raw);
  if (!r.success) return undefined;
  const t = r.data;
  return {
    system: 'zendesk',
    ticketId: t.id,
    ...(t.external_id ? { faultId: t.external_id } : {}),
    changeId: `zendesk:ticket:${t.id}:${t.updated_at}:poll`,
    at: Date.parse(t.updated_at),
    status: t.status,
    ...(t.assignee_id !== undefined ? { assignee: t.assignee_id } : {}),
    ...(t.group_id !== undefined ? { group: t.group_id } : {}),
    ...(t.priority ? { priority: t.priority } : {}),
    ...(t.tags ? { tags: t.tags } : {}),
  };
}
