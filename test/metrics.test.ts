import { createMetrics, type StateReader } from '../src/metrics';
import { startTestDaemon, tempDir, testConfig } from './helpers';
import { freshDatabase, STORE_KINDS } from './postgres';

/** A store that answers until it is told to fail, as a database that goes away and comes back. */
function flakyState() {
  let down = false;
  const answer = async <T>(value: T): Promise<T> => {
    if (down) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
    return value;
  };
  const state: StateReader = {
    faultsByCategoryAndState: () => answer([{ category: 'disk', state: 'open', n: 2 }]),
    outboxBySystem: () => answer([{ system: 'zendesk', depth: 3, parked: 1, oldestCreatedAt: 1_000 }]),
    overdue: () => answer(1),
    satisfaction: () => answer({ overall: { css: 8 }, categories: [{ category: 'disk', css: 8 }] }),
  };
  return { state, setDown: (value: boolean) => (down = value) };
}

test('a scrape answers while the store does not: the gauges it feeds are left out, and the failed reads counted', async () => {
  const { state, setDown } = flakyState();
  const metrics = createMetrics({ state, now: () => 61_000 });
  const healthy = await metrics.registry.metrics();
  expect(healthy).toContain('faultdesk_outbox_depth{system="zendesk"} 3');
  expect(healthy).toContain('faultdesk_outbox_parked{system="zendesk"} 1');
  expect(healthy).toContain('faultdesk_store_errors_total{operation="metrics"} 0');

  setDown(true);
  const down = await metrics.registry.metrics();
  // No stale value that looks current: the store's gauges have no samples (or NaN, for one without labels) while it cannot be read.
  for (const gauge of ['faultdesk_faults', 'faultdesk_faults_at_risk', 'faultdesk_outbox_depth', 'faultdesk_outbox_parked', 'faultdesk_outbox_oldest_age_seconds', 'faultdesk_satisfaction_score']) {
    const samples = down.split('\n').filter((l) => (l.startsWith(`${gauge}{`) || l.startsWith(`${gauge} `)) && !/ nan$/i.test(l));
    expect({ gauge, samples }).toEqual({ gauge, samples: [] });
  }
  expect(down).toMatch(/^faultdesk_faults_at_risk nan$/im); // prom-client writes Nan; Prometheus reads any case
  const failed = Number(/^faultdesk_store_errors_total\{operation="metrics"\} (\d+)$/m.exec(down)?.[1]);
  expect(failed).toBeGreaterThan(0);
  // The rest of the scrape is still there.
  expect(down).toContain('faultdesk_build_info{');

  setDown(false);
  const back = await metrics.registry.metrics();
  expect(back).toContain('faultdesk_outbox_depth{system="zendesk"} 3');
  expect(back).toContain(`faultdesk_store_errors_total{operation="metrics"} ${failed}`);
});

test('the three outbox gauges of one scrape read the store once', async () => {
  let reads = 0;
  const state: StateReader = {
    faultsByCategoryAndState: async () => [],
    outboxBySystem: async () => {
      reads++;
      await new Promise((r) => setTimeout(r, 5));
      return [{ system: 'zendesk', depth: 3, parked: 1, oldestCreatedAt: 1_000 }];
    },
  };
  const metrics = createMetrics({ state, now: () => 61_000 });
  const text = await metrics.registry.metrics();
  expect(text).toContain('faultdesk_outbox_depth{system="zendesk"} 3');
  expect(text).toContain('faultdesk_outbox_parked{system="zendesk"} 1');
  expect(text).toContain('faultdesk_outbox_oldest_age_seconds{system="zendesk"} 60');
  expect(reads).toBe(1);
  // The next scrape reads again: nothing is kept between scrapes.
  await metrics.registry.metrics();
  expect(reads).toBe(2);
});

test("the daemon's /metrics answers 200 when its store has gone away", async () => {
  const tmp = tempDir();
  const daemon = await startTestDaemon(testConfig(tmp.dir));
  try {
    await daemon.store.close();
    const res = await fetch(`${daemon.url}/metrics`);
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).toMatch(/^faultdesk_store_errors_total\{operation="metrics"\} [1-9]/m);
    expect(text).toMatch(/^faultdesk_alerts_received_total\{/m);
  } finally {
    await daemon.stop().catch(() => undefined);
    tmp.cleanup();
  }
});

describe.each(STORE_KINDS)('on %s', (kind) => {
  test('parked operations are a gauge by system, until an operator sends them again', async () => {
    const tmp = tempDir();
    const env: Record<string, string> = {};
    let drop = async () => undefined as void;
    if (kind !== 'sqlite') {
      const db = await freshDatabase(kind);
      env.FAULTDESK_STORE_URL = db.url;
      drop = db.drop;
    }
    const daemon = await startTestDaemon(testConfig(tmp.dir, env));
    const parked = async () => {
      const text = await fetch(`${daemon.url}/metrics`).then((r) => r.text());
      return Object.fromEntries([...text.matchAll(/^faultdesk_outbox_parked\{system="(\w+)"\} (\S+)$/gm)].map((m) => [m[1], Number(m[2])]));
    };
    try {
      expect(await parked()).toEqual({ local: 0, zendesk: 0, servicenow: 0, email: 0 });
      const now = Date.now();
      const result = await daemon.faults.ingest('alertmanager', [
        { source: 'alertmanager', sourceId: 'fp-1', status: 'firing', labels: { alertname: 'TargetDown', severity: 'critical', instance: 'db-01:9100' }, annotations: {}, startsAt: now, receivedAt: now },
      ]);
      const [op] = await daemon.store.repos.outbox.listByFault(result.faults[0]!);
      // What the outbox worker does with an operation the ticket system refused for good.
      await daemon.store.repos.outbox.park(op!.id, 'HTTP 401: bad credentials', now);
      expect(await parked()).toEqual({ local: 1, zendesk: 0, servicenow: 0, email: 0 });
      await daemon.store.repos.outbox.retryParked(now, {});
      expect(await parked()).toEqual({ local: 0, zendesk: 0, servicenow: 0, email: 0 });
    } finally {
      await daemon.stop();
      await drop();
      tmp.cleanup();
    }
  });
});
