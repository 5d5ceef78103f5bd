import type { Clock } from '../clock';
import type { FaultService, TicketEventOutcome } from '../faults';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import type { Store } from '../store';
import { fromPolledIncident, POLL_FIELDS } from '../tickets/inbound/servicenow';
import type { TicketEvent } from '../tickets/inbound/types';
import { fromShownTicket } from '../tickets/inbound/zendesk';

/** What the poll needs of the Zendesk connector. */
export interface ZendeskPolled {
  showMany(ids: readonly string[]): Promise<unknown[]>;
}

/** What the poll needs of the ServiceNow connector. */
export interface ServiceNowPolled {
  updatedSince(since: string, fields: readonly string[], limit: number, offset?: number): Promise<unknown[]>;
}

export interface TicketPollDeps {
  store: Store;
  faults: Pick<FaultService, 'onTicketEvents'>;
  metrics: Pick<Metrics, 'inboundChanges'>;
  logger: Logger;
  clock: Clock;
  /** Set for each system whose config says inbound.poll. */
  zendesk?: ZendeskPolled;
  servicenow?: ServiceNowPolled;
  /** Called before a system's changes are applied (learns faultdesk's own user there); never throws. */
  prepare?: (system: TicketEvent['system']) => Promise<void>;
  /** How long the ids of changes heard are kept (a change heard again after that would be applied again). */
  keepSeenMs?: number;
}

/** show_many takes at most 100 ids. */
const ZENDESK_BATCH = 100;
/** ServiceNow rows a request; pages a run (the rest waits for the next run: the cursor says where). */
const SERVICENOW_PAGE = 100;
const SERVICENOW_PAGES = 10;
/** Where a first ServiceNow poll starts: this long before now. */
const FIRST_LOOK_BACK_MS = 10 * 60_000;
export const SERVICENOW_CURSOR = 'servicenow:sys_updated_on';
const DEFAULT_KEEP_SEEN_MS = 14 * 86_400_000;

/** ServiceNow's UTC date-time text, to the second. */
export function glideDateTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/**
 * The human loop for daemons the ticket systems cannot reach: reads what changed in the tickets of
 * live faults and hands the changes to the faults stage, as a webhook does. A change a webhook
 * already brought is the same change (ServiceNow: sys_id and sys_mod_count) or the same state
 * (Zendesk: decide() compares with what it heard before), so both at once change nothing twice.
 * Requests go through the connectors' clients, paced to their requests_per_minute.
 */
export class TicketPoller {
  constructor(private readonly deps: TicketPollDeps) {}

  /** One run: each system, then forgets change ids older than the keep time. How many changes were applied. */
  async run(): Promise<number> {
    let applied = 0;
    for (const [system, poll] of [
      ['zendesk', () => this.pollZendesk()],
      ['servicenow', () => this.pollServiceNow()],
    ] as const) {
      try {
        applied += await poll();
      } catch (err) {
        // A ticket system that is down heals by itself: the next run tries again from the same cursor.
        this.deps.logger.warn('ticket poll failed; the next run tries again', { system, err });
      }
    }
    await this.deps.store.repos.inbound.forget(this.deps.clock.now() - (this.deps.keepSeenMs ?? DEFAULT_KEEP_SEEN_MS));
    return applied;
  }

  /** The tickets of live faults, by show_many, 100 a request. */
  async pollZendesk(): Promise<number> {
    const { zendesk } = this.deps;
    if (!zendesk) return 0;
    const ids = await this.liveTickets('zendesk');
    let applied = 0;
    for (let i = 0; i < ids.length; i += ZENDESK_BATCH) {
      const tickets = await zendesk.showMany(ids.slice(i, i + ZENDESK_BATCH));
      applied += await this.hand('zendesk', tickets.map(fromShownTicket));
    }
    return applied;
  }

  /** faultdesk's incidents updated since the cursor, oldest first; the cursor moves to the newest seen. */
  async pollServiceNow(): Promise<number> {
    const { servicenow, store, clock } = this.deps;
    if (!servicenow) return 0;
    const since = (await store.repos.inbound.cursor(SERVICENOW_CURSOR)) ?? glideDateTime(clock.now() - FIRST_LOOK_BACK_MS);
    let newest = since;
    let applied = 0;
    for (let page = 0; page < SERVICENOW_PAGES; page += 1) {
      const rows = await servicenow.updatedSince(since, POLL_FIELDS, SERVICENOW_PAGE, page * SERVICENOW_PAGE);
      const events = rows.map(fromPolledIncident);
      applied += await this.hand('servicenow', events);
      for (const e of events) if (e) newest = maxTime(newest, glideDateTime(e.at));
      // `>=` the cursor: rows of its very second come again next run, and are known by their change ids.
      await store.repos.inbound.saveCursor(SERVICENOW_CURSOR, newest, clock.now());
      if (rows.length < SERVICENOW_PAGE) break;
    }
    return applied;
  }

  private async liveTickets(system: string): Promise<string[]> {
    const repos = this.deps.store.repos;
    const live = [...(await repos.faults.listCurrentInState('open')), ...(await repos.faults.listCurrentInState('flapping'))];
    return [...new Set(live.filter((f) => f.ticket_system === system && f.ticket_id).map((f) => f.ticket_id as string))];
  }

  private async hand(system: TicketEvent['system'], events: ReadonlyArray<TicketEvent | undefined>): Promise<number> {
    const known = events.filter((e): e is TicketEvent => e !== undefined);
    if (known.length > 0) await this.deps.prepare?.(system);
    if (events.length > known.length) this.deps.logger.warn('ticket poll: records that do not parse were skipped', { system, skipped: events.length - known.length });
    const outcomes: TicketEventOutcome[] = await this.deps.faults.onTicketEvents(known);
    for (const outcome of outcomes) this.deps.metrics.inboundChanges.inc({ system, via: 'poll', outcome });
    return outcomes.filter((o) => o === 'applied').length;
  }
}

function maxTime(a: string, b: string): string {
  return a >= b ? a : b;
}
