import type { AxiosInstance } from 'axios';
import type { Clock } from '../clock';
import type { Config } from '../config';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import type { Store } from '../store';
import { LocalTicketSystem } from './local';
import { ServiceNowTicketSystem } from './servicenow';
import type { TicketSystem } from './types';
import { ZendeskTicketSystem } from './zendesk';

export interface ConfiguredSystem {
  system: TicketSystem;
  /** Operations of this system in flight at once. */
  concurrency: number;
}

/** Every configured ticket system, wired explicitly: local always, the others when the config sets them up. */
export function createTicketSystems(
  config: Pick<Config, 'tickets' | 'outbox'>,
  deps: { store: Store; clock: Clock; logger: Logger; metrics: Pick<Metrics, 'ticketDuplicates'>; axios?: AxiosInstance },
): Map<string, ConfiguredSystem> {
  const systems = new Map<string, ConfiguredSystem>();
  systems.set('local', { system: new LocalTicketSystem(deps.store, deps.clock), concurrency: config.outbox.concurrency });
  const connectorDeps = { logger: deps.logger, clock: deps.clock, metrics: deps.metrics };
  const z = config.tickets.zendesk;
  if (z) {
    systems.set('zendesk', {
      concurrency: z.concurrency,
      system: new ZendeskTicketSystem(
        {
          url: z.url,
          email: z.email,
          token: z.token,
          oauthToken: z.oauth_token,
          timeoutMs: z.timeout,
          createSettleMs: createSettleMs(z),
          requestsPerMinute: z.requests_per_minute,
          priorities: z.priorities,
          axios: deps.axios,
        },
        connectorDeps,
      ),
    });
  }
  const s = config.tickets.servicenow;
  if (s) {
    systems.set('servicenow', {
      concurrency: s.concurrency,
      system: new ServiceNowTicketSystem(
        {
          url: s.url,
          username: s.username,
          password: s.password,
          oauth: s.oauth ? { grant: s.oauth.grant, clientId: s.oauth.client_id, clientSecret: s.oauth.client_secret ?? '' } : undefined,
          timeoutMs: s.timeout,
          createSettleMs: createSettleMs(s),
          requestsPerMinute: s.requests_per_minute,
          bands: s.bands,
          closeCode: s.close_code,
          axios: deps.axios,
        },
        connectorDeps,
      ),
    });
  }
  return systems;
}

/**
 * A create the system is still working on when we give up has, by default,
 * three more timeouts to land before the retry looks for it: four in all.
 */
function createSettleMs(limits: { timeout: number; create_settle?: number }): number {
  return limits.create_settle ?? 3 * limits.timeout;
}
