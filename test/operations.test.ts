import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/config';
import { silentLogger } from '../src/log';
import { startDaemon } from '../src/main';
import { FakeZendesk } from './fake-zendesk';
import { amPayload, REPO, tempDir } from './helpers';
import { exited, freePort, spawnDaemon } from './process';

test('faultdesk refuses to listen beyond loopback with open endpoints, unless told', async () => {
  const tmp = tempDir();
  try {
    const env = { FAULTDESK_STORE_URL: `sqlite:${path.join(tmp.dir, 'a.db')}`, FAULTDESK_RULES: path.join(REPO, 'rules'), FAULTDESK_LISTEN: '0.0.0.0:0' };
    await expect(startDaemon({ config: loadConfig({ env }), logger: silentLogger(), startWorkers: false })).rejects.toThrow(
      /refusing to listen on 0\.0\.0\.0:0 with no credentials for source alertmanager, source zabbix, source nagios, source generic, admin/,
    );
    const secured = loadConfig({ env });
    for (const s of ['alertmanager', 'zabbix', 'nagios', 'generic'] as const) secured.auth.sources[s] = { bearer_token: `${s}-token` };
    secured.auth.admin = { bearer_token: 'admin-token' };
    const d1 = await startDaemon({ config: secured, logger: silentLogger(), startWorkers: false });
    await d1.stop();
    const allowed = loadConfig({ env });
    allowed.auth.allow_unauthenticated = true;
    const d2 = await startDaemon({ config: allowed, logger: silentLogger(), startWorkers: false });
    await d2.stop();
  } finally {
    tmp.cleanup();
  }
});

test('SIGTERM: requests in flight are answered, then the process exits 0', async () => {
  const tmp = tempDir();
  const daemon = await spawnDaemon({ FAULTDESK_STORE_URL: `sqlite:${path.join(tmp.dir, 'term.db')}` });
  try {
    const body = JSON.stringify(amPayload(Array.from({ length: 500 }, (_, i) => ({ labels: { alertname: 'Term', instance: `h${i}` }, fingerprint: i.toString(16) }))));
    const inFlight = Array.from({ length: 10 }, () =>
      fetch(`${daemon.url}/api/v1/alerts/alertmanager`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body }).then((r) => r.status),
    );
    await new Promise((r) => setTimeout(r, 30));
    const started = Date.now();
    daemon.child.kill('SIGTERM');
    const statuses = await Promise.allSettled(inFlight);
    expect(await exited(daemon.child)).toBe(0);
    expect(Date.now() - started).toBeLessThan(25_000);
    // Every request either completed before the stop (200) or was never accepted (connection refused): none half-done.
    for (const s of statuses) if (s.status === 'fulfilled') expect(s.value).toBe(200);
    expect(statuses.some((s) => s.status === 'fulfilled')).toBe(true);
    await expect(fetch(`${daemon.url}/-/healthy`)).rejects.toThrow();
  } finally {
    if (daemon.child.exitCode === null) daemon.child.kill('SIGKILL');
    tmp.cleanup();
  }
});

test('a ticket-system outage (500s, then 429s) delays delivery; afterwards every operation arrives in order, no ticket twice', async () => {
  const zendesk = new FakeZendesk();
  await zendesk.start();
  const tmp = tempDir();
  const configFile = path.join(tmp.dir, 'faultdesk.yaml');
  writeFileSync(
    configFile,
    `tickets:\n  default: zendesk\n  zendesk: { url: "${zendesk.url}", oauth_token: t, requests_per_minute: 100000, concurrency: 4 }\n` +
      'faults: { update_interval: 1s }\noutbox: { poll_interval: 100ms, backoff_initial: 200ms, backoff_max: 1s }\n',
  );
  const port = await freePort();
  const daemon = await spawnDaemon({ FAULTDESK_STORE_URL: `sqlite:${path.join(tmp.dir, 'outage.db')}`, FAULTDESK_LISTEN: `127.0.0.1:${port}` }, configFile);
  const depth = async () => {
    const text = await fetch(`${daemon.url}/metrics`).then((r) => r.text());
    return Number(/faultdesk_outbox_depth\{system="zendesk"\} (\d+)/.exec(text)?.[1]);
  };
  try {
    zendesk.failing = { status: 500 };
    const keys = 12;
    const post = (status: 'firing' | 'resolved') =>
      fetch(`${daemon.url}/api/v1/alerts/alertmanager`, {
        method: 'POST',
        body: JSON.stringify(
          amPayload(Array.from({ length: keys }, (_, k) => ({ status, labels: { alertname: 'TargetDown', job: 'o', instance: `10.2.${k}.1:80` }, fingerprint: (k + 1).toString(16), endsAt: status === 'resolved' ? new Date().toISOString() : undefined }))),
        ),
      });
    expect((await post('firing')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 800));
    expect((await post('resolved')).status).toBe(200);
    const during = await depth();
    expect(during).toBe(2 * keys); // create and resolve of every fault wait
    zendesk.failing = { status: 429, retryAfter: '1' };
    await new Promise((r) => setTimeout(r, 1200));
    expect(await depth()).toBe(2 * keys);
    zendesk.failing = undefined;
    const deadline = Date.now() + 30_000;
    while ((await depth()) > 0) {
      if (Date.now() > deadline) throw new Error('backlog did not drain');
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(zendesk.tickets).toHaveLength(keys);
    expect([...zendesk.creates().values()].every((n) => n === 1)).toBe(true);
    expect(zendesk.tickets.every((t) => t.status === 'solved')).toBe(true);
    // In order per fault: each ticket's resolve comment came after its create.
    for (const t of zendesk.tickets) expect(t.comments[t.comments.length - 1]).toMatch(/^Resolved/);
    const text = await fetch(`${daemon.url}/metrics`).then((r) => r.text());
    expect(text).toMatch(/faultdesk_ticket_api_errors_total\{system="zendesk",reason="server_error"\} [1-9]/);
    expect(text).toMatch(/faultdesk_ticket_api_errors_total\{system="zendesk",reason="rate_limited"\} [1-9]/);
  } finally {
    daemon.child.kill('SIGTERM');
    await exited(daemon.child);
    await zendesk.stop();
    tmp.cleanup();
  }
});
