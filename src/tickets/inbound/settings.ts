import type { Config } from '../../config';
import type { InboundSettings } from '../../faults/ticket-events';
import type { TicketEvent } from './types';

type System = TicketEvent['system'];

/** The keys each listened-to system signs its webhooks with, from tickets.<system>.inbound. */
export function inboundKeys(config: Pick<Config, 'tickets'>): Partial<Record<System, { key: Buffer; replayWindowMs: number }>> {
  const out: Partial<Record<System, { key: Buffer; replayWindowMs: number }>> = {};
  const z = config.tickets.zendesk?.inbound;
  // Zendesk's signing secret is used as it is; the business rule's key is base64 (GlideCertificateEncryption.generateMac takes it so).
  if (z?.secret) out.zendesk = { key: Buffer.from(z.secret, 'utf8'), replayWindowMs: z.replay_window };
  const s = config.tickets.servicenow?.inbound;
  if (s?.secret) out.servicenow = { key: Buffer.from(s.secret, 'base64'), replayWindowMs: s.replay_window };
  return out;
}

const ZENDESK_PRIORITIES = new Set(['low', 'normal', 'high', 'urgent']);

/** How to read each listened-to system's changes: its won't-fix words, faultdesk's own user there, its groups' tiers. */
export function inboundSettings(config: Pick<Config, 'tickets' | 'tiers'>, learned: (system: System) => readonly string[] = () => []): Partial<Record<System, InboundSettings>> {
  const out: Partial<Record<System, InboundSettings>> = {};
  const levels = config.tiers?.levels ?? [];
  const z = config.tickets.zendesk;
  if (z?.inbound) {
    out.zendesk = {
      wontFix: z.inbound.wont_fix,
      ownUsers: [...(z.email ? [z.email] : []), ...z.inbound.own_users, ...learned('zendesk')],
      tierOfGroup: (group) => levels.find((l) => l.zendesk_group_id !== undefined && String(l.zendesk_group_id) === group)?.name,
      // What the connector sends for a priority word (src/tickets/zendesk.ts).
      systemPriority: (word) => z.priorities[word] ?? (ZENDESK_PRIORITIES.has(word) ? word : 'normal'),
    };
  }
  const s = config.tickets.servicenow;
  if (s?.inbound) {
    out.servicenow = {
      wontFix: s.inbound.wont_fix,
      ownUsers: [...(s.username ? [s.username] : []), ...s.inbound.own_users, ...learned('servicenow')],
      tierOfGroup: (group) => levels.find((l) => l.servicenow_assignment_group === group)?.name,
    };
  }
  return out;
}
