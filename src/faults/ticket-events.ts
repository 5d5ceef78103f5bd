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
}

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
 * faultdesk's own writes too: a reopen faultdesk asked for and the priority faultdesk sets are
 * taken as its own.
 */
export function toTicketChanged(event: TicketEvent, fault: FaultView, settings: InboundSettings): TicketChanged {
  const actor = event.actor;
  const by = actor?.email ?? actor?.name ?? actor?.id ?? event.comment?.author ?? event.system;
  const own = isOwnActor(actor, settings.ownUsers) || (actor === undefined && isOwnWrite(event, fault));
  const wontFixList = new Set(settings.wontFix.map(lower));
  const wontFix =
    (event.closeCode !== undefined && wontFixList.has(lower(event.closeCode))) || (event.tags ?? []).some((t) => wontFixList.has(lower(t)));
  const closeCode = event.closeCode ?? (wontFix ? (event.tags ?? []).find((t) => wontFixList.has(lower(t))) : undefined);
  const tier = event.group ? (settings.tierOfGroup(event.group) ?? (event.groupName ? settings.tierOfGroup(event.groupName) : undefined)) : undefined;
  // The latest journal entry a business rule sends may be faultdesk's own comment: never a person's.
  const comment = event.comment && !isOwnActor({ name: event.comment.author }, settings.ownUsers) ? event.comment : undefined;
  const priority = actor === undefined && event.priority !== undefined && settings.systemPriority?.(fault.priority) === event.priority ? undefined : event.priority;
  return {
    type: 'ticket_changed',
    by,
    via: event.system,
    ...(event.status !== undefined ? { status: event.status } : {}),
    ...(event.assignee !== undefined ? { assignee: event.assignee } : {}),
    ...(event.group !== undefined ? { group: event.group } : {}),
    ...(tier !== undefined ? { tier } : {}),
    ...(priority !== undefined ? { priority } : {}),
    ...(closeCode !== undefined ? { closeCode } : {}),
    ...(wontFix ? { wontFix } : {}),
    ...(comment ? { comment: { text: comment.text, ...(comment.author ? { author: comment.author } : {}) } } : {}),
    ...(own ? { own } : {}),
  };
}

/** Without an actor: the ticket went from solved or closed back to open after faultdesk asked for exactly that (its own reopen). */
function isOwnWrite(event: TicketEvent, fault: FaultView): boolean {
  const wasDone = fault.ticketSeen.status === 'solved' || fault.ticketSeen.status === 'closed';
  const nowOpen = event.status === 'working' || event.status === 'new';
  return wasDone && nowOpen && fault.ticketWanted === 'open';
}
