import type { TicketSystem } from '../tickets';
import { OutboxWorker, type OutboxWorkerDeps, type OutboxWorkerOptions } from './worker';

export interface OutboxDeps extends Omit<OutboxWorkerDeps, 'system' | 'options'> {
  systems: ReadonlyMap<string, { system: TicketSystem; options: OutboxWorkerOptions }>;
}

/** One worker per ticket system, started, woken and stopped together. */
export class Outbox {
  readonly workers: OutboxWorker[];

  constructor(deps: OutboxDeps) {
    this.workers = [...deps.systems.values()].map(({ system, options }) => new OutboxWorker({ ...deps, system, options }));
  }

  start(): void {
    for (const w of this.workers) w.start();
  }

  wake(): void {
    for (const w of this.workers) w.wake();
  }

  /** One delivery round of every system; how many operations were handled. */
  async runOnce(): Promise<number> {
    const counts = await Promise.all(this.workers.map((w) => w.runOnce()));
    return counts.reduce((a, b) => a + b, 0);
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.stop()));
  }
}
