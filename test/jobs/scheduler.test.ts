import { PassThrough } from 'node:stream';
import { Registry } from 'prom-client';
import { Scheduler } from '../../src/jobs';
import { createLogger } from '../../src/log';

function setup() {
  const lines: string[] = [];
  const stream = new PassThrough();
  stream.on('data', (c: Buffer) => lines.push(c.toString()));
  const registry = new Registry();
  return { scheduler: new Scheduler(createLogger({ level: 'info', stream }), registry), registry, lines };
}

test('a job never runs twice at once; its failures are logged with its name; each run is timed', async () => {
  const { scheduler, registry, lines } = setup();
  let running = 0;
  let most = 0;
  let release!: () => void;
  const slow = {
    name: 'slow',
    schedule: '0 0 1 1 *',
    run: async () => {
      running += 1;
      most = Math.max(most, running);
      await new Promise<void>((r) => (release = r));
      running -= 1;
    },
  };
  const first = scheduler.runNow(slow);
  const second = scheduler.runNow(slow); // while the first is still going
  release();
  await Promise.all([first, second]);
  expect(most).toBe(1);

  await scheduler.runNow({ name: 'broken', schedule: '0 0 1 1 *', run: async () => Promise.reject(new Error('disk on fire')) });
  await new Promise((r) => setImmediate(r));
  const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.message === 'scheduled job failed');
  expect(logged).toMatchObject({ level: 'error', job: 'broken', err: { message: 'disk on fire' } });

  const metric = await registry.getSingleMetricAsString('faultdesk_job_duration_seconds');
  expect(metric).toContain('faultdesk_job_duration_seconds_count{name="slow",result="ok"} 1');
  expect(metric).toContain('faultdesk_job_duration_seconds_count{name="broken",result="error"} 1');
});

test('jobs run on their cron schedule and stop cleanly, waiting for a run in progress', async () => {
  const { scheduler } = setup();
  let runs = 0;
  let finished = 0;
  scheduler.add({
    name: 'tick',
    schedule: '* * * * * *',
    run: async () => {
      runs += 1;
      await new Promise((r) => setTimeout(r, 300));
      finished += 1;
    },
  });
  await new Promise((r) => setTimeout(r, 2300));
  await scheduler.stop();
  expect(runs).toBeGreaterThanOrEqual(1);
  expect(finished).toBe(runs);
  const after = runs;
  await new Promise((r) => setTimeout(r, 1200));
  expect(runs).toBe(after);
});

test('a run missed while the process was busy is logged as JSON, not printed by node-cron', async () => {
  const { scheduler, lines } = setup();
  const printed = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  try {
    scheduler.add({ name: 'tick', schedule: '* * * * * *', run: async () => undefined });
    await new Promise((r) => setTimeout(r, 1100));
    const until = Date.now() + 2500;
    while (Date.now() < until); // the process is busy: node-cron misses at least one second
    await new Promise((r) => setTimeout(r, 1500));
    const missed = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.message === 'scheduled job run missed: the process was busy');
    expect(missed.length).toBeGreaterThan(0);
    expect(missed[0]).toMatchObject({ level: 'warn', job: 'tick' });
    expect(printed.mock.calls.flat().join(' ')).not.toMatch(/missed execution/);
  } finally {
    printed.mockRestore();
    await scheduler.stop();
  }
});
