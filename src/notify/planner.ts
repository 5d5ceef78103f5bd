import { createHash } from 'node:crypto';
import type { MailEvent } from '../config/schema';
import type { Config } from '../config';
import type { Metrics } from '../metrics';
import type { Category } from '../rules';
import type { FaultRow, OutboxRow, Repos } from '../store';

export type EmailConfig = NonNullable<Config['email']>;

/** What the fault looked like when it was last mailed about, to tell what changed since. */
export interface MailSnapshot {
  at: number;
  fs: number;
  priority: string;
  state: string;
  firing: number;
  alerts: number;
}

interface MailLog {
  sent?: Partial<Record<MailEvent, number>>;
  last?: MailSnapshot;
}

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

export interface MailEventInput {
  fault: FaultRow;
  event: MailEvent;
  changes: string[];
}

/**
 * Decides which fault events become mails, to whom, and queues them in the
 * outbox in the same transaction as the fault change: the category's or the
 * config's recipients and events, one mail per fault and event kind per
 * throttle interval, and a digest instead of many "open" mails in a storm.
 */
export class MailPlanner {
  constructor(
    private readonly config: EmailConfig,
    private readonly metrics: Metrics,
  ) {}

  async plan(tx: Repos, now: number, events: readonly MailEventInput[], categoryOf: (name: string) => Category | undefined): Promise<number> {
    let queued = 0;
    let recent: OutboxRow[] | undefined;
    for (const { fault, event, changes } of events) {
      const category = categoryOf(fault.category);
      const to = this.recipients(fault, event, category);
      if (!to) continue;
      const log = JSON.parse(fault.mail_log) as MailLog;
      const last = log.sent?.[event];
      if (last !== undefined && now - last < this.config.throttle) {
        this.metrics.emailsSuppressed.inc({ reason: 'throttle' });
        continue;
      }
      log.sent = { ...log.sent, [event]: now };
      const previous = log.last;
      log.last = { at: now, fs: fault.severity, priority: fault.priority, state: fault.state, firing: fault.firing_count, alerts: fault.alert_count };
      fault.mail_log = JSON.stringify(log);
      await tx.faults.setMailLog(fault.id, fault.mail_log);

      if (event === 'open') {
        recent ??= await tx.outbox.recentMail(['open', 'digest'], now - this.config.digest.window);
        if (await this.foldIntoDigest(tx, now, fault, to, recent)) continue;
      }
      const payload: MailPayload = { to, event, changes, previous };
      const op = {
        fault_id: fault.id,
        system: 'email',
        kind: event,
        payload: JSON.stringify(payload),
        state: 'pending',
        attempts: 0,
        // An open mail waits a moment, so that a storm is seen and digested before anything is sent.
        next_attempt_at: event === 'open' ? now + this.config.digest.wait : now,
        claimed_until: null,
        last_error: null,
        created_at: now,
        updated_at: now,
      };
      const id = await tx.outbox.insert(op);
      recent?.push({ ...op, id });
      queued += 1;
    }
    return queued;
  }

  /** The recipients of this event, or undefined when it is not mailed. */
  private recipients(fault: FaultRow, event: MailEvent, category: Category | undefined): string[] | undefined {
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
  private async foldIntoDigest(tx: Repos, now: number, fault: FaultRow, to: string[], recent: OutboxRow[]): Promise<boolean> {
    const key = recipientsKey(to);
    const mine = recent.filter((op) => op.state !== 'deleted' && recipientsKey((JSON.parse(op.payload) as { to: string[] }).to) === key);
    const count = mine.reduce((n, op) => n + (op.kind === 'digest' ? (JSON.parse(op.payload) as DigestPayload).faults.length : 1), 0);
    if (count + 1 <= this.config.digest.threshold) return false;

    const waiting = mine.filter((op) => op.kind === 'open' && op.state === 'pending');
    const faults = [...waiting.map((op) => op.fault_id), fault.id];
    for (const op of waiting) {
      await tx.outbox.delete(op.id);
      op.state = 'deleted';
    }
    const digest = mine.find((op) => op.kind === 'digest' && op.state === 'pending');
    if (digest) {
      const payload = JSON.parse(digest.payload) as DigestPayload;
      payload.faults.push(...faults);
      digest.payload = JSON.stringify(payload);
      await tx.outbox.replacePayload(digest.id, digest.payload, digest.next_attempt_at, now);
    } else {
      const op = {
        fault_id: `digest:${key}`,
        system: 'email',
        kind: 'digest',
        payload: JSON.stringify({ to, faults } satisfies DigestPayload),
        state: 'pending',
        attempts: 0,
        next_attempt_at: now + this.config.digest.wait,
        claimed_until: null,
        last_error: null,
        created_at: now,
        updated_at: now,
      };
      recent.push({ ...op, id: await tx.outbox.insert(op) });
    }
    this.metrics.emailsSuppressed.inc({ reason: 'digest' }, faults.length);
    return true;
  }
}

function recipientsKey(to: readonly string[]): string {
  return createHash('sha256').update([...to].sort().join('\n')).digest('hex').slice(0, 16);
}
