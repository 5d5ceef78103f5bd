import { createHash } from 'node:crypto';
import type { MailEvent } from '../config/schema';
import type { Config } from '../config';
import type { Fault, MailLog, MailSnapshot } from '../faults/fault';
import type { Metrics } from '../metrics';
import type { OutboxChange } from '../outbox/enqueue';
import type { Category } from '../rules';
import type { MailStore, OutboxRow } from '../store';

export type { MailSnapshot } from '../faults/fault';

export type EmailConfig = NonNullable<Config['email']>;

export interface MailPayload {
  to: string[];
  event: MailEvent;
  changes: string[];
  previous?: MailSnapshot;
}

export interface DigestPayload {
  to: string[];
  faults: string[];
}

/** A mail a fault's change calls for, with the fault as the batch leaves it. */
export interface MailEventInput {
  fault: Fault;
  event: MailEvent;
  changes: string[];
}

export interface MailPlan {
  changes: OutboxChange[];
  /** The faults' mail logs, as they are once these mails are queued. */
  mailLogs: Map<string, MailLog>;
}

/**
 * Decides which fault events become mails and to whom, in the transaction of
 * the change: the category's or the config's recipients and events, one mail
 * per fault and event kind per throttle interval, and a digest instead of
 * many "open" mails in a storm. It returns outbox changes and mail logs; the
 * unit of work writes them.
 */
export class MailPlanner {
  constructor(
    private readonly config: EmailConfig,
    private readonly metrics: Metrics,
  ) {}

  async plan(mail: MailStore, now: number, events: readonly MailEventInput[], categoryOf: (name: string) => Category | undefined): Promise<MailPlan> {
    const changes: OutboxChange[] = [];
    const mailLogs = new Map<string, MailLog>();
    let digests: DigestState | undefined;
    for (const { fault, event, changes: lines } of events) {
      const to = this.recipients(fault, event, categoryOf(fault.category));
      if (!to) continue;
      const log = mailLogs.get(fault.id) ?? fault.mailLog;
      const last = log.sent?.[event];
      if (last !== undefined && now - last < this.config.throttle) {
        this.metrics.emailsSuppressed.inc({ reason: 'throttle' });
        continue;
      }
      const snapshot: MailSnapshot = { at: now, fs: fault.severity, priority: fault.priority, state: fault.state, firing: fault.firingCount, alerts: fault.alertCount };
      mailLogs.set(fault.id, { sent: { ...log.sent, [event]: now }, last: snapshot });

      if (event === 'open') {
        digests ??= new DigestState(await mail.recent(['open', 'digest'], now - this.config.digest.window));
        if (this.foldIntoDigest(digests, changes, now, fault.id, to)) continue;
      }
      const payload: MailPayload = { to, event, changes: lines, previous: log.last };
      // An open mail waits a moment, so that a storm is seen and digested before anything is sent.
      const nextAttemptAt = event === 'open' ? now + this.config.digest.wait : now;
      changes.push({ type: 'insert', op: { line: { fault: fault.id }, system: 'email', kind: event, payload, nextAttemptAt } });
      if (event === 'open') digests?.queued(fault.id, to, nextAttemptAt);
    }
    return { changes, mailLogs };
  }

  /** The recipients of this event, or undefined when it is not mailed. */
  private recipients(fault: Fault, event: MailEvent, category: Category | undefined): string[] | undefined {
    const policy = category?.notify;
    if (policy) {
      const to = policy.to ?? this.config.to;
      return policy.events.includes(event) && to.length > 0 ? to : undefined;
    }
    if (!this.config.events.includes(event) || fault.severity < this.config.min_severity) return undefined;
    return this.config.to.length > 0 ? this.config.to : undefined;
  }

  /**
   * When this open makes more than `threshold` open mails to the same people
   * within the window, it and the open mails not yet sent go into one digest.
   */
  private foldIntoDigest(state: DigestState, changes: OutboxChange[], now: number, faultId: string, to: string[]): boolean {
    const key = recipientsKey(to);
    const mine = state.of(key);
    const count = mine.reduce((n, m) => n + (m.kind === 'digest' ? m.faults.length : 1), 0);
    if (count + 1 <= this.config.digest.threshold) return false;

    const waiting = mine.filter((m) => m.kind === 'open' && m.pending);
    const faults = [...waiting.map((m) => m.faultId as string), faultId];
    for (const m of waiting) {
      if (m.id !== undefined) changes.push({ type: 'withdraw', id: m.id });
      else changes.splice(changes.findIndex((c) => c.type === 'insert' && c.op.system === 'email' && 'fault' in c.op.line && c.op.line.fault === m.faultId && c.op.kind === 'open'), 1);
      state.drop(m);
    }
    const digest = mine.find((m) => m.kind === 'digest' && m.pending);
    if (digest) {
      digest.faults.push(...faults);
      const payload = { to, faults: digest.faults } satisfies DigestPayload;
      if (digest.id !== undefined) changes.push({ type: 'rewrite', id: digest.id, payload });
      else (digest.insert as { op: { payload: object } }).op.payload = payload;
    } else {
      const nextAttemptAt = now + this.config.digest.wait;
      const insert: OutboxChange = { type: 'insert', op: { line: { digest: key }, system: 'email', kind: 'digest', payload: { to, faults } satisfies DigestPayload, nextAttemptAt } };
      changes.push(insert);
      state.add({ key, kind: 'digest', pending: true, faults: [...faults], nextAttemptAt, insert });
    }
    this.metrics.emailsSuppressed.inc({ reason: 'digest' }, faults.length);
    return true;
  }
}

/** An open mail or digest of the window, stored (id) or queued by this batch (insert). */
interface RecentMail {
  key: string;
  kind: 'open' | 'digest';
  pending: boolean;
  faultId?: string;
  faults: string[];
  nextAttemptAt: number;
  id?: number;
  insert?: OutboxChange;
}

/** The open mails and digests of the digest window, by recipients, as the batch changes them. */
class DigestState {
  private readonly mails: RecentMail[];

  constructor(rows: readonly OutboxRow[]) {
    this.mails = rows.map((op) => {
      const payload = JSON.parse(op.payload) as { to: string[]; faults?: string[] };
      return {
        key: recipientsKey(payload.to),
        kind: op.kind === 'digest' ? 'digest' : 'open',
        pending: op.state === 'pending',
        faultId: op.fault_id ?? undefined,
        faults: payload.faults ?? [],
        nextAttemptAt: op.next_attempt_at,
        id: op.id,
      };
    });
  }

  of(key: string): RecentMail[] {
    return this.mails.filter((m) => m.key === key);
  }

  queued(faultId: string, to: string[], nextAttemptAt: number): void {
    this.mails.push({ key: recipientsKey(to), kind: 'open', pending: true, faultId, faults: [], nextAttemptAt });
  }

  add(mail: RecentMail): void {
    this.mails.push(mail);
  }

  drop(mail: RecentMail): void {
    this.mails.splice(this.mails.indexOf(mail), 1);
  }
}

function recipientsKey(to: readonly string[]): string {
  return createHash('sha256').update([...to].sort().join('\n')).digest('hex').slice(0, 16);
}
