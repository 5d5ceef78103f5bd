import { ManualClock } from '../../src/clock';
import { FaultService } from '../../src/faults';
import { silentLogger } from '../../src/log';
import type { Daemon } from '../../src/main';
import type { Alert } from '../../src/sources';
import { startTestDaemon, tempDir, testConfig } from '../helpers';
import { freshDatabase, STORE_KINDS } from '../postgres';

const T0 = Date.parse('2026-11-24T10:00:00Z');

function alert(i: number, instance = 'web-1'): Alert {
  return {
    source: 'alertmanager',
    sourceId: `fp-${instance}-${i}`,
    status: 'firing',
    labels: { alertname: 'TargetDown', job: 'node', instance, path: `/p${i}` },
    annotations: { summary: `${instance} check ${i} failed` },
    startsAt: T0,
    receivedAt: T0,
  };
}

// Requests that arrive together are written in one transaction, in arrival order.
describe.each(STORE_KINDS)('on %s', (kind) => {
  let daemon: Daemon;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    const tmp = tempDir();
    const env: Record<string, string> = {};
    let drop = async () => undefined as void;
    if (kind !== 'sqlite') {
      const db = await freshDatabase(kind);
      env.FAULTDESK_STORE_URL = db.url;
      drop = db.drop;
    }
    daemon = await startTestDaemon(testConfig(tmp.dir, env), new ManualClock(T0));
    cleanup = async () => {
      await drop();
      tmp.cleanup();
    };
  });
  afterEach(async () => {
    await daemon.stop();
    await cleanup();
  });

  test('twenty requests at once for one new fault: the first opens it, the others join it, in order', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => daemon.faults.ingest('alertmanager', [alert(i)])));
    expect(results[0]?.outcomes).toEqual({ opened: 1 });
    expect(results[0]?.transitions).toEqual([{ fault: results[0]?.faults[0], transition: 'opened' }]);
    for (const r of results.slice(1)) {
      expect(r.outcomes).toEqual({ updated: 1 });
      expect(r.transitions).toEqual([]);
    }
    expect(new Set(results.map((r) => r.faults[0])).size).toBe(1);
    const alerts = await daemon.store.repos.alerts.listByFault(results[0]?.faults[0] as string);
    expect(alerts.map((a) => a.source_id)).toEqual(Array.from({ length: 20 }, (_, i) => `fp-web-1-${i}`));
  });

  test('a request that cannot be stored is refused alone; the others of its group are stored', async () => {
    // A mail planner that fails for one fault key stands in for anything that breaks one request's writes.
    const faults = new FaultService({
      store: daemon.store,
      rules: daemon.rules,
      clock: new ManualClock(T0),
      logger: silentLogger(),
      metrics: daemon.metrics,
      mail: {
        async plan(_mail, _now, events) {
          if (events.some((e) => e.fault.key.includes('poison'))) throw new Error('cannot plan mail');
          return { changes: [], mailLogs: new Map() };
        },
      },
    });
    const requests = ['host-1', 'host-2', 'poison', 'host-3'].map((instance, i) => faults.ingest('alertmanager', [alert(i, instance)]));
    const settled = await Promise.allSettled(requests);
    expect(settled.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    const stored = await daemon.store.repos.faults.list({ limit: 100, offset: 0 });
    const keys = stored.map((f) => f.fault_key).sort();
    expect(keys).toHaveLength(3);
    ['host-1', 'host-2', 'host-3'].forEach((host, i) => expect(keys[i]).toContain(host));
  });
});
