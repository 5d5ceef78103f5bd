/**
 * Writes requests that arrive together in one go, in arrival order: the same
 * as one request after another, with one transaction (and one set of
 * queries) for all. Requests that arrive while a group is being written form
 * the next group. When a group fails, each request is tried alone, so only
 * the one that fails is refused. `sameGroup` keeps apart requests that must
 * not share a write (two rule sets across a reload).
 */
export class GroupCommit<T> {
  private waiting: Array<{ request: T; resolve: () => void; reject: (err: unknown) => void }> = [];
  private writing = false;
  private lastWriteEnded = 0;

  constructor(
    private readonly write: (group: readonly T[]) => Promise<void>,
    private readonly sameGroup: (a: T, b: T) => boolean = () => true,
  ) {}

  /** Resolves once the request's group is written; rejects with the error of its own write. */
  submit(request: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ request, resolve, reject });
      // Wait a turn of the event loop, so that requests read in the same turn join the group.
      if (!this.writing) {
        this.writing = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.waiting.length > 0) {
        const first = this.waiting[0] as (typeof this.waiting)[number];
        const group = this.waiting.filter((w) => this.sameGroup(first.request, w.request));
        this.waiting = this.waiting.filter((w) => !this.sameGroup(first.request, w.request));
        try {
          await this.write(group.map((w) => w.request));
          for (const w of group) w.resolve();
        } catch (err) {
          if (group.length === 1) {
            first.reject(err);
            continue;
          }
          // One request may be what fails: each on its own, so that only that one is refused.
          for (const w of group) {
            try {
              await this.write([w.request]);
              w.resolve();
            } catch (alone) {
              w.reject(alone);
            }
          }
        }
      }
    } finally {
      this.writing = false;
      this.lastWriteEnded = performance.now();
    }
  }

  /** Whether requests are being written or wait to be. */
  get busy(): boolean {
    return this.writing || this.waiting.length > 0;
  }

  /**
   * Resolves once nothing has been written or waited to be for `quietMs`, or after `maxWaitMs`
   * at the latest. In a storm, writes follow each other with gaps of a few milliseconds: waiting
   * for a quiet spell (not just a gap) keeps other writers out until the storm passes.
   */
  async whenIdle(maxWaitMs: number, quietMs = 50): Promise<void> {
    // A turn of the event loop first, always: a caller that loops on whenIdle (the outbox, the
    // retention purge) over a store that never waits on I/O (SQLite) would otherwise run on resolved
    // promises alone once ingest is quiet, and no request would be read until it is done.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const deadline = performance.now() + maxWaitMs;
    const quietFor = () => (this.busy ? 0 : performance.now() - this.lastWriteEnded);
    if (quietFor() >= quietMs) return;
    return new Promise((resolve) => {
      const check = () => {
        const now = performance.now();
        const quiet = quietFor();
        if (quiet >= quietMs || now >= deadline) return resolve();
        setTimeout(check, Math.max(1, Math.min(quietMs - quiet, deadline - now)));
      };
      check();
    });
  }
}
