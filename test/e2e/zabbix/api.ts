import axios, { type AxiosInstance } from 'axios';

/** An error answer of the Zabbix API, with its code and Zabbix's explanation (data). */
export class ZabbixApiError extends Error {
  constructor(
    readonly method: string,
    readonly code: number,
    readonly data: string,
  ) {
    super(`Zabbix API ${method} failed (${code}): ${data}`);
    this.name = 'ZabbixApiError';
  }
}

/**
 * A Zabbix 6.0 JSON-RPC client: one POST per call to api_jsonrpc.php, the
 * session token in the body's `auth` (6.0 has no Authorization header yet).
 */
export class ZabbixApi {
  private nextId = 1;

  constructor(
    readonly url: string,
    private readonly auth: string | null = null,
    private readonly http: AxiosInstance = axios.create({ timeout: 30_000 }),
  ) {}

  /** Logs in with user.login and returns a client that sends the session with every call. */
  static async login(url: string, username: string, password: string): Promise<ZabbixApi> {
    const session = await new ZabbixApi(url).call<string>('user.login', { username, password });
    return new ZabbixApi(url, session);
  }

  async call<T = unknown>(method: string, params: unknown): Promise<T> {
    // apiinfo.version and user.login must be sent without a session.
    const withAuth = this.auth !== null && method !== 'apiinfo.version' && method !== 'user.login';
    const body = { jsonrpc: '2.0', method, params, id: this.nextId++, ...(withAuth ? { auth: this.auth } : {}) };
    const res = await this.http.post(this.url, body, { headers: { 'Content-Type': 'application/json-rpc' }, validateStatus: () => true });
    const data = res.data as { result?: T; error?: { code: number; message: string; data: string } } | string;
    if (typeof data !== 'object' || data === null) throw new Error(`Zabbix API ${method}: HTTP ${res.status}, not JSON-RPC: ${String(data).slice(0, 500)}`);
    if (data.error) throw new ZabbixApiError(method, data.error.code, data.error.data || data.error.message);
    if (res.status !== 200 || !('result' in data)) throw new Error(`Zabbix API ${method}: HTTP ${res.status}: ${JSON.stringify(data).slice(0, 500)}`);
    return data.result as T;
  }
}

/** One entry of an event's acknowledgements (event.get select_acknowledges). */
export interface ZabbixAcknowledge {
  acknowledgeid: string;
  userid: string;
  username: string;
  clock: string;
  message: string;
  /** Bit mask: 1 close, 2 acknowledge, 4 message, 8 severity, 16 unacknowledge, 32 suppress, 64 unsuppress. */
  action: string;
}

export interface ZabbixEventAcks {
  eventid: string;
  acknowledged: boolean;
  acknowledges: ZabbixAcknowledge[];
}

/** What event.get says about a problem event's acknowledgement. */
export async function eventAcknowledges(api: ZabbixApi, eventid: string): Promise<ZabbixEventAcks> {
  const events = await api.call<Array<{ eventid: string; acknowledged: string; acknowledges: ZabbixAcknowledge[] }>>('event.get', {
    eventids: [eventid],
    output: ['eventid', 'acknowledged'],
    select_acknowledges: 'extend',
  });
  const event = events[0];
  if (!event) throw new Error(`event.get does not know event ${eventid}`);
  return { eventid: event.eventid, acknowledged: event.acknowledged === '1', acknowledges: event.acknowledges };
}

/**
 * Waits until event.get shows the event acknowledged, with an entry that
 * acknowledged it (action bit 2) carrying exactly `message` (action bit 4),
 * and returns that entry (who and when). Optionally only one user's entries
 * count. Throws after timeoutMs with what event.get showed last.
 */
export async function waitForEventAcknowledgedWith(
  api: ZabbixApi,
  eventid: string,
  message: string,
  options: { timeoutMs?: number; userid?: string } = {},
): Promise<ZabbixAcknowledge> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    const state = await eventAcknowledges(api, eventid);
    const entry = state.acknowledges.find(
      (a) => (Number(a.action) & 2) !== 0 && (Number(a.action) & 4) !== 0 && a.message === message && (options.userid === undefined || a.userid === options.userid),
    );
    if (state.acknowledged && entry) return entry;
    if (Date.now() > deadline) {
      throw new Error(`event ${eventid} is not acknowledged with message ${JSON.stringify(message)}; event.get shows: ${JSON.stringify(state)}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
