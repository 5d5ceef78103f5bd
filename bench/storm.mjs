// Storm: 100,000 alerts over 1,000 faults, with repeats, flapping, escalations,
// resolves and re-fires, against a local fake Zendesk. The first round opens the
// faults (and waits for their tickets); the other 49 are the storm. Counts the ticket API
// calls per fault by kind, and checks: exactly one create per fault, and at
// most one update per fault per update interval.
// Usage: npm run build && node bench/storm.mjs [--faults 1000] [--rounds 50] [--interval-ms 500] [--round-ms 200]
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import { startDaemon, waitOutboxEmpty } from './lib/daemon.mjs';
import { median, round } from './lib/stats.mjs';

const require = createRequire(import.meta.url);
const { FakeZendesk } = require('./lib/fake-zendesk.cjs');

const T0 = Date.parse('2026-11-24T16:00:00Z');

/** What each fault's two alerts do, by the fault's number. */
function behaviour(k) {
  const r = k % 10;
  if (r < 6) return 'steady'; // fire throughout; the summary changes every 5 rounds
  if (r < 8) return 'flapping'; // resolve and fire again every round
  if (r < 9) return 'escalating'; // warning, then critical from the middle on
  return 'refiring'; // fire, resolve for a while, fire again (a new start)
}

function alertsOf(k, roundNo, rounds) {
  const kind = behaviour(k);
  const third = Math.floor(rounds / 3);
  let status = 'firing';
  let startsAt = T0;
  if (kind === 'flapping' && roundNo % 2 === 1) status = 'resolved';
  // Alertmanager gives an alert that fires again a new start time.
  if (kind === 'flapping') startsAt = T0 + 60_000 * (roundNo - (roundNo % 2));
  if (kind === 'refiring' && roundNo >= third && roundNo < 2 * third) status = 'resolved';
  if (kind === 'refiring' && roundNo >= 2 * third) startsAt = T0 + 3_600_000;
  const severity = kind === 'escalating' && roundNo >= rounds / 2 ? 'critical' : 'warning';
  const summary = kind === 'steady' ? `host-${k} down, ${Math.floor(roundNo / 5) * 5} probes failed` : `host-${k} down`;
  return ['TargetDown', 'InstanceDown'].map((alertname, i) => ({
    status,
    labels: { alertname, job: 'storm', instance: `host-${k}:9100`, severity },
    annotations: { summary },
    startsAt: new Date(startsAt).toISOString(),
    endsAt: status === 'resolved' ? new Date(T0 + 60_000 * (roundNo + 1)).toISOString() : '0001-01-01T00:00:00Z',
    generatorURL: 'http://127.0.0.1:9090/graph',
    fingerprint: (k * 2 + i).toString(16).padStart(16, '0'),
  }));
}

function payload(alerts) {
  return JSON.stringify({
    version: '4', groupKey: '{}:{job="storm"}', truncatedAlerts: 0, status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    receiver: 'faultdesk', groupLabels: {}, commonLabels: { job: 'storm' }, commonAnnotations: {}, externalURL: 'http://127.0.0.1:9093', alerts,
  });
}

async function post(url, body) {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    await res.arrayBuffer();
    if (res.ok) return;
    // Alertmanager retries what is refused; so does the storm, a bounded number of times.
    if (attempt >= 5) throw new Error(`webhook answered ${res.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The most calls of one fault inside any window of `windowMs`. */
function maxInWindow(times, windowMs) {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end] - sorted[start] >= windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

export async function benchStorm({ faults = 1000, rounds = 50, intervalMs = 500, roundMs = 200, perPayload = 100, concurrency = 4, log = console.error } = {}) {
  const zendesk = new FakeZendesk();
  await zendesk.start();
  const daemon = await startDaemon({
    port: 19596,
    extraConfig:
      `tickets:\n  default: zendesk\n  zendesk: { url: "${zendesk.url}", oauth_token: bench-token, requests_per_minute: 100000, concurrency: 8 }\n` +
      `faults: { update_interval: ${intervalMs}ms }\noutbox: { poll_interval: 100ms, backoff_initial: 200ms, backoff_max: 2s }\n`,
  });
  const url = `${daemon.base}/api/v1/alerts/alertmanager`;
  let sent = 0;
  const firstRound = faults * 2;
  let started = Date.now();
  try {
    for (let r = 0; r < rounds; r++) {
      // A round takes at least roundMs, so the storm spans many update intervals.
      const roundDone = new Promise((resolve) => setTimeout(resolve, roundMs));
      const alerts = [];
      for (let k = 0; k < faults; k++) alerts.push(...alertsOf(k, r, rounds));
      const bodies = [];
      for (let i = 0; i < alerts.length; i += perPayload) bodies.push(payload(alerts.slice(i, i + perPayload)));
      let next = 0;
      // Each round completes before the next, as Alertmanager's group notifications follow one another.
      await Promise.all(Array.from({ length: concurrency }, async () => {
        while (next < bodies.length) await post(url, bodies[next++]);
      }));
      sent += alerts.length;
      await roundDone;
      // The first round opens every fault: with their tickets created, the storm's changes
      // become ticket updates instead of folding into creates still waiting to go out.
      if (r === 0) {
        await waitOutboxEmpty(daemon.base, 300_000);
        log(`storm: ${faults} faults opened and their tickets created in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        started = Date.now();
      }
    }
    const ingestSeconds = (Date.now() - started) / 1000;
    log(`storm: ${sent - firstRound} more alerts in ${ingestSeconds.toFixed(1)} s; waiting for the outbox`);
    await waitOutboxEmpty(daemon.base, 300_000);
    // Coalesced updates wait for their interval: wait one more and drain again.
    await new Promise((r) => setTimeout(r, intervalMs * 2));
    await waitOutboxEmpty(daemon.base, 300_000);
    const totalSeconds = (Date.now() - started) / 1000;

    const byFault = new Map();
    for (const c of zendesk.calls) {
      if (!c.faultId || c.failed) continue;
      const f = byFault.get(c.faultId) ?? { calls: {}, updates: [], puts: [] };
      f.calls[c.kind] = (f.calls[c.kind] ?? 0) + 1;
      if (c.kind === 'update') f.updates.push(c.at);
      if (c.method === 'PUT') f.puts.push(c.at);
      byFault.set(c.faultId, f);
    }
    const kinds = ['create', 'lookup', 'read', 'update', 'escalate', 'resolve', 'reopen', 'flapping', 'comment'];
    const perKind = {};
    for (const kind of kinds) {
      const counts = [...byFault.values()].map((f) => f.calls[kind] ?? 0);
      perKind[kind] = { total: counts.reduce((a, b) => a + b, 0), perFaultMedian: median(counts), perFaultMax: Math.max(0, ...counts) };
    }
    const creates = [...zendesk.creates().values()];
    const maxUpdatesPerInterval = Math.max(0, ...[...byFault.values()].map((f) => maxInWindow(f.updates, intervalMs)));
    const maxPutsPerInterval = Math.max(0, ...[...byFault.values()].map((f) => maxInWindow(f.puts, intervalMs)));
    return {
      faults,
      alerts: sent,
      rounds,
      minRoundMs: roundMs,
      updateIntervalMs: intervalMs,
      ingestSeconds: round(ingestSeconds, 1),
      alertsPerSecond: Math.round((sent - firstRound) / ingestSeconds),
      secondsUntilDelivered: round(totalSeconds, 1),
      ticketsCreated: creates.length,
      faultsWithExactlyOneCreate: creates.filter((n) => n === 1).length,
      maxUpdatesPerFaultPerInterval: maxUpdatesPerInterval,
      maxTicketWritesPerFaultPerInterval: maxPutsPerInterval,
      callsByKind: perKind,
      totalApiCalls: zendesk.calls.length,
    };
  } finally {
    await daemon.stop();
    await zendesk.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { faults: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '50' }, 'interval-ms': { type: 'string', default: '500' }, 'round-ms': { type: 'string', default: '200' } } });
  console.log(JSON.stringify(await benchStorm({ faults: Number(values.faults), rounds: Number(values.rounds), intervalMs: Number(values['interval-ms']), roundMs: Number(values['round-ms']) }), null, 2));
}
