import type { TicketEvent } from '../tickets/inbound/types';
import type { HumanEvent } from './events';
import type { TicketSeen } from './fault';

/** What faultdesk knows of one ticket system's people and words, to read its changes. */
export interface InboundSettings {
  /** Resolutions that mean "won't fix": ServiceNow close codes, Zendesk tags. */
  wontFix: readonly string[];
  /** faultdesk's own API user in that system (e-mail, login, or id): its changes are echoes. */
  ownUsers: readonly string[];
  /** The support tier a group (Zendesk group_id, ServiceNow assignment group) belongs to, if any. */
  tierOfGroup(group: string): string | undefined;
  /** The system's priority for faultdesk's priority word: a poll that names no actor and says this is hearing faultdesk's own write. */
  systemPriority?(priority: string): string | undefined;
}

/** What the mapping needs of the fault: what faultdesk asked of the ticket and what it heard of it before. */
export interface FaultView {
  ticketWanted: 'open' | 'solved';
  ticketSeen: TicketSeen;
  priority: string;
  /** The ticket's status as the system answered faultdesk's own last write (its word: Zendesk open, ServiceNow 2 …). */
  ticket: { status: string | null };
}

/** The systems' status words in faultdesk's (see TicketEvent.status). */
const STATUS_WORDS: Record<string, TicketEvent['status']> = {
  new: 'new',
  open: 'working',
  pending: 'waiting',
  hold: 'waiting',
  solved: 'solved',
  closed: 'closed',
  '1': 'new',
  '2': 'working',
  '3': 'waiting',
  '6': 'solved',
  '7': 'closed',
  '8': 'cancelled',
};

export type TicketChanged = Extract<HumanEvent, { type: 'ticket_changed' }>;

const lower = (s: string) => s.trim().toLowerCase();

/** Whether the actor is faultdesk's own API user (any of its names matches, case aside). */
export function isOwnActor(actor: TicketEvent['actor'], ownUsers: readonly string[]): boolean {
  if (!actor) return false;
  const own = new Set(ownUsers.map(lower));
  return [actor.id, actor.email, actor.name].some((n) => n !== undefined && n !== '' && own.has(lower(n)));
}

/**
 * A change heard from a ticket system as the `ticket_changed` event decide() acts on: the group
 * named by its tier, a resolution in the won't-fix list marked so, and faultdesk's own changes
 * marked as echoes. A poll that cannot name who made a change (Zendesk show_many) hears
 * faultdesk's own writes too: the status its own last write left and the priority it sets are
 * not taken as a person's (the rest of the change still is); nor, from anyone, is the priority
 * faultdesk itself sets.
 */
export function toTicketChanged(event: TicketEvent, fault: FaultView, settings: InboundSettings): TicketChanged {
  const actor = event.actor;
  const by = actor?.email ?? actor?.name ?? actor?.id ?? event.comment?.author ?? event.system;
  const own = isOwnActor(actor, settings.ownUsers);
  const wontFixList = new Set(settings.wontFix.map(lower));
  const wontFix =
    (event.closeCode !== undefined && wontFixList.has(lower(event.closeCode))) || (event.tags ?? []).some((t) => wontFixList.has(lower(t)));
  const closeCode = event.closeCode ?? (wontFix ? (event.tags ?? []).find((t) => wontFixList.has(lower(t))) : undefined);
  const tier = event.group ? (settings.tierOfGroup(event.group) ?? (event.groupName ? settings.tierOfGroup(event.groupName) : undefined)) : undefined;
  // The latest journal entry a business rule sends may be faultdesk's own comment: never a person's.
  const comment = event.comment && !isOwnActor({ name: event.comment.author }, settings.ownUsers) ? event.comment : undefined;
  const ownStatus = fault.ticket.status === null ? undefined : STATUS_WORDS[fault.ticket.status.toLowerCase()];
  const status = actor === undefined && event.status !== undefined && event.status === ownStatus ? undefined : event.status;
  // The priority faultdesk itself sets is never taken as a person's pin: a poll names nobody, and a
  // change that brings it along may come after faultdesk's own change went unheard.
  const priority = event.priority !== undefined && settings.systemPriority?.(fault.priority) === event.priority ? undefined : event.priority;
  return {
    type: 'ticket_changed',
    by,
    via: event.system,
    ...(status !== undefined ? { status } : {}),
    ...(event.assignee !== undefined ? { assignee: event.assignee } : {}),
    ...(event.group !== undefined ? { group: event.group } : {}),
    ...(tier !== undefined ? { tier } : {}),
    ...(priority !== undefined ? { priority, ...(settings.systemPriority ? { priorityNotOwn: true } : {}) } : {}),
    ...(closeCode !== undefined ? { closeCode } : {}),
    ...(wontFix ? { wontFix } : {}),
    ...(comment ? { comment: { text: comment.text, ...(comment.author ? { author: comment.author } : {}) } } : {}),
    ...(own ? { own } : {}),
  };
}
