import type { AxiosInstance } from 'axios';
import { createHash } from 'node:crypto';
import { ApiClient, cut, settleAfterUncertainCreate, type AuthProvider } from './http';
import { markdownToHtml } from './markdown';
import { SentCreates, type SentCreate } from './sent-creates';
import {
  TicketClosedError,
  TicketSystemError,
  type Attachment,
  type ConnectorDeps,
  type FieldValue,
  type NewTicket,
  type PulledRating,
  type TicketChange,
  type TicketRef,
  type TicketSystem,
} from './types';

export interface ZendeskOptions {
  url: string;
  email?: string;
  token?: string;
  oauthToken?: string;
  timeoutMs: number;
  /** How long after an uncertain create to look for its ticket before creating again. */
  createSettleMs: number;
  requestsPerMinute: number;
  /** faultdesk priority words → Zendesk priorities. */
  priorities: Record<string, string>;
  axios?: AxiosInstance;
}

/** Zendesk's limits: subjects are cut well under its 255-character display limit; comments bounded. */
export const ZENDESK_SUBJECT_MAX = 250;
export const ZENDESK_COMMENT_MAX = 60_000;
const PRIORITIES = new Set(['low', 'normal', 'high', 'urgent']);
/** Ticket fields that hold ids: a template that renders digits goes as a number. */
const ID_FIELDS = ['group_id', 'requester_id', 'assignee_id', 'organization_id', 'brand_id', 'ticket_form_id', 'submitter_id'];

/**
 * Upload tokens live 60 minutes: a create request that names them is sent
 * again as it was for 50 minutes, then built anew (with new uploads and so a
 * new key).
 */
const RESEND_SAME_CREATE_MS = 50 * 60_000;

interface ZendeskTicket {
  id: number;
  status: string;
}

/** Zendesk Support: the Tickets API and the Uploads API. */
export class ZendeskTicketSystem implements TicketSystem {
  readonly name = 'zendesk' as const;
  private readonly api: ApiClient;
  private readonly base: string;
  private readonly sentCreates: SentCreates;

  constructor(
    private readonly options: ZendeskOptions,
    private readonly deps: ConnectorDeps,
  ) {
    this.sentCreates = new SentCreates(deps.clock, RESEND_SAME_CREATE_MS);
    this.base = options.url.replace(/\/+$/, '');
    this.api = new ApiClient({
      name: 'zendesk',
      baseURL: this.base,
      timeoutMs: options.timeoutMs,
      requestsPerMinute: options.requestsPerMinute,
      auth: zendeskAuth(options),
      axios: options.axios,
    });
  }

  private ref(t: ZendeskTicket): TicketRef {
    return { id: String(t.id), status: t.status, url: `${this.base}/agent/tickets/${t.id}` };
  }

  async findByFault(faultId: string): Promise<TicketRef | undefined> {
    const survivor = await this.keepOldest(faultId);
    return survivor ? this.ref(survivor) : undefined;
  }

  async create(ticket: NewTicket): Promise<TicketRef> {
    const request = await this.createRequest(ticket);
    let created: ZendeskTicket;
    try {
      const res = await this.api.request<{ ticket: ZendeskTicket }>({
        method: 'POST',
        path: '/api/v2/tickets',
        data: request.body,
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': request.key },
      });
      created = res.ticket;
    } catch (err) {
      if (ticket.idempotencyKey && !(err instanceof TicketSystemError && err.retryable)) this.sentCreates.forget(ticket.idempotencyKey);
      throw settleAfterUncertainCreate(err, this.options.createSettleMs);
    }
    if (ticket.idempotencyKey) this.sentCreates.forget(ticket.idempotencyKey);
    // A create under another key (after a restart, or from another replica) may have landed too: the oldest ticket is the fault's.
    return this.ref((await this.keepOldest(ticket.faultId, created)) ?? created);
  }

  /**
   * The request of a create, byte for byte the one an earlier attempt of the
   * same operation sent, when this process sent one: the fault may have changed
   * since (its counts, its timeline), and Zendesk refuses a known key with
   * another body. A new request gets a key made from its bytes, so a key never
   * goes out with two bodies, whatever this process remembers; a changed body
   * (a new key) is kept from making a second ticket by the look-up by
   * external_id before the retry and the check after it.
   */
  private async createRequest(ticket: NewTicket): Promise<SentCreate> {
    const remembered = ticket.idempotencyKey ? this.sentCreates.get(ticket.idempotencyKey) : undefined;
    if (remembered) return remembered;
    const uploads = await this.upload(ticket.attachments);
    const fields = this.mapFields(ticket.fields);
    let body = ticket.body;
    if (ticket.relatedTicketId) body = `This fault fired again after ticket #${ticket.relatedTicketId} was closed.\n\n${body}`;
    const payload: Record<string, unknown> = {
      ...fields,
      subject: cut(ticket.subject, ZENDESK_SUBJECT_MAX),
      comment: { html_body: htmlComment(body), public: false, uploads },
      external_id: ticket.faultId,
      priority: fields.priority ?? this.priority(ticket.priority),
    };
    if (ticket.relatedTicketId && /^\d+$/.test(ticket.relatedTicketId)) payload.via_followup_source_id = Number(ticket.relatedTicketId);
    const bytes = JSON.stringify({ ticket: payload });
    const request = { key: `faultdesk-${ticket.faultId}-${createHash('sha256').update(bytes).digest('hex').slice(0, 32)}`, body: bytes };
    if (ticket.idempotencyKey) this.sentCreates.remember(ticket.idempotencyKey, request);
    return request;
  }

  /**
   * The fault's tickets that are not closed, oldest first: the oldest is the
   * fault's, any other is a duplicate, solved with a private note naming the
   * survivor and given another external_id so no look-up finds it again.
   * (External ids are not unique in Zendesk; a closed ticket is an earlier
   * round of the fault, which a recurrence follows up.)
   */
  private async keepOldest(faultId: string, justCreated?: ZendeskTicket): Promise<ZendeskTicket | undefined> {
    const res = await this.api.request<{ tickets?: ZendeskTicket[] }>({ method: 'GET', path: '/api/v2/tickets', params: { external_id: faultId } });
    const live = (res.tickets ?? []).filter((t) => t.status !== 'closed');
    if (justCreated && !live.some((t) => t.id === justCreated.id)) live.push(justCreated);
    live.sort((a, b) => a.id - b.id);
    const [survivor, ...duplicates] = live;
    for (const duplicate of duplicates) await this.solveDuplicate(duplicate, survivor as ZendeskTicket, faultId);
    return survivor;
  }

  private async solveDuplicate(duplicate: ZendeskTicket, survivor: ZendeskTicket, faultId: string): Promise<void> {
    const log = { system: this.name, fault: faultId, kept: survivor.id, duplicate: duplicate.id };
    this.deps.metrics.ticketDuplicates.inc({ system: this.name });
    const note =
      `Solved by faultdesk: a duplicate of ticket #${survivor.id} for the same fault (external_id ${faultId}), ` +
      `made when an earlier create timed out and still went through. Work on #${survivor.id}.`;
    try {
      await this.api.request({
        method: 'PUT',
        path: `/api/v2/tickets/${duplicate.id}`,
        data: { ticket: { status: 'solved', external_id: `${faultId}-duplicate-of-${survivor.id}`, comment: { html_body: markdownToHtml(note), public: false } } },
      });
      this.deps.logger.warn('ticket system made a duplicate ticket; canceled it', log);
    } catch (err) {
      // The survivor is still the fault's ticket; the duplicate waits for a human (and the next look-up tries again).
      this.deps.logger.warn('ticket system made a duplicate ticket; could not cancel it', { ...log, error: (err as Error).message });
    }
  }

  update(ref: TicketRef, change: TicketChange): Promise<TicketRef> {
    return this.put(ref, change, {});
  }

  resolve(ref: TicketRef, change: TicketChange & { solve: boolean }): Promise<TicketRef> {
    return this.put(ref, change, change.solve ? { status: 'solved' } : {});
  }

  async reopen(ref: TicketRef, change: TicketChange): Promise<TicketRef> {
    const current = await this.api.request<{ ticket: ZendeskTicket }>({ method: 'GET', path: `/api/v2/tickets/${ref.id}` });
    if (current.ticket.status === 'closed') throw new TicketClosedError(ref.id);
    return this.put(ref, change, { status: 'open' });
  }

  /** Closed at once (Zendesk takes status closed through the API); a closed ticket can never be reopened. */
  close(ref: TicketRef, change: TicketChange): Promise<TicketRef> {
    return this.put(ref, change, { status: 'closed' });
  }

  private async put(ref: TicketRef, change: TicketChange, extra: Record<string, unknown>): Promise<TicketRef> {
    const uploads = await this.upload(change.attachments ?? []);
    const ticket: Record<string, unknown> = {
      ...(change.group !== undefined ? this.mapFields({ group_id: change.group }) : {}),
      ...extra,
      comment: { html_body: htmlComment(change.comment), public: false, ...(uploads.length ? { uploads } : {}) },
    };
    if (change.priority) ticket.priority = this.priority(change.priority);
    if (change.subject) ticket.subject = cut(change.subject, ZENDESK_SUBJECT_MAX);
    try {
      const res = await this.api.request<{ ticket: ZendeskTicket }>({ method: 'PUT', path: `/api/v2/tickets/${ref.id}`, data: { ticket } });
      return this.ref(res.ticket);
    } catch (err) {
      // Zendesk answers 422 "Status: closed prevents ticket update" for a closed ticket.
      if (err instanceof TicketSystemError && err.reason === 'bad_request' && /closed prevents ticket update/i.test(err.message)) {
        throw new TicketClosedError(ref.id);
      }
      throw err;
    }
  }

  /** The user faultdesk authenticates as (its changes are echoes to the human loop). */
  async me(): Promise<{ id: string; email?: string }> {
    const res = await this.api.request<{ user?: { id?: number | string; email?: string } }>({ method: 'GET', path: '/api/v2/users/me' });
    if (res.user?.id === undefined || res.user.id === null) throw new TicketSystemError('zendesk GET /api/v2/users/me: no user in the answer', 'bad_request', false);
    return { id: String(res.user.id), ...(res.user.email ? { email: res.user.email } : {}) };
  }

  /** Tickets by id as Zendesk shows them now (at most 100 ids a request), for the human loop's poll. */
  async showMany(ids: readonly string[]): Promise<unknown[]> {
    if (ids.length === 0) return [];
    const res = await this.api.request<{ tickets?: unknown[] }>({ method: 'GET', path: '/api/v2/tickets/show_many', params: { ids: ids.slice(0, 100).join(',') } });
    return Array.isArray(res.tickets) ? res.tickets : [];
  }

  /** Ratings received (good or bad) since `since`, following Zendesk's pages (at most 20). */
  async satisfactionRatings(since: number): Promise<PulledRating[]> {
    const out: PulledRating[] = [];
    let path: string | undefined = '/api/v2/satisfaction_ratings';
    let params: Record<string, string | number> | undefined = { score: 'received', start_time: Math.floor(since / 1000) };
    for (let page = 0; path && page < 20; page++) {
      const res: { satisfaction_ratings?: Array<{ id: number; ticket_id: number; score: string; comment?: string | null; updated_at?: string }>; next_page?: string | null } =
        await this.api.request({ method: 'GET', path, params });
      for (const r of res.satisfaction_ratings ?? []) {
        out.push({ id: String(r.id), ticketId: String(r.ticket_id), score: r.score, comment: r.comment ?? undefined, ratedAt: r.updated_at ? Date.parse(r.updated_at) : since });
      }
      // next_page is a whole URL with its query: follow it as it is, on the same host only.
      path = res.next_page && res.next_page.startsWith(this.base) ? res.next_page.slice(this.base.length) : undefined;
      params = undefined;
    }
    return out;
  }

  /** Uploads each file; the tokens go into the comment that attaches them. */
  private async upload(files: readonly Attachment[]): Promise<string[]> {
    const tokens: string[] = [];
    for (const file of files) {
      const res = await this.api.request<{ upload: { token: string } }>({
        method: 'POST',
        path: '/api/v2/uploads',
        params: { filename: file.filename },
        data: file.content,
        headers: { 'Content-Type': file.contentType },
      });
      tokens.push(res.upload.token);
    }
    return tokens;
  }

  private priority(word: string): string {
    return this.options.priorities[word] ?? (PRIORITIES.has(word) ? word : 'normal');
  }

  /** Rule and config fields, shaped as Zendesk takes them. */
  private mapFields(fields: Record<string, FieldValue>): Record<string, FieldValue> {
    const out: Record<string, FieldValue> = { ...fields };
    for (const name of ID_FIELDS) {
      const v = out[name];
      if (typeof v === 'string') {
        if (/^\d+$/.test(v.trim())) out[name] = Number(v.trim());
        else if (v.trim() === '') delete out[name];
      }
    }
    if (typeof out.tags === 'string') out.tags = out.tags.split(/[\s,]+/).filter((t) => t !== '');
    if (Array.isArray(out.tags)) out.tags = out.tags.filter((t) => t !== '');
    const custom = out.custom_fields;
    if (custom && typeof custom === 'object' && !Array.isArray(custom)) {
      out.custom_fields = Object.entries(custom).map(([id, value]) => ({ id: /^\d+$/.test(id) ? Number(id) : id, value }));
    }
    if (typeof out.priority === 'string') out.priority = this.priority(out.priority);
    return out;
  }
}

/**
 * A comment as HTML: Zendesk shows a Markdown `body` literally. The Markdown is
 * cut (saying where the rest is) until its HTML fits the limit.
 */
function htmlComment(text: string): string {
  let max = ZENDESK_COMMENT_MAX;
  let html = markdownToHtml(cut(text, max));
  for (let i = 0; i < 5 && html.length > ZENDESK_COMMENT_MAX; i++) {
    max = Math.floor((max * ZENDESK_COMMENT_MAX) / html.length) - 100;
    html = markdownToHtml(cut(text, max));
  }
  return html;
}

function zendeskAuth(options: ZendeskOptions): AuthProvider {
  if (options.oauthToken) {
    const header = `Bearer ${options.oauthToken}`;
    return { header: async () => header };
  }
  if (!options.email || !options.token) throw new Error('zendesk: set email and token, or oauth_token');
  const header = `Basic ${Buffer.from(`${options.email}/token:${options.token}`).toString('base64')}`;
  return { header: async () => header };
}
