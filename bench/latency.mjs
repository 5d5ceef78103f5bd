// Latency: webhook answer times at a fixed 2,000 alerts/s (200 payloads of 10 a second),
// measured at the sender; Alertmanager's own API at the same rate for scale. Requests go out evenly
// spaced (lib/paced-load.mjs, latency counted from when each was due); --load bursts measures as
// before 2026-12-02, with autocannon's overallRate, which sends each second's requests at its start.
// The sender runs on the same two cores and is itself late at times: each result also gives its
// p99 counted from the send and how late the sender was (p99).
// Two streams: repeats (5,000 firing alerts resent unchanged, what Alertmanager mostly sends)
// and changes (every delivery changes the summary of its alerts, of 5,000 other faults: each
// one a transaction and a coalesced ticket update). autocannon reports whole milliseconds.
// With --baseline DIR, another checkout's build (DIR/dist) takes the same two streams in the same run.
// Usage: npm run build && node bench/latency.mjs [--runs 3] [--seconds 10] [--rate 2000] [--baseline DIR] [--load paced|bursts]
import { parseArgs } from 'node:util';
import { startDaemon, waitOutboxEmpty } from './lib/daemon.mjs';
import { startAlertmanager } from './lib/alertmanager.mjs';
import { alertOf, bodies, webhookBody } from './lib/payloads.mjs';
import { postLoad, warmUp } from './lib/load.mjs';
import { pacedLoad } from './lib/paced-load.mjs';
import { median } from './lib/stats.mjs';
import { cpuSeconds } from './lib/processes.mjs';

export const PER_PAYLOAD = 10;
export const KEYS = 5000;

/**
 * Payloads whose alerts change their summary on every delivery: other faults than the repeats'.
 * `from` numbers the deliveries from there (a warm-up that the measured deliveries still change).
 */
export function changingBodies(count, from = 0) {
  const out = [];
  for (let p = 0; p < count; p++) {
    const alerts = [];
    for (let i = 0; i < PER_PAYLOAD; i++) {
      const a = alertOf(p * PER_PAYLOAD + i, KEYS, KEYS);
      alerts.push({ ...a, annotations: { ...a.annotations, summary: `${a.annotations.summary} (delivery ${from + p})` } });
    }
    out.push(webhookBody(alerts));
  }
  return out;
}

export async function benchLatency({ runs = 3, seconds = 10, rate = 2000, baseline, load = 'paced', log = console.error } = {}) {
  if (load !== 'paced' && load !== 'bursts') throw new Error(`--load: paced or bursts, not ${load}`);
  const requestsPerSecond = rate / PER_PAYLOAD;
  const count = KEYS / PER_PAYLOAD;
  const streams = {
    'faultdesk, repeats': { bodies: bodies(count, PER_PAYLOAD, KEYS, 'webhook'), target: 'faultdesk' },
    // Enough distinct deliveries that none repeats within a run.
    'faultdesk, changes': { bodies: changingBodies(requestsPerSecond * seconds * 2), target: 'faultdesk' },
    'alertmanager, repeats': { bodies: bodies(count, PER_PAYLOAD, KEYS, 'alertmanager-api'), target: 'alertmanager' },
  };
  if (baseline) {
    streams['baseline, repeats'] = { ...streams['faultdesk, repeats'], target: 'baseline' };
    streams['baseline, changes'] = { ...streams['faultdesk, changes'], target: 'baseline' };
  }
  const faultdesk = await startDaemon({ port: 19595 });
  const before = baseline ? await startDaemon({ port: 19596, root: baseline }) : undefined;
  const alertmanager = await startAlertmanager({ port: 19593 });
  const urls = {
    faultdesk: `${faultdesk.base}/api/v1/alerts/alertmanager`,
    ...(before ? { baseline: `${before.base}/api/v1/alerts/alertmanager` } : {}),
    alertmanager: `${alertmanager.base}/api/v2/alerts`,
  };
  const measured = Object.fromEntries(Object.keys(streams).map((k) => [k, []]));
  try {
    // Open the 5,000 faults and create their tickets first: the runs measure a daemon at work, not its first minute.
    for (const [name, daemon] of [['faultdesk', faultdesk], ['baseline', before]]) {
      if (!daemon) continue;
      await warmUp({ url: urls[name], bodies: streams['faultdesk, repeats'].bodies, connections: 16 });
      // The faults of the changes stream open before it runs, so that it measures changes.
      await warmUp({ url: urls[name], bodies: bodies(count, PER_PAYLOAD, KEYS, 'webhook', KEYS), connections: 16, seconds: 0 });
    }
    await warmUp({ url: urls.alertmanager, bodies: streams['alertmanager, repeats'].bodies, connections: 16 });
    await waitOutboxEmpty(faultdesk.base);
    if (before) await waitOutboxEmpty(before.base);
    const pids = { faultdesk: faultdesk.pid, baseline: before?.pid, alertmanager: alertmanager.pid };
    for (let run = 0; run < runs; run++) {
      for (const [name, stream] of Object.entries(streams)) {
        const options = { url: urls[stream.target], bodies: stream.bodies, connections: 10, seconds, rate: requestsPerSecond };
        // The whole process's CPU time (every thread) over the stream, a less noisy figure than a p99 here.
        const cpuBefore = cpuSeconds(pids[stream.target]);
        const r = load === 'paced' ? await pacedLoad(options) : await postLoad(options);
        const cpuMicrosPerAlert = Math.round(((cpuSeconds(pids[stream.target]) - cpuBefore) * 1e6) / (r.requests * PER_PAYLOAD));
        if (r.non2xx || r.errors) throw new Error(`${name}: ${r.non2xx} non-2xx answers and ${r.errors} errors`);
        // The paced load also says how late the sender itself was, and the latency counted from its send.
        const paced = r.fromSendMs ? { fromSendP99: r.fromSendMs.p99, sendLagP99: r.sendLagMs.p99 } : {};
        measured[name].push({ ...r.latencyMs, ...paced, alertsPerSecond: Math.round(r.requestsPerSecond * PER_PAYLOAD), cpuMicrosPerAlert });
        log(
          `latency ${name}, run ${run + 1}: p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms` +
            (r.fromSendMs ? ` (from the send ${r.fromSendMs.p99} ms; sender late by ${r.sendLagMs.p99} ms at p99)` : '') +
            ` at ${Math.round(r.requestsPerSecond * PER_PAYLOAD)} alerts/s, CPU ${cpuMicrosPerAlert} µs an alert`,
        );
      }
    }
  } finally {
    await faultdesk.stop();
    await before?.stop();
    await alertmanager.stop();
  }
  const results = Object.entries(measured).map(([stream, rs]) => ({
    stream,
    alertsPerSecond: median(rs.map((r) => r.alertsPerSecond)),
    p50Ms: median(rs.map((r) => r.p50)),
    p90Ms: median(rs.map((r) => r.p90)),
    p99Ms: median(rs.map((r) => r.p99)),
    maxMs: median(rs.map((r) => r.max)),
    ...(load === 'paced' ? { fromSendP99Ms: median(rs.map((r) => r.fromSendP99)), sendLagP99Ms: median(rs.map((r) => r.sendLagP99)) } : {}),
    cpuMicrosPerAlert: median(rs.map((r) => r.cpuMicrosPerAlert)),
    runs: rs,
  }));
  return { rate, alertsPerPayload: PER_PAYLOAD, seconds, runs, load, resolutionMs: load === 'paced' ? 0.1 : 1, results };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { runs: { type: 'string', default: '3' }, seconds: { type: 'string', default: '10' }, rate: { type: 'string', default: '2000' }, baseline: { type: 'string' }, load: { type: 'string', default: 'paced' } },
  });
  console.log(JSON.stringify(await benchLatency({ runs: Number(values.runs), seconds: Number(values.seconds), rate: Number(values.rate), baseline: values.baseline, load: values.load }), null, 2));
}
