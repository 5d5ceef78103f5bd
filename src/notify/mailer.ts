import nodemailer, { type Transporter } from 'nodemailer';
import type { Clock } from '../clock';
import { DeliveryError, type FailureReason } from '../delivery';
import type { Metrics } from '../metrics';
import type { OperationHandler } from '../outbox';
import type { Category, RuleEngine } from '../rules';
import type { FaultRow, OutboxRow, Store } from '../store';
import type { DigestPayload, EmailConfig, MailPayload } from './planner';
import { createMailTemplates, type MailTemplates, type RenderedMail } from './templates';

export interface MailHandlerDeps {
  config: EmailConfig;
  store: Store;
  rules: () => RuleEngine;
  metrics: Metrics;
  /** Relative times in mails ("due in 1h 17m") are told from its now. */
  clock: Clock;
  /** For tests: a ready transport. */
  transport?: Transporter;
}

/** Sends the outbox's mail operations over SMTP with nodemailer. */
export class MailHandler implements OperationHandler {
  readonly system = 'email';
  private readonly transport: Transporter;
  private readonly templates: MailTemplates;
  /** Of the From address: the right-hand side of our Message-IDs. */
  private readonly domain: string;

  constructor(private readonly deps: MailHandlerDeps) {
    const smtp = deps.config.smtp;
    this.transport =
      deps.transport ??
      nodemailer.createTransport({
        host: smtp.host,
        port: smtp.port,
        secure: smtp.secure,
        requireTLS: smtp.starttls,
        auth: smtp.username ? { user: smtp.username, pass: smtp.password ?? '' } : undefined,
        connectionTimeout: smtp.timeout,
        greetingTimeout: smtp.timeout,
        socketTimeout: smtp.timeout * 3,
      });
    this.templates = createMailTemplates(deps.config.link_base, (category, f) => deps.metrics.templateErrors.inc({ category, template: f.template }));
    this.domain = mailDomain(deps.config.from);
  }

  async handle(op: OutboxRow): Promise<void> {
    const mail = op.kind === 'digest' ? await this.digest(JSON.parse(op.payload) as DigestPayload) : await this.single(op);
    if (!mail) return;
    const to = (JSON.parse(op.payload) as { to: string[] }).to;
    try {
      await this.transport.sendMail({
        from: this.deps.config.from,
        to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        ...this.threading(op),
      });
    } catch (err) {
      throw smtpError(err);
    }
    this.deps.metrics.emailsSent.inc({ event: op.kind });
  }

  /**
   * Mails about one fault form a thread: the first has the fault's own
   * Message-ID, later ones answer it (In-Reply-To, References). Derived from
   * the fault and the operation, so a retried mail keeps its Message-ID.
   */
  private threading(op: OutboxRow): { messageId: string; inReplyTo?: string; references?: string } {
    if (op.kind === 'digest') return { messageId: `<faultdesk.digest.${op.id}@${this.domain}>` };
    const root = `<faultdesk.fault.${op.fault_id}@${this.domain}>`;
    const first = (JSON.parse(op.payload) as MailPayload).previous === undefined;
    return first ? { messageId: root } : { messageId: `<faultdesk.fault.${op.fault_id}.${op.id}@${this.domain}>`, inReplyTo: root, references: root };
  }

  counted(_op: OutboxRow, result: 'ok' | 'retry' | 'parked', reason?: string): void {
    if (result !== 'ok') this.deps.metrics.emailsFailed.inc({ reason: reason ?? 'unknown' });
  }

  private async single(op: OutboxRow): Promise<RenderedMail | undefined> {
    const payload = JSON.parse(op.payload) as MailPayload;
    const { repos } = this.deps.store;
    const fault = op.fault_id === null ? undefined : await repos.faults.get(op.fault_id);
    if (!fault) return undefined; // nothing left to tell
    const alerts = await repos.alerts.listByFault(fault.id, 10);
    return this.templates.fault(
      payload.event,
      fault,
      alerts,
      this.deps.rules().category(fault.category),
      payload.changes,
      payload.previous,
      this.deps.clock.now(),
    );
  }

  private async digest(payload: DigestPayload): Promise<RenderedMail | undefined> {
    const { repos } = this.deps.store;
    const faults = await repos.faults.getMany(payload.faults);
    if (faults.length === 0) return undefined;
    const entries = await Promise.all(
      faults.map(async (fault) => ({ fault, alerts: await repos.alerts.listByFault(fault.id, 3), category: this.deps.rules().category(fault.category) })),
    );
    // Most urgent first, then in the order they opened.
    entries.sort((a, b) => priorityRank(b.fault, b.category) - priorityRank(a.fault, a.category) || a.fault.opened_at - b.fault.opened_at);
    return this.templates.digest(entries, this.deps.clock.now());
  }
}

/** How urgent a fault's priority is: the lowest FS of its band in the category's priority bands (its FS without the category). */
function priorityRank(fault: FaultRow, category: Category | undefined): number {
  return category?.priority.find((band) => band.value === fault.priority)?.min ?? fault.severity;
}

/** The domain of an address like `faultdesk@acme.example` or `Faultdesk <faultdesk@acme.example>`. */
function mailDomain(from: string): string {
  const address = /<([^>]*)>/.exec(from)?.[1] ?? from;
  const domain = address.slice(address.lastIndexOf('@') + 1).trim();
  return /^[A-Za-z0-9.-]+$/.test(domain) ? domain : 'faultdesk.invalid';
}

/** SMTP 5xx is permanent: recorded and parked, not retried forever; anything else is retried. */
function smtpError(err: unknown): DeliveryError {
  const e = err as { responseCode?: number; code?: string; response?: string; message?: string };
  const said = (e.response ?? e.message ?? 'failed').replace(/\s+/g, ' ').slice(0, 300);
  if (typeof e.responseCode === 'number') {
    if (e.responseCode >= 500) return new DeliveryError(`SMTP ${said}`, e.code === 'EAUTH' ? 'unauthorized' : 'rejected', false);
    return new DeliveryError(`SMTP ${said}`, 'server_error', true);
  }
  let reason: FailureReason = 'connection';
  if (e.code === 'ETIMEDOUT') reason = 'timeout';
  return new DeliveryError(`SMTP ${e.code ?? 'error'}: ${said}`, reason, true);
}
