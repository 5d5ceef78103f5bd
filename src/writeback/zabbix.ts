import type { AxiosInstance } from 'axios';
import { DeliveryError } from '../delivery';
import { ApiClient } from '../tickets/http';
import { noop, ticketText, type WritebackContext, type WritebackPlan, type WritebackTarget } from './target';

export interface ZabbixTargetOptions {
  /** The frontend's base URL, or its api_jsonrpc.php. */
  url: string;
  apiToken: string;
  closeOnTicketClose: boolean;
  timeoutMs: number;
  axios?: AxiosInstance;
}

/** event.acknowledge's action bitmask (Zabbix 6.0). */
export const ZABBIX_ACTION = { close: 1, acknowledge: 2, message: 4, unacknowledge: 16 } as const;

/** Zabbix keeps at most this many characters of an acknowledgement message. */
const MESSAGE_MAX = 2048;

interface JsonRpcAnswer {
  result?: unknown;
  error?: { code?: number; message?: string; data?: string };
}

/**
 * Acknowledgements of the Zabbix problem events a fault came from (each
 * Zabbix alert's source id is its problem's {EVENT.ID}): acknowledge with a
 * message on acknowledge; on release, unacknowledge when the ack was
 * withdrawn, or close the problem when a person closed the ticket and the
 * config asks for it. A renewal of an acknowledgement writes nothing again.
 */
export class ZabbixTarget implements WritebackTarget {
  readonly system = 'zabbix';
  private readonly client: ApiClient;
  private readonly path: string;

  constructor(private readonly options: ZabbixTargetOptions) {
    const url = new URL(options.url);
    const endpoint = url.pathname.endsWith('.php') ? url.pathname : `${url.pathname.replace(/\/+$/, '')}/api_jsonrpc.php`;
    this.path = endpoint;
    // The token goes in the request body (Zabbix 6.0); no Authorization header.
    this.client = new ApiClient({ name: 'zabbix', baseURL: url.origin, timeoutMs: options.timeoutMs, requestsPerMinute: 6_000, auth: { header: async () => '' }, axios: options.axios });
  }

  plan(ctx: WritebackContext): WritebackPlan {
    const { fault, payload, state, action, now } = ctx;
    const eventIds = [...new Set(ctx.alerts.map((a) => a.source_id))].filter((id) => /^\d+$/.test(id)).sort();
    if (eventIds.length === 0) return noop('no Zabbix problem events in this fault');
    const by = payload.by ?? fault.acknowledged_by ?? 'someone';
    if (action === 'acknowledge') {
      if (state?.active === 1) return noop('acknowledged in Zabbix already');
      const message = `Acknowledged by ${by} in faultdesk: fault ${fault.id}, ${ticketText(fault)}.`;
      return this.call(eventIds, ZABBIX_ACTION.acknowledge | ZABBIX_ACTION.message, message, { ref: eventIds.join(','), active: 1, active_until: null });
    }
    if (state?.active !== 1) return noop('nothing acknowledged in Zabbix to release');
    const released = { ref: state.ref, active: 0, active_until: now };
    if (payload.reason === 'withdrawn') {
      return this.call(eventIds, ZABBIX_ACTION.unacknowledge | ZABBIX_ACTION.message, `Acknowledgement withdrawn in faultdesk (fault ${fault.id}).`, released);
    }
    if (payload.reason === 'closed' && this.options.closeOnTicketClose) {
      const who = fault.human_closed_by ?? by;
      return this.call(eventIds, ZABBIX_ACTION.close | ZABBIX_ACTION.message, `Closed: ${who} closed ${ticketText(fault)} (faultdesk fault ${fault.id}).`, released);
    }
    // Resolved: the problem ended in Zabbix itself; the acknowledgement stays in its history.
    return { describe: 'nothing to write to Zabbix: the acknowledgement stays in the event history', run: async () => ({ state: released }) };
  }

  private call(eventIds: string[], action: number, message: string, state: { ref: string | null; active: number; active_until: number | null }): WritebackPlan {
    return {
      describe: `event.acknowledge events ${eventIds.join(',')} action ${action}: ${message}`,
      run: async () => {
        const body = {
          jsonrpc: '2.0',
          method: 'event.acknowledge',
          params: { eventids: eventIds, action, message: message.slice(0, MESSAGE_MAX) },
          auth: this.options.apiToken,
          id: 1,
        };
        const answer = await this.client.request<JsonRpcAnswer>({ method: 'POST', path: this.path, data: body, headers: { 'Content-Type': 'application/json-rpc' } });
        if (answer?.error) throw zabbixError(answer.error);
        if (answer?.result === undefined) throw new DeliveryError('zabbix event.acknowledge: the answer is not JSON-RPC', 'bad_request', false);
        return { state };
      },
    };
  }
}

/** A JSON-RPC error as a delivery failure: what cannot heal by itself is parked with Zabbix's words. */
export function zabbixError(error: NonNullable<JsonRpcAnswer['error']>): DeliveryError {
  const said = [error.message, error.data].filter((s) => typeof s === 'string' && s !== '').join(' ');
  const message = `zabbix event.acknowledge: ${said || `error ${error.code ?? '?'}`}`;
  if (/not authori[sz]ed|session terminated|re-login|api token expired|incorrect user name or password/i.test(said)) return new DeliveryError(message, 'unauthorized', false);
  if (/no permissions|does not exist/i.test(said)) return new DeliveryError(message, 'not_found', false);
  if (error.code === -32603) return new DeliveryError(message, 'server_error', true);
  return new DeliveryError(message, 'bad_request', false);
}
