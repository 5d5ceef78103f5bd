import type { AxiosInstance } from 'axios';
import { DeliveryError } from '../delivery';
import type { AlertRow, FaultRow } from '../store';
import { ApiClient, type AuthProvider } from '../tickets/http';
import { noop, ticketText, type WritebackContext, type WritebackPlan, type WritebackTarget } from './target';

export interface AlertmanagerTargetOptions {
  /** The peers of one Alertmanager cluster, tried in order. */
  urls: readonly string[];
  silenceForMs: number;
  timeoutMs: number;
  bearerToken?: string;
  basicAuth?: { username: string; password?: string };
  axios?: AxiosInstance;
}

/** What Alertmanager says of a silence it does not have, or has expired already. */
const GONE = /silence not found|already expired/i;

/** An alert as Alertmanager's API v2 lists it (GET /api/v2/alerts). */
export interface ApiAlert {
  fingerprint: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  generatorURL?: string;
  status?: { state?: string; silencedBy?: string[] };
}

/** A silence as Alertmanager's API v2 shows it (GET /api/v2/silence/{id}). */
interface ApiSilence {
  id?: string;
  startsAt?: string;
  status?: { state?: string };
}

/** An equality matcher of Alertmanager's API v2. */
export interface Matcher {
  name: string;
  value: string;
  isRegex: false;
  isEqual: true;
}

/**
 * The silence of a fault: its key labels, equality only, plus `alertname` when the key lacks it
 * and the fault's Alertmanager alerts share one (a fault of several alert names is silenced by its key).
 */
export function silenceMatchers(fault: FaultRow, alerts: readonly AlertRow[]): Matcher[] {
  const labels = JSON.parse(fault.key_labels) as Record<string, string>;
  const matchers: Matcher[] = Object.entries(labels).map(([name, value]) => ({ name, value, isRegex: false, isEqual: true }));
  if (!('alertname' in labels)) {
    const names = new Set(alerts.map((a) => (JSON.parse(a.labels) as Record<string, string>).alertname).filter((n): n is string => typeof n === 'string' && n !== ''));
    const [only] = names;
    if (names.size === 1 && only !== undefined) matchers.push({ name: 'alertname', value: only, isRegex: false, isEqual: true });
  }
  return matchers.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Acknowledged faults as Alertmanager silences: created on acknowledge, extended while the fault
 * stays acknowledged (the renewal job's acknowledge carries the silence's id), expired on release.
 * Silences gossip between the peers of a cluster, so the first peer that answers is enough.
 */
export class AlertmanagerTarget implements WritebackTarget {
  readonly system = 'alertmanager';
  private readonly peers: Array<{ url: string; client: ApiClient }>;

  constructor(private readonly options: AlertmanagerTargetOptions) {
    const auth = authProvider(options);
    this.peers = options.urls.map((url, i) => ({
      url,
      client: new ApiClient({ name: `alertmanager peer ${i + 1}`, baseURL: url.replace(/\/+$/, ''), timeoutMs: options.timeoutMs, requestsPerMinute: 6_000, auth, axios: options.axios }),
    }));
  }

  plan(ctx: WritebackContext): WritebackPlan {
    return ctx.action === 'acknowledge' ? this.silence(ctx) : this.expire(ctx);
  }

  private silence(ctx: WritebackContext): WritebackPlan {
    const { fault, alerts, state, now, payload } = ctx;
    const matchers = silenceMatchers(fault, alerts);
    if (matchers.length === 0) throw new DeliveryError(`fault ${fault.id} has no key labels to silence by`, 'bad_request', false);
    const endsAt = now + this.options.silenceForMs;
    const extending = state?.active === 1 && state.ref ? state.ref : undefined;
    const by = payload.by ?? fault.acknowledged_by ?? 'someone';
    const body = {
      matchers,
      startsAt: new Date(now).toISOString(),
      endsAt: new Date(endsAt).toISOString(),
      createdBy: 'faultdesk',
      comment: `Acknowledged by ${by} in faultdesk: fault ${fault.id} (${fault.category}), ${ticketText(fault)}.`,
    };
    const what = matchers.map((m) => `${m.name}="${m.value}"`).join(',');
    return {
      describe: `${extending ? `extend silence ${extending}` : 'create a silence'} {${what}} until ${body.endsAt}`,
      run: async () => {
        let data: object = body;
        if (extending) {
          const current = await this.current(extending);
          // A person expired faultdesk's silence in Alertmanager: they want to be paged again; faultdesk stops renewing it.
          if (current?.status?.state === 'expired') return { state: { ref: extending, active: 0, active_until: now } };
          // Alertmanager extends an active silence in place only when its start is unchanged.
          if (current?.status?.state === 'active' && current.startsAt) data = { ...body, id: extending, startsAt: current.startsAt };
        }
        let answer: { silenceID?: string };
        try {
          answer = await this.onAnyPeer((c) => c.request({ method: 'POST', path: '/api/v2/silences', data }));
        } catch (err) {
          // The silence to extend is gone (the cluster lost it): make a new one.
          if (data === body || !(err instanceof DeliveryError) || err.reason !== 'not_found') throw err;
          answer = await this.onAnyPeer((c) => c.request({ method: 'POST', path: '/api/v2/silences', data: body }));
        }
        if (typeof answer?.silenceID !== 'string' || answer.silenceID === '') throw new DeliveryError('alertmanager answered without a silenceID', 'bad_request', false);
        return { state: { ref: answer.silenceID, active: 1, active_until: endsAt } };
      },
    };
  }

  private expire(ctx: WritebackContext): WritebackPlan {
    const { state, now } = ctx;
    if (!state?.ref || state.active !== 1) return noop('no active silence to expire');
    const id = state.ref;
    return {
      describe: `expire silence ${id}`,
      run: async () => {
        try {
          await this.onAnyPeer((c) => c.request({ method: 'DELETE', path: `/api/v2/silence/${encodeURIComponent(id)}` }));
        } catch (err) {
          // Gone: Alertmanager 0.25 answers an unknown id with 500 "silence not found" (404 in other versions). Done either way.
          if (!(err instanceof DeliveryError) || !(err.reason === 'not_found' || GONE.test(err.message))) throw err;
        }
        return { state: { ref: id, active: 0, active_until: now } };
      },
    };
  }

  /** A silence as the cluster has it, or undefined when no peer knows it. */
  private async current(id: string): Promise<ApiSilence | undefined> {
    try {
      return await this.onAnyPeer((c) => c.request<ApiSilence>({ method: 'GET', path: `/api/v2/silence/${encodeURIComponent(id)}` }));
    } catch (err) {
      if (err instanceof DeliveryError && (err.reason === 'not_found' || GONE.test(err.message))) return undefined;
      throw err;
    }
  }

  /**
   * Every alert the cluster holds now, by fingerprint: each peer is asked and
   * the answers joined (a peer that just restarted may not have them all yet);
   * undefined when no peer answered. Resolved alerts are not listed.
   */
  async currentAlerts(): Promise<Map<string, ApiAlert> | undefined> {
    const answers = await Promise.allSettled(this.peers.map((p) => p.client.request<ApiAlert[]>({ method: 'GET', path: '/api/v2/alerts' })));
    const ok = answers.filter((a): a is PromiseFulfilledResult<ApiAlert[]> => a.status === 'fulfilled' && Array.isArray(a.value));
    if (ok.length === 0) return undefined;
    const out = new Map<string, ApiAlert>();
    for (const { value } of ok) for (const a of value) if (typeof a?.fingerprint === 'string' && !out.has(a.fingerprint)) out.set(a.fingerprint, a);
    return out;
  }

  /**
   * Sends to the first peer, and to the next while a peer cannot be reached or fails on its side
   * (the last one's failure is the answer); an answer about the request itself (400, 401, 404) is
   * the cluster's answer and is not asked again.
   */
  private async onAnyPeer<T>(call: (client: ApiClient) => Promise<T>): Promise<T> {
    let last: unknown;
    for (const peer of this.peers) {
      try {
        return await call(peer.client);
      } catch (err) {
        // A peer that does not know a silence yet (gossip takes a moment) answers 500: the next one may.
        last = err;
        if (!(err instanceof DeliveryError) || !err.retryable) throw err;
      }
    }
    throw last;
  }
}

function authProvider(o: AlertmanagerTargetOptions): AuthProvider {
  if (o.bearerToken) {
    const header = `Bearer ${o.bearerToken}`;
    return { header: async () => header };
  }
  if (o.basicAuth) {
    const header = `Basic ${Buffer.from(`${o.basicAuth.username}:${o.basicAuth.password ?? ''}`).toString('base64')}`;
    return { header: async () => header };
  }
  return { header: async () => '' };
}
