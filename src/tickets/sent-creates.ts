import type { Clock } from '../clock';

/** A create request exactly as it went out: the Idempotency-Key and the body's bytes. */
export interface SentCreate {
  key: string;
  body: string;
}

/**
 * The create requests this process sent and has no answer to yet, by create
 * operation, so that a retry sends the same bytes under the same key (a system
 * that honours Idempotency-Key refuses the key with another body). Kept for
 * `ttlMs` (what the request refers to, such as upload tokens, must still be
 * valid when it is sent again) and at most `max` of them.
 */
export class SentCreates {
  private readonly sent = new Map<string, SentCreate & { at: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number,
    private readonly max = 10_000,
  ) {}

  get(operation: string): SentCreate | undefined {
    this.expire();
    const found = this.sent.get(operation);
    return found ? { key: found.key, body: found.body } : undefined;
  }

  remember(operation: string, request: SentCreate): void {
    // Deleted first so the map stays in the order the requests were sent, oldest first.
    this.sent.delete(operation);
    this.sent.set(operation, { ...request, at: this.clock.now() });
    for (const oldest of this.sent.keys()) {
      if (this.sent.size <= this.max) break;
      this.sent.delete(oldest);
    }
  }

  forget(operation: string): void {
    this.sent.delete(operation);
  }

  get size(): number {
    return this.sent.size;
  }

  private expire(): void {
    const limit = this.clock.now() - this.ttlMs;
    for (const [operation, request] of this.sent) {
      if (request.at > limit) break;
      this.sent.delete(operation);
    }
  }
}
