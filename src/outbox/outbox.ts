import { OutboxWorker, type OperationHandler, type OutboxWorkerDeps, type OutboxWorkerOptions } from './worker';

export interface OutboxDeps extends Omit<OutboxWorkerDeps, 'handler' | 'options'> {
  handlers: ReadonlyArray<{ handler: OperationHandler; options: OutboxWorkerOptions }>;
}

/** One worker per system (each ticket system, e-mail), started, woken and stopped together. */
export class Outbox {
  readonly workers: OutboxWorker[];

  constructor(deps: OutboxDeps) {
    this.workers = deps.handlers.map(({ handler, options }) => new OutboxWorker({ ...deps, handler, options }));
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
