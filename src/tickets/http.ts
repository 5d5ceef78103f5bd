import axios, { AxiosError, type AxiosInstance, type AxiosRequestConfig } from 'axios';
import Bottleneck from 'bottleneck';
import { TicketSystemError, type FailureReason } from './types';

/** Supplies the Authorization header; may fetch or refresh a token. */
export interface AuthProvider {
  header(): Promise<string>;
  /** Called after a 401: a token-based provider drops its token and tries once more. */
  invalidate?(): boolean;
}

export interface ApiClientOptions {
  name: string;
  baseURL: string;
  timeoutMs: number;
  requestsPerMinute: number;
  auth: AuthProvider;
  /** For tests: a pre-made axios instance (nock intercepts either way). */
  axios?: AxiosInstance;
}

export interface ApiRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  params?: Record<string, string | number>;
  data?: unknown;
  headers?: Record<string, string>;
}

/**
 * One ticket system's HTTP API: authenticated, paced to a request rate, and
 * every failure turned into a TicketSystemError whose message names the
 * request and the system's answer, never a credential.
 */
export class ApiClient {
  private readonly http: AxiosInstance;
  private readonly limiter: Bottleneck;

  constructor(private readonly options: ApiClientOptions) {
    this.http = options.axios ?? axios.create();
    this.limiter = new Bottleneck({ minTime: Math.ceil(60_000 / options.requestsPerMinute) });
  }

  async request<T>(req: ApiRequest): Promise<T> {
    return this.limiter.schedule(() => this.send<T>(req, true));
  }

  private async send<T>(req: ApiRequest, mayRetryAuth: boolean): Promise<T> {
    // An API without auth (an Alertmanager on a private network) gets no Authorization header at all.
    const authorization = await this.options.auth.header();
    const config: AxiosRequestConfig = {
      method: req.method,
      baseURL: this.options.baseURL,
      url: req.path,
      params: req.params,
      data: req.data,
      timeout: this.options.timeoutMs,
      headers: { Accept: 'application/json', ...req.headers, ...(authorization ? { Authorization: authorization } : {}) },
      // Strings stay as they are (uploads); objects go as JSON.
      transformRequest: [(data: unknown) => (data === undefined || typeof data === 'string' || Buffer.isBuffer(data) ? data : JSON.stringify(data))],
      validateStatus: () => true,
      maxRedirects: 0,
    };
    if (req.data !== undefined && typeof req.data !== 'string' && !config.headers?.['Content-Type']) {
      (config.headers as Record<string, string>)['Content-Type'] = 'application/json';
    }
    let status: number;
    let body: unknown;
    let headers: Record<string, unknown>;
    try {
      const res = await this.http.request(config);
      ({ status, data: body } = res);
      headers = res.headers as Record<string, unknown>;
    } catch (err) {
      throw transportError(this.options.name, req, err);
    }
    if (status === 401 && mayRetryAuth && this.options.auth.invalidate?.()) return this.send<T>(req, false);
    if (status >= 200 && status < 300) return body as T;
    throw httpError(this.options.name, req, status, body, headers['retry-after']);
  }
}

function describe(name: string, req: ApiRequest): string {
  return `${name} ${req.method} ${req.path}`;
}

/** Connection failures that happen before a request is sent: nothing can have been carried out. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ERR_INVALID_URL']);

function transportError(name: string, req: ApiRequest, err: unknown): TicketSystemError {
  const e = err as AxiosError;
  const code = e.code ?? '';
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT' || /timeout/i.test(e.message ?? '')) {
    return new TicketSystemError(`${describe(name, req)}: timed out`, 'timeout', true, undefined, true);
  }
  const reason: FailureReason = 'connection';
  return new TicketSystemError(`${describe(name, req)}: ${code || 'connection failed'}`, reason, true, undefined, !NOT_SENT.has(code));
}

/** The system's own words about the failure, when it says any (Zendesk: error/description; ServiceNow: error.message/detail). */
function answerText(body: unknown): string {
  if (!body || typeof body !== 'object') return typeof body === 'string' ? body.slice(0, 300) : '';
  const b = body as Record<string, unknown>;
  const err = b.error;
  if (err && typeof err === 'object') {
    const e = err as Record<string, unknown>;
    return [e.message, e.detail].filter((x) => typeof x === 'string' && x !== '').join(': ').slice(0, 300);
  }
  const parts = [typeof err === 'string' ? err : '', typeof b.description === 'string' ? b.description : ''];
  if (b.details && typeof b.details === 'object') parts.push(JSON.stringify(b.details).slice(0, 200));
  return parts.filter((p) => p !== '').join(': ').slice(0, 300);
}

/** Retry-After in seconds or as an HTTP date. */
export function retryAfterMs(value: unknown, now = Date.now()): number | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(String(value));
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function httpError(name: string, req: ApiRequest, status: number, body: unknown, retryAfter: unknown): TicketSystemError {
  const said = answerText(body);
  const message = `${describe(name, req)}: HTTP ${status}${said ? `: ${said}` : ''}`;
  if (status === 429) return new TicketSystemError(message, 'rate_limited', true, retryAfterMs(retryAfter));
  // A 5xx may come after the work was done (a gateway timeout, a failing step after the insert).
  if (status >= 500) return new TicketSystemError(message, 'server_error', true, retryAfterMs(retryAfter), true);
  // Zendesk answers 409 to a repeat whose Idempotency-Key is still being processed: try again later.
  if (status === 409) return new TicketSystemError(message, 'conflict', true, retryAfterMs(retryAfter), true);
  if (status === 401) return new TicketSystemError(message, 'unauthorized', false);
  if (status === 403) return new TicketSystemError(message, 'forbidden', false);
  if (status === 404) return new TicketSystemError(message, 'not_found', false);
  return new TicketSystemError(message, 'bad_request', false);
}

/**
 * After a create that may have made the ticket, the retry must not look for it
 * before an insert still in flight has landed, or it finds nothing and creates
 * a second ticket: the failure asks to be retried after `settleMs` at least.
 */
export function settleAfterUncertainCreate(err: unknown, settleMs: number): unknown {
  if (!(err instanceof TicketSystemError) || !err.uncertain || !err.retryable) return err;
  const retryAfter = Math.max(err.retryAfterMs ?? 0, settleMs);
  return new TicketSystemError(
    `${err.message} (the ticket may exist: looking for it in ${Math.ceil(retryAfter / 1000)} s)`,
    err.reason,
    true,
    retryAfter,
    true,
  );
}

/** Cuts text to a system's limit: a subject ends in "…", a longer text says where the rest is. */
export function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const note = '\n… (cut here; the full text is in the attached fault record)';
  // Cut at a code point boundary, so no half of a surrogate pair is left behind.
  const head = (n: number) => Array.from(text.slice(0, n + 1)).join('').slice(0, n).replace(/[\uD800-\uDBFF]$/, '');
  return max >= 1000 ? head(max - note.length) + note : head(max - 1) + '…';
}
