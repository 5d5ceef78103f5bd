import type { Daemon } from '../src/main';
import { loadConfig } from '../src/config';
import { silentLogger } from '../src/log';
import { startDaemon } from '../src/main';
import { FakeZendesk } from './fake-zendesk';
import { amPayload, postJson, REPO } from './helpers';
import { freshDatabase, SERVER_KINDS } from './postgres';
import path from 'node:path';

// Two replicas on one PostgreSQL or MariaDB, fed the same Alertmanager stream twice over
// (as an HA pair sends it), must make exactly one ticket per fault.
if (SERVER_KINDS.length > 0) {
  describe.each(SERVER_KINDS)('two replicas on %s', (kind) => {
    let zendesk: FakeZendesk;
    let replicas: Daemon[] = [];
    let drop: () => Promise<void>;

    beforeAll(async () => {
      zendesk = new FakeZendesk();
      await zendesk.start();
      const db = await freshDatabase(kind);
      drop = db.drop;
      const env = {
        FAULTDESK_LISTEN: '127.0.0.1:0',
        FAULTDESK_STORE_URL: db.url,
        FAULTDESK_RULES: path.join(REPO, 'rules'),
      };
      for (let i = 0; i < 2; i++) {
        const config = loadConfig({ env });
        config.tickets.default = 'zendesk';
        config.tickets.zendesk = {
          url: zendesk.url,
          oauth_token: 'fake',
          timeout: 5000,
          concurrency: 4,
          requests_per_minute: 100_000,
          fields: {},
          priorities: {},
        };
        config.outbox.poll_interval = 100;
        replicas.push(await startDaemon({ config, logger: silentLogger() }));
      }
    });
    afterAll(async () => {
      for (const r of replicas) await r.stop();
      replicas = [];
      await zendesk.stop();
      await drop();
    });

    test('the same duplicated stream at both replicas at once: one fault and one ticket per key', async () => {
      const keys = 40;
      const firing = (k: number) => ({
        labels: { alertname: 'TargetDown', job: 'api', instance: `10.0.${k}.1:9100`, severity: 'critical' },
        fingerprint: k.toString(16).padStart(16, '0'),
      });
      // Every payload goes to both replicas at the same moment, three times (retries, repeat_interval).
      const sends: Array<Promise<{ status: number }>> = [];
      for (let round = 0; round < 3; round++) {
        for (let k = 0; k < keys; k += 4) {
          const body = amPayload([0, 1, 2, 3].map((j) => firing(k + j)));
          for (const r of replicas) sends.push(postJson(`${r.url}/api/v1/alerts/alertmanager`, body));
        }
      }
      const answers = await Promise.all(sends);
      expect(answers.every((a) => a.status === 200)).toBe(true);
      // Then they all resolve, again at both replicas.
      const resolves: Array<Promise<{ status: number }>> = [];
      for (let k = 0; k < keys; k += 4) {
        const body = amPayload([0, 1, 2, 3].map((j) => ({ ...firing(k + j), status: 'resolved' as const, endsAt: new Date().toISOString() })));
        for (const r of replicas) resolves.push(postJson(`${r.url}/api/v1/alerts/alertmanager`, body));
      }
      expect((await Promise.all(resolves)).every((a) => a.status === 200)).toBe(true);

      // Wait for both outboxes to drain.
      const deadline = Date.now() + 60_000;
      for (;;) {
        const stats = await replicas[0]!.store.repos.outbox.statsBySystem();
        if (stats.every((s) => s.depth === 0) && zendesk.tickets.filter((t) => t.status === 'solved').length === keys) break;
        if (Date.now() > deadline) throw new Error(`outbox did not drain: ${JSON.stringify(stats)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const faults = await replicas[0]!.store.repos.faults.list({ limit: 1000, offset: 0 });
      expect(faults).toHaveLength(keys);
      expect(faults.every((f) => f.state === 'resolved' && f.alert_count === 1)).toBe(true);
      const creates = zendesk.creates();
      expect(creates.size).toBe(keys);
      expect([...creates.values()].every((n) => n === 1)).toBe(true);
      expect(new Set(faults.map((f) => f.id))).toEqual(new Set(creates.keys()));
      // Both replicas did deliver: the work was shared.
      const delivered = await Promise.all(replicas.map((r) => r.metrics.registry.getSingleMetricAsString('faultdesk_ticket_operations_total')));
      for (const text of delivered) expect(text).toMatch(/system="zendesk",operation="(create|resolve)",result="ok"} [1-9]/);
    });
  });
}
