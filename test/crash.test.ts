import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { openStore } from '../src/store';
import { amPayload, tempDir } from './helpers';
import { freshDatabase, STORE_KINDS } from './postgres';
import { exited, freePort, spawnDaemon } from './process';

jest.setTimeout(120_000);

// An alert storm on loopback, the daemon killed with SIGKILL in the middle and
// started again: every alert that got a 2xx is stored, every fault has
// exactly one ticket, and every outbox operation is delivered, once.
describe.each(STORE_KINDS)('a SIGKILL in an alert storm, on %s', (kind) => {
  test('loses no accepted alert, makes no second ticket, delivers every operation once', async () => {
    const tmp = tempDir();
    let drop = async () => undefined as void;
    let storeUrl = `sqlite:${path.join(tmp.dir, 'crash.db')}`;
    if (kind !== 'sqlite') {
      const db = await freshDatabase(kind);
      storeUrl = db.url;
      drop = db.drop;
    }
    const port = await freePort();
    const env = { FAULTDESK_STORE_URL: storeUrl, FAULTDESK_LISTEN: `127.0.0.1:${port}` };
    // Updates paced at 1 s, so the storm's updates are all due within the test.
    const configFile = path.join(tmp.dir, 'faultdesk.yaml');
    // A short lease, so the operations the killed process had in hand are taken over within the test.
    writeFileSync(configFile, 'faults: { update_interval: 1s }\noutbox: { poll_interval: 100ms, lease: 3s }\n');
    const children: ChildProcess[] = [];
    try {
      const KEYS = 150;
      const payloads = Array.from({ length: 300 }, (_, i) => {
        const status = i >= 240 && i % 2 === 0 ? ('resolved' as const) : ('firing' as const);
        return amPayload(
          Array.from({ length: 10 }, (_, j) => {
            const n = (i * 10 + j) % (KEYS * 4); // four alerts per key, each sent several times
            return {
              status,
              labels: { alertname: 'TargetDown', job: 'storm', instance: `10.1.${n % KEYS}.1:9100`, shard: String(Math.floor(n / KEYS)), severity: n % 7 === 0 ? 'critical' : 'warning' },
              fingerprint: n.toString(16).padStart(16, '0'),
              endsAt: status === 'resolved' ? new Date().toISOString() : undefined,
            };
          }),
        );
      });
      let daemon = await spawnDaemon(env, configFile);
      children.push(daemon.child);
      const acknowledged = new Set<string>();
      const failed: number[] = [];
      let next = 0;
      const send = async (i: number) => {
        try {
          // A bounded wait, as Alertmanager's: a request caught by the kill may never be answered.
          const res = await fetch(`http://127.0.0.1:${port}/api/v1/alerts/alertmanager`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify(payloads[i]),
            signal: AbortSignal.timeout(10_000),
          });
          await res.arrayBuffer();
          if (res.status === 200) for (const a of (payloads[i] as { alerts: Array<{ fingerprint: string }> }).alerts) acknowledged.add(a.fingerprint);
          else failed.push(i);
        } catch {
          failed.push(i); // the connection died with the process: Alertmanager would retry
        }
      };
      const killAt = 120;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next < payloads.length) {
            const i = next++;
            if (i === killAt) daemon.child.kill('SIGKILL');
            await send(i);
          }
        }),
      );
      await exited(daemon.child);
      expect(failed.length).toBeGreaterThan(0); // the kill did land in the middle of the storm

      daemon = await spawnDaemon(env, configFile);
      children.push(daemon.child);
      for (const i of failed.splice(0)) await send(i);
      expect(failed).toEqual([]);

      // Wait until every operation is delivered.
      const store = await openStore({ url: storeUrl });
      try {
        const deadline = Date.now() + 60_000;
        for (;;) {
          const stats = await store.repos.outbox.statsBySystem();
          if (stats.every((s) => s.depth === 0)) break;
          if (Date.now() > deadline) throw new Error(`outbox did not drain: ${JSON.stringify(stats)}`);
          await new Promise((r) => setTimeout(r, 200));
        }
        daemon.child.kill('SIGTERM');
        expect(await exited(daemon.child)).toBe(0);

        const faults = await store.repos.faults.list({ limit: 10_000, offset: 0 });
        expect(faults).toHaveLength(KEYS);
        const stored = new Set<string>();
        for (const f of faults) for (const a of await store.repos.alerts.listByFault(f.id)) stored.add(a.source_id);
        for (const fp of acknowledged) expect(stored.has(fp)).toBe(true);
        const { tickets, comments } = await store.repos.localTickets.list({ limit: 10_000, offset: 0 });
        expect(tickets).toHaveLength(KEYS);
        expect(new Set(tickets.map((t) => t.fault_id)).size).toBe(KEYS);
        for (const f of faults) {
          const ops = await store.repos.outbox.listByFault(f.id);
          expect(ops.every((o) => o.state === 'done')).toBe(true);
          const ticket = tickets.find((t) => t.fault_id === f.id)!;
          // One comment per delivered non-create operation: none lost, none twice.
          expect(comments.filter((c) => c.ticket_id === ticket.id)).toHaveLength(ops.filter((o) => o.kind !== 'create').length);
        }
      } finally {
        await store.close();
      }
    } finally {
      for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
      await drop();
      tmp.cleanup();
    }
  });
});
