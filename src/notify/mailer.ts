import nodemailer, { type Transporter } from 'nodemailer';
import type { Clock } from '../clock';
import { DeliveryError, type FailureReason } from '../delivery';
import type { Metrics } from '../metrics';
import type { OperationHandler } from '../outbox';
import type { RuleEngine } from '../rules';
import type { OutboxRow, Store } from '../store';
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
    this.templates = createMailTemplates(deps.config.link_base);
  }

  async handle(op: OutboxRow): Promise<void> {
    const mail = op.kind === 'digest' ? await this.digest(JSON.parse(op.payload) as DigestPayload) : await this.single(op);
    if (!mail) return;
    const to = (JSON.parse(op.payload) as { to: string[] }).to;
    try {
      await this.transport.sendMail({ from: this.deps.config.from, to, subject: mail.subject, text: mail.text, html: mail.html });
    } catch (err) {
      throw smtpError(err);
    }
    this.deps.metrics.emailsSent.inc({ event: op.kind });
  }

  failed(_op: OutboxRow, reason: string): void {
    this.deps.metrics.emailsFailed.inc({ reason });
  }

  private async single(op: OutboxRow): Promise<RenderedMail | undefined> {
    const payload = JSON.parse(op.payload) as MailPayload;
    const { repos } = this.deps.store;
    const fault = await repos.faults.get(op.fault_id);
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
    faults.sort((a, b) => b.severity - a.severity || a.opened_at - b.opened_at);
    const entries = await Promise.all(
      faults.map(async (fault) => ({ fault, alerts: await repos.alerts.listByFault(fault.id, 3), category: this.deps.rules().category(fault.category) })),
    );
    return this.templates.digest(entries, this.deps.clock.now());
  }
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
