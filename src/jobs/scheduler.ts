import { schedule, type ScheduledTask } from 'node-cron';
import { Histogram, type Registry } from 'prom-client';
import type { Logger } from '../log';

export interface Job {
  name: string;
  /** Cron expression; a leading sixth field is seconds. */
  schedule: string;
  run(): Promise<unknown>;
}

/**
 * Runs every scheduled job: never two runs of one job at once, each run's
 * failure logged with the job's name, a duration metric per job, and a clean stop.
 */
export class Scheduler {
  private readonly tasks: ScheduledTask[] = [];
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly duration: Histogram<'name' | 'result'>;

  constructor(
    private readonly logger: Logger,
    registry: Registry,
    /** Decides whether this process runs a job now (several replicas share one schedule). */
    private readonly once: (name: string, work: () => Promise<unknown>) => Promise<boolean> = async (_n, work) => {
      await work();
      return true;
    },
  ) {
    this.duration = new Histogram({
      name: 'faultdesk_job_duration_seconds',
      help: 'Duration of scheduled job runs, by job name and result (ok, error; skipped: another replica ran it).',
      // Not `job`: Prometheus sets that label on every scraped series, and ours would be renamed to exported_job.
      labelNames: ['name', 'result'] as const,
      buckets: [0.001, 0.01, 0.1, 0.5, 1, 5, 30, 120],
      registers: [registry],
    });
  }

  add(job: Job): void {
    const task = schedule(job.schedule, () => this.runNow(job), { name: job.name, noOverlap: true });
    // A run missed while the process was busy is said in our log, not in node-cron's own lines on stdout.
    task.on('execution:missed', (context) => {
      this.logger.warn('scheduled job run missed: the process was busy', { job: job.name, at: context.date.toISOString() });
    });
    this.tasks.push(task);
  }

  /** Runs the job now unless a run of it is still going. */
  runNow(job: Job): Promise<void> {
    const current = this.inFlight.get(job.name);
    if (current) return current;
    const end = this.duration.startTimer({ name: job.name });
    const run = (async () => {
      try {
        const ran = await this.once(job.name, () => job.run());
        end({ result: ran ? 'ok' : 'skipped' });
      } catch (err) {
        end({ result: 'error' });
        this.logger.error('scheduled job failed', { job: job.name, err });
      } finally {
        this.inFlight.delete(job.name);
      }
    })();
    this.inFlight.set(job.name, run);
    return run;
  }

  /** Stops the schedules and waits for runs in progress. */
  async stop(): Promise<void> {
    for (const task of this.tasks) await task.stop();
    this.tasks.length = 0;
    await Promise.all(this.inFlight.values());
  }
}
