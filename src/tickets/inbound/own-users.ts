import type { Logger } from '../../log';
import type { TicketEvent } from './types';

type System = TicketEvent['system'];

/** How to ask a ticket system who faultdesk is there. */
export type WhoAmI = () => Promise<{ id: string; email?: string }>;

/**
 * faultdesk's own API user as each ticket system names it, learned by asking the system (Zendesk
 * GET /api/v2/users/me): event subscriptions name the person who made a change by id only, and
 * the config holds an e-mail. Asked before the first change is read; a failure is logged and asked
 * again before the next one (until then, the configured names are all there is).
 */
export class OwnUsers {
  private readonly learned = new Map<System, string[]>();
  private readonly asking = new Map<System, Promise<void>>();

  constructor(
    private readonly whoAmI: Partial<Record<System, WhoAmI>>,
    private readonly logger: Logger,
  ) {}

  /** The names learned so far. */
  of(system: System): readonly string[] {
    return this.learned.get(system) ?? [];
  }

  /** Learns the system's own user unless known; never throws. */
  async learn(system: System): Promise<void> {
    const ask = this.whoAmI[system];
    if (!ask || this.learned.has(system)) return;
    let pending = this.asking.get(system);
    if (!pending) {
      pending = ask()
        .then((me) => {
          this.learned.set(system, [me.id, ...(me.email ? [me.email] : [])]);
        })
        .catch((err: unknown) => {
          this.logger.warn('could not learn faultdesk\'s own user; its changes are known by the configured names only', { system, err });
        })
        .finally(() => this.asking.delete(system));
      this.asking.set(system, pending);
    }
    await pending;
  }
}
