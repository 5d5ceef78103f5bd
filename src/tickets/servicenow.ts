import axios, { type AxiosInstance } from 'axios';
import type { Clock } from '../clock';
import { ApiClient, cut, settleAfterUncertainCreate, type AuthProvider } from './http';
import {
  TicketClosedError,
  TicketSystemError,
  type Attachment,
  type ConnectorDeps,
  type FieldValue,
  type NewTicket,
  type TicketChange,
  type TicketRef,
  type TicketSystem,
} from './types';

export interface ServiceNowOptions {
  url: string;
  username?: string;
  password?: string;
  oauth?: { grant: 'password' | 'client_credentials'; clientId: string; clientSecret: string };
  timeoutMs: number;
  /** How long after an uncertain create to look for its incident before creating again. */
  createSettleMs: number;
  requestsPerMinute: number;
  /** FS bands → impact and urgency, highest `min` first. */
  bands: Array<{ min: number; impact: number; urgency: number }>;
  closeCode: string;
  axios?: AxiosInstance;
}

/** The incident table's default column sizes. */
export const SHORT_DESCRIPTION_MAX = 160;
export const DESCRIPTION_MAX = 4000;
export const JOURNAL_MAX = 4000;

const STATES: Record<string, string> = { '1': 'new', '2': 'in_progress', '3': 'on_hold', '6': 'resolved', '7': 'closed', '8': 'canceled' };
/** Fields used at resolve, not at create. */
const RESOLVE_FIELDS = ['close_code', 'close_notes'];
const TABLE = '/api/now/table/incident';
const RETURNED = 'sys_id,number,state';
/** States of an incident that is no longer worked on: a duplicate among them does no harm. */
const ENDED = '7,8';
const CANCELED = 8;
/** More live incidents than this for one fault would mean something other than retries made them. */
const LOOKUP_LIMIT = 20;

interface Incident {
  sys_id: string;
  number?: string;
  state?: string | number;
  sys_created_on?: string;
}

/** ServiceNow: the Table API (incident table) and the Attachment API. */
export class ServiceNowTicketSystem implements TicketSystem {
  readonly name = 'servicenow' as const;
  private readonly api: ApiClient;
  private readonly base: string;

  constructor(
    private readonly options: ServiceNowOptions,
    private readonly deps: ConnectorDeps,
  ) {
    this.base = options.url.replace(/\/+$/, '');
    this.api = new ApiClient({
      name: 'servicenow',
      baseURL: this.base,
      timeoutMs: options.timeoutMs,
      requestsPerMinute: options.requestsPerMinute,
      auth: options.oauth ? new ServiceNowOAuth(this.base, options, deps.clock) : basicAuth(options),
      axios: options.axios,
    });
    // Bands are checked highest first.
    this.options = { ...options, bands: [...options.bands].sort((a, b) => b.min - a.min) };
  }

  private ref(i: Incident): TicketRef {
    return { id: i.sys_id, status: STATES[String(i.state)] ?? String(i.state ?? 'new'), url: `${this.base}/nav_to.do?uri=incident.do?sys_id=${i.sys_id}` };
  }

  private levels(fs: number): { impact: number; urgency: number } {
    const band = this.options.bands.find((b) => fs >= b.min) ?? this.options.bands[this.options.bands.length - 1];
    return { impact: band?.impact ?? 3, urgency: band?.urgency ?? 3 };
  }

  async findByFault(faultId: string): Promise<TicketRef | undefined> {
    const survivor = await this.keepOldest(faultId);
    return survivor ? this.ref(survivor) : undefined;
  }

  async create(ticket: NewTicket): Promise<TicketRef> {
    const fields = { ...ticket.fields };
    for (const name of RESOLVE_FIELDS) delete fields[name];
    let description = ticket.body;
    if (ticket.relatedTicketId) description = `This fault fired again after incident ${ticket.relatedTicketId} was closed.\n\n${description}`;
    let created: Incident;
    try {
      const res = await this.api.request<{ result: Incident }>({
        method: 'POST',
        path: TABLE,
        // Reference fields (assignment_group, caller_id, cmdb_ci) may be given by their display values.
        params: { sysparm_input_display_value: 'true', sysparm_exclude_reference_link: 'true', sysparm_fields: RETURNED },
        data: {
          ...this.levels(ticket.fs),
          ...fields,
          short_description: cut(ticket.subject, SHORT_DESCRIPTION_MAX),
          description: cut(description, DESCRIPTION_MAX),
          correlation_id: ticket.faultId,
          correlation_display: 'faultdesk',
        },
      });
      created = res.result;
    } catch (err) {
      throw settleAfterUncertainCreate(err, this.options.createSettleMs);
    }
    // An earlier attempt that timed out may have landed meanwhile: the oldest incident is the fault's.
    const ref = this.ref((await this.keepOldest(ticket.faultId, created)) ?? created);
    await this.attachAll(ref, ticket.attachments);
    return ref;
  }

  /**
   * The fault's live incidents, oldest first: the oldest is the fault's, any
   * other is a duplicate (a create that timed out and still landed), canceled
   * with a work note naming the survivor. Every replica picks the same one.
   */
  private async keepOldest(faultId: string, justCreated?: Incident): Promise<Incident | undefined> {
    const res = await this.api.request<{ result: Incident[] }>({
      method: 'GET',
      path: TABLE,
      params: {
        // The fault id is a UUID: nothing in it can change the meaning of the query.
        sysparm_query: `correlation_id=${faultId}^stateNOT IN${ENDED}^ORDERBYsys_created_on^ORDERBYnumber`,
        sysparm_fields: `${RETURNED},sys_created_on`,
        sysparm_limit: LOOKUP_LIMIT,
      },
    });
    const live = [...(res.result ?? [])];
    // A read that does not show our own insert yet still counts it, as the newest.
    if (justCreated && !live.some((i) => i.sys_id === justCreated.sys_id)) live.push(justCreated);
    const [survivor, ...duplicates] = live;
    for (const duplicate of duplicates) await this.cancelDuplicate(duplicate, survivor as Incident, faultId);
    return survivor;
  }

  private async cancelDuplicate(duplicate: Incident, survivor: Incident, faultId: string): Promise<void> {
    const name = survivor.number ?? survivor.sys_id;
    const log = { system: this.name, fault: faultId, kept: name, duplicate: duplicate.number ?? duplicate.sys_id };
    this.deps.metrics.ticketDuplicates.inc({ system: this.name });
    try {
      await this.api.request({
        method: 'PATCH',
        path: `${TABLE}/${duplicate.sys_id}`,
        params: { sysparm_fields: RETURNED },
        data: {
          state: CANCELED,
          work_notes:
            `Canceled by faultdesk: a duplicate of ${name} for the same fault (correlation_id ${faultId}), ` +
            `made when an earlier create timed out and still went through. Work on ${name}.`,
        },
      });
      this.deps.logger.warn('ticket system made a duplicate ticket; canceled it', log);
    } catch (err) {
      // The survivor is still the fault's ticket; the duplicate waits for a human (and the next look-up tries again).
      this.deps.logger.warn('ticket system made a duplicate ticket; could not cancel it', { ...log, error: (err as Error).message });
    }
  }

  async update(ref: TicketRef, change: TicketChange): Promise<TicketRef> {
    return this.patch(ref, {
      work_notes: cut(change.comment, JOURNAL_MAX),
      ...(change.fs ? this.levels(change.fs) : {}),
      ...(change.subject ? { short_description: cut(change.subject, SHORT_DESCRIPTION_MAX) } : {}),
      // The tier's assignment group, when a fault moves between tiers.
      ...(change.group !== undefined ? { assignment_group: change.group } : {}),
    });
  }

  /** Closed (state 7) with the configured close code: a person closed the fault through faultdesk. */
  async close(ref: TicketRef, change: TicketChange): Promise<TicketRef> {
    const notes = cut(change.comment, JOURNAL_MAX);
    return this.patch(ref, { state: 7, work_notes: notes, close_code: stringField(change.fields?.close_code) ?? this.options.closeCode, close_notes: notes });
  }

  async resolve(ref: TicketRef, change: TicketChange & { solve: boolean }): Promise<TicketRef> {
    const notes = cut(change.comment, JOURNAL_MAX);
    const data: Record<string, FieldValue> = { work_notes: notes };
    if (change.solve) {
      data.state = 6;
      data.close_code = stringField(change.fields?.close_code) ?? this.options.closeCode;
      data.close_notes = stringField(change.fields?.close_notes) ?? notes;
    }
    const result = await this.patch(ref, data);
    await this.attachAll(result, change.attachments ?? []);
    return result;
  }

  /**
   * faultdesk's incidents (a correlation id set) updated at or after `since` (ServiceNow's
   * "YYYY-MM-DD HH:MM:SS", UTC), oldest first, for the human loop's poll: `fields` of each.
   */
  async updatedSince(since: string, fields: readonly string[], limit: number, offset = 0): Promise<unknown[]> {
    const res = await this.api.request<{ result?: unknown[] }>({
      method: 'GET',
      path: TABLE,
      params: {
        sysparm_query: `correlation_idISNOTEMPTY^sys_updated_on>=${since}^ORDERBYsys_updated_on`,
        sysparm_fields: fields.join(','),
        sysparm_exclude_reference_link: 'true',
        sysparm_limit: limit,
        sysparm_offset: offset,
      },
    });
    return Array.isArray(res.result) ? res.result : [];
  }

  async reopen(ref: TicketRef, change: TicketChange): Promise<TicketRef> {
    const res = await this.api.request<{ result: Incident }>({ method: 'GET', path: `${TABLE}/${ref.id}`, params: { sysparm_fields: RETURNED } });
    const state = String(res.result.state);
    if (state === '7' || state === '8') throw new TicketClosedError(ref.id);
    return this.patch(ref, { state: 2, work_notes: cut(change.comment, JOURNAL_MAX), ...(change.fs ? this.levels(change.fs) : {}) });
  }

  private async patch(ref: TicketRef, data: Record<string, FieldValue>): Promise<TicketRef> {
    try {
      const res = await this.api.request<{ result: Incident }>({
        method: 'PATCH',
        path: `${TABLE}/${ref.id}`,
        params: { sysparm_input_display_value: 'true', sysparm_exclude_reference_link: 'true', sysparm_fields: RETURNED },
        data,
      });
      return this.ref(res.result);
    } catch (err) {
      // A closed incident is read-only: ACLs answer 403.
      if (err instanceof TicketSystemError && err.reason === 'forbidden' && ref.status === 'closed') throw new TicketClosedError(ref.id);
      throw err;
    }
  }

  /**
   * The record is attached after the incident exists. A failed attachment does
   * not undo the incident (a retry would only adopt it): it is logged, and the
   * record is attached again at resolve.
   */
  private async attachAll(ref: TicketRef, files: readonly Attachment[]): Promise<void> {
    for (const file of files) {
      try {
        await this.api.request({
          method: 'POST',
          path: '/api/now/attachment/file',
          params: { table_name: 'incident', table_sys_id: ref.id, file_name: file.filename },
          data: file.content,
          headers: { 'Content-Type': file.contentType },
        });
      } catch (err) {
        this.deps.logger.warn('could not attach the fault record to the incident', { incident: ref.id, file: file.filename, error: (err as Error).message });
      }
    }
  }
}

function stringField(v: FieldValue | undefined): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v : undefined;
}

function basicAuth(options: ServiceNowOptions): AuthProvider {
  if (!options.username || options.password === undefined) throw new Error('servicenow: set username and password, or oauth');
  const header = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;
  return { header: async () => header };
}

/** Refresh this long before the token expires, so no request goes out with a dying token. */
const REFRESH_MARGIN_MS = 60_000;

/**
 * OAuth for ServiceNow (POST /oauth_token.do): the password or
 * client-credentials grant, refreshed before expiry with the refresh token when
 * there is one.
 */
export class ServiceNowOAuth implements AuthProvider {
  private token: { access: string; refresh?: string; expiresAt: number } | undefined;
  private pending: Promise<void> | undefined;
  private readonly http: AxiosInstance;

  constructor(
    private readonly base: string,
    private readonly options: ServiceNowOptions,
    private readonly clock: Clock,
  ) {
    this.http = options.axios ?? axios.create();
  }

  async header(): Promise<string> {
    if (!this.token || this.token.expiresAt - REFRESH_MARGIN_MS <= this.clock.now()) {
      // One token request at a time, shared by every caller waiting for it.
      this.pending ??= this.fetchToken().finally(() => (this.pending = undefined));
      await this.pending;
    }
    return `Bearer ${this.token?.access}`;
  }

  invalidate(): boolean {
    this.token = undefined;
    return true;
  }

  private async fetchToken(): Promise<void> {
    const oauth = this.options.oauth as NonNullable<ServiceNowOptions['oauth']>;
    const form = new URLSearchParams({ client_id: oauth.clientId, client_secret: oauth.clientSecret });
    if (this.token?.refresh) {
      form.set('grant_type', 'refresh_token');
      form.set('refresh_token', this.token.refresh);
    } else if (oauth.grant === 'password') {
      form.set('grant_type', 'password');
      form.set('username', this.options.username ?? '');
      form.set('password', this.options.password ?? '');
    } else {
      form.set('grant_type', 'client_credentials');
    }
    const usedRefresh = form.get('grant_type') === 'refresh_token';
    let res;
    try {
      res = await this.http.post(`${this.base}/oauth_token.do`, form.toString(), {
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        timeout: this.options.timeoutMs,
        validateStatus: () => true,
      });
    } catch (err) {
      throw new TicketSystemError(`servicenow POST /oauth_token.do: ${(err as { code?: string }).code ?? 'connection failed'}`, 'connection', true);
    }
    if (res.status >= 500) throw new TicketSystemError(`servicenow POST /oauth_token.do: HTTP ${res.status}`, 'server_error', true);
    const body = res.data as { access_token?: string; refresh_token?: string; expires_in?: number | string; error?: string };
    if (res.status !== 200 || !body.access_token) {
      if (usedRefresh) {
        // The refresh token expired too: start over with the configured grant.
        this.token = undefined;
        return this.fetchToken();
      }
      throw new TicketSystemError(`servicenow POST /oauth_token.do: HTTP ${res.status}${body.error ? `: ${body.error}` : ''}`, 'unauthorized', false);
    }
    this.token = {
      access: body.access_token,
      refresh: body.refresh_token ?? this.token?.refresh,
      expiresAt: this.clock.now() + Number(body.expires_in ?? 1800) * 1000,
    };
  }
}
