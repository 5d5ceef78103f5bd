import { renderComment, renderRecord, renderTicket, ticketContext, ticketSubject, type OperationKind, type OperationPayload, type TemplateFailure } from '../faults';
import type { Clock } from '../clock';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import { renderFields, type Category, type FieldValue, type RuleEngine } from '../rules';
import type { AlertRow, FaultRow, OutboxRow, Repos, Store } from '../store';
import { TicketClosedError, TicketSystemError, type Attachment, type NewTicket, type TicketRef, type TicketSystem } from '../tickets';
import type { OperationHandler } from './worker';

/** Where a ticket system keeps the group a tier maps to. */
const GROUP_FIELD: Record<string, string> = { zendesk: 'group_id', servicenow: 'assignment_group', local: 'group' };

/** Operations that only add to a ticket: on a closed ticket there is nothing left to do. */
const ADDS_TO_TICKET: ReadonlySet<OperationKind> = new Set(['update', 'escalate', 'comment', 'flapping', 'resolve', 'assign', 'close']);

export interface TicketHandlerDeps {
  store: Store;
  system: TicketSystem;
  rules: () => RuleEngine;
  logger: Logger;
  metrics: Metrics;
  /** Relative times in tickets ("due in 1h 17m") are told from its now. */
  clock: Clock;
  /** The group of a support tier in this system (Zendesk group_id, ServiceNow assignment_group), if the config maps one. */
  tierGroup?: (tier: string) => FieldValue | undefined;
}

/** How a fault's ticket_error that a broken template caused begins. */
const TEMPLATE_ERROR = 'template:';

/** What the templates of one operation did: a broken template is permanent, so it is recorded, not retried. */
interface Rendering {
  rendered: boolean;
  failures: TemplateFailure[];
}

/** Turns a fault's outbox operations into calls of its ticket system, and records the ticket on the fault. */
export class TicketHandler implements OperationHandler {
  constructor(private readonly deps: TicketHandlerDeps) {}

  get system(): string {
    return this.deps.system.name;
  }

  async handle(op: OutboxRow): Promise<(tx: Repos) => Promise<void>> {
    const fault = op.fault_id === null ? undefined : await this.deps.store.repos.faults.get(op.fault_id);
    if (!fault) throw new TicketSystemError(`fault ${op.fault_id ?? op.line} no longer exists`, 'not_found', false);
    const rendering: Rendering = { rendered: false, failures: [] };
    const ref = await this.perform(op, op.kind as OperationKind, JSON.parse(op.payload) as OperationPayload, fault, rendering);
    const ticketError = this.templateError(fault, rendering);
    return (tx) => tx.faults.setTicket(fault.id, { ticket_id: ref.id, ticket_status: ref.status, ticket_url: ref.url ?? null, ticket_error: ticketError });
  }

  /**
   * The fault's ticket error after a delivered operation: what its templates
   * broke, else none; an operation that rendered nothing keeps an earlier
   * template error, since the ticket still shows the fallback.
   */
  private templateError(fault: FaultRow, { rendered, failures }: Rendering): string | null {
    for (const f of failures) this.deps.metrics.templateErrors.inc({ category: fault.category, template: f.template });
    if (failures.length > 0) {
      const what = failures.map((f) => `${f.template} of category "${fault.category}": ${f.message}`).join('; ');
      this.deps.logger.warn('a rule template failed; the ticket got a fallback', { fault: fault.id, category: fault.category, templates: failures.map((f) => f.template) });
      return `${TEMPLATE_ERROR} ${what}`;
    }
    return !rendered && fault.ticket_error?.startsWith(TEMPLATE_ERROR) ? fault.ticket_error : null;
  }

  async parked(tx: Repos, op: OutboxRow, message: string): Promise<void> {
    if (op.fault_id !== null) await tx.faults.setTicket(op.fault_id, { ticket_error: `${op.kind}: ${message}` });
  }

  counted(op: OutboxRow, result: 'ok' | 'retry' | 'parked', reason?: string): void {
    this.deps.metrics.ticketOperations.inc({ system: op.system, operation: op.kind, result });
    if (result !== 'ok') this.deps.metrics.ticketErrors.inc({ system: op.system, reason: reason ?? 'unknown' });
  }

  private async perform(op: OutboxRow, kind: OperationKind, payload: OperationPayload, fault: FaultRow, rendering: Rendering): Promise<TicketRef> {
    const { system } = this.deps;
    const category = this.category(fault);
    if (kind === 'create') {
      if (fault.ticket_id) return { id: fault.ticket_id, status: fault.ticket_status ?? 'open', url: fault.ticket_url ?? undefined };
      // An earlier attempt may have reached the system before we lost the answer: adopt its ticket.
      if (op.attempts > 1) {
        const found = await system.findByFault(fault.id);
        if (found) return found;
      }
      return system.create(await this.newTicket(op, fault, category, rendering));
    }
    if (!fault.ticket_id) {
      throw new TicketSystemError(`fault ${fault.id} has no ticket yet (its create did not succeed)`, 'not_found', false);
    }
    const ref: TicketRef = { id: fault.ticket_id, status: fault.ticket_status ?? 'open', url: fault.ticket_url ?? undefined };
    const comment = renderComment(kind, payload, fault, this.deps.clock.now());
    const idempotencyKey = `faultdesk-op-${op.id}`;
    // A priority a person set on the ticket is theirs: faultdesk stops sending its own.
    const priority = fault.priority_pinned ? {} : { priority: fault.priority, fs: fault.severity };
    try {
      switch (kind) {
        case 'escalate': {
          // What the fault is changed (WARNING became CRITICAL): so does the subject.
          const alerts = await this.deps.store.repos.alerts.listByFault(fault.id);
          const subject = ticketSubject(fault, alerts, category, this.deps.clock.now());
          return await system.update(ref, { comment, idempotencyKey, ...priority, subject });
        }
        case 'update':
          // An update carries the priority too: an escalation held during a downtime arrives with it.
          return await system.update(ref, { comment, idempotencyKey, ...priority });
        case 'resolve': {
          const alerts = await this.deps.store.repos.alerts.listByFault(fault.id);
          return await system.resolve(ref, {
            comment,
            idempotencyKey,
            solve: payload.solve ?? true,
            attachments: this.record(fault, category, alerts),
            fields: this.fields(fault, category, alerts, rendering),
          });
        }
        case 'reopen':
          return await system.reopen(ref, { comment, idempotencyKey, ...priority });
        case 'assign': {
          const group = fault.tier ? this.deps.tierGroup?.(fault.tier) : undefined;
          return await system.update(ref, { comment, idempotencyKey, ...(group !== undefined ? { group } : {}) });
        }
        case 'close':
          return await system.close(ref, { comment, idempotencyKey });
        default:
          return await system.update(ref, { comment, idempotencyKey });
      }
    } catch (err) {
      if (!(err instanceof TicketClosedError)) throw err;
      if (ADDS_TO_TICKET.has(kind)) {
        // Someone closed the ticket: nothing to add, and the next firing makes a new fault.
        this.deps.logger.info('ticket is closed; operation dropped', { op: op.id, fault: fault.id, kind, ticket: ref.id });
        return { ...ref, status: 'closed' };
      }
      // A recurrence of a fault whose ticket is closed gets a new ticket that names the old one.
      const ticket = await this.newTicket(op, fault, category, rendering);
      return system.create({ ...ticket, relatedTicketId: ref.id });
    }
  }

  private async newTicket(op: OutboxRow, fault: FaultRow, category: Category | undefined, rendering: Rendering): Promise<NewTicket> {
    const alerts = await this.deps.store.repos.alerts.listByFault(fault.id);
    const ticket = renderTicket(fault, alerts, category, { now: this.deps.clock.now() });
    rendering.rendered = true;
    rendering.failures.push(...ticket.failures);
    const group = fault.tier ? this.deps.tierGroup?.(fault.tier) : undefined;
    // The closed ticket this fault's continues (a recurrence after a person closed it), in this system.
    const follows = fault.follows_ticket?.startsWith(`${this.deps.system.name}:`) ? fault.follows_ticket.slice(this.deps.system.name.length + 1) : undefined;
    return {
      faultId: fault.id,
      idempotencyKey: `faultdesk-${fault.id}-${op.id}`,
      subject: ticket.subject,
      body: ticket.body,
      priority: fault.priority,
      fs: fault.severity,
      fields: group === undefined ? ticket.fields : { ...ticket.fields, [GROUP_FIELD[this.deps.system.name] ?? 'group']: group },
      attachments: this.record(fault, category, alerts),
      ...(follows ? { relatedTicketId: follows } : {}),
    };
  }

  private fields(fault: FaultRow, category: Category | undefined, alerts: readonly AlertRow[], rendering: Rendering) {
    if (!category) return {};
    rendering.rendered = true;
    const ctx = ticketContext(fault, alerts, category, { now: this.deps.clock.now(), failures: rendering.failures });
    return renderFields(category.ticket.fields, ctx, (field, err) =>
      rendering.failures.push({ template: 'fields', message: `${field}: ${(err as Error).message.split('\n')[0]}` }),
    );
  }

  private record(fault: FaultRow, category: Category | undefined, alerts: readonly AlertRow[]): Attachment[] {
    // Rendered here only for a system that stores a copy; local tickets render it when it is read.
    const record = this.deps.system.recordsByReference ? { markdown: '', json: '' } : renderRecord(fault, alerts, category);
    return [
      { filename: `faultdesk-fault-${fault.id}.md`, contentType: 'text/markdown; charset=utf-8', content: record.markdown, record: 'markdown' },
      { filename: `faultdesk-fault-${fault.id}.json`, contentType: 'application/json', content: record.json, record: 'json' },
    ];
  }

  private category(fault: FaultRow): Category | undefined {
    return this.deps.rules().category(fault.category);
  }
}
