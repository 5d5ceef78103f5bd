// Ingest: alerts/s durably accepted by faultdesk's Alertmanager webhook, side by side
// with a real Alertmanager ingesting the same alerts through POST /api/v2/alerts.
// With --baseline DIR, another checkout's build (DIR/dist) runs beside it on the same stream, one run.
// With --store sqlite,postgres,mariadb: faultdesk alone on each store in turn, the same stream (no Alertmanager).
// Usage: npm run build && node bench/ingest.mjs [--sizes 1,10,100] [--runs 3] [--seconds 10] [--connections 16] [--keys 5000] [--baseline DIR] [--store KINDS]
import { parseArgs } from 'node:util';
import { startDaemon, waitOutboxEmpty } from './lib/daemon.mjs';
import { startAlertmanager } from './lib/alertmanager.mjs';
import { bodies } from './lib/payloads.mjs';
import { postLoad, warmUp } from './lib/load.mjs';
import { median, round } from './lib/stats.mjs';
import { STORES, storeVersion } from './lib/stores.mjs';

export async function benchIngest({ sizes = [1, 10, 100], runs = 3, seconds = 10, connections = 16, keys = 5000, baseline, log = console.error } = {}) {
  const results = [];
  for (const size of sizes) {
    // Enough distinct bodies that every key is sent, in payloads of `size`.
    const count = Math.max(50, Math.ceil(keys / size));
    const webhook = bodies(count, size, keys, 'webhook');
    const api = bodies(count, size, keys, 'alertmanager-api');
    const faultdesk = await startDaemon({ port: 19595 });
    const before = baseline ? await startDaemon({ port: 19596, root: baseline }) : undefined;
    const alertmanager = await startAlertmanager({ port: 19593 });
    const targets = {
      faultdesk: { url: `${faultdesk.base}/api/v1/alerts/alertmanager`, bodies: webhook },
      ...(before ? { baseline: { url: `${before.base}/api/v1/alerts/alertmanager`, bodies: webhook } } : {}),
      alertmanager: { url: `${alertmanager.base}/api/v2/alerts`, bodies: api },
    };
    const names = Object.keys(targets);
    const measured = Object.fromEntries(names.map((n) => [n, []]));
    try {
      // Warm-up: every key once (faultdesk opens its 5,000 faults and creates their tickets), then JIT and caches.
      for (const t of Object.values(targets)) await warmUp({ ...t, connections });
      await waitOutboxEmpty(faultdesk.base);
      if (before) await waitOutboxEmpty(before.base);
      for (let run = 0; run < runs; run++) {
        // Interleaved, each run in another order, so that a noisy neighbour hurts all alike.
        for (const name of names.map((_, i) => names[(i + run) % names.length])) {
          const r = await postLoad({ ...targets[name], connections, seconds });
          if (r.non2xx || r.errors) throw new Error(`${name}: ${r.non2xx} non-2xx answers and ${r.errors} errors at ${size} alerts a payload`);
          measured[name].push({ alertsPerSecond: r.requestsPerSecond * size, p50Ms: r.latencyMs.p50, p99Ms: r.latencyMs.p99 });
          log(`ingest ${size} alerts/payload, run ${run + 1}: ${name} ${Math.round(r.requestsPerSecond * size)} alerts/s, p99 ${r.latencyMs.p99} ms`);
        }
      }
    } finally {
      await faultdesk.stop();
      await before?.stop();
      await alertmanager.stop();
    }
    const base = before ? median(measured.baseline.map((m) => m.alertsPerSecond)) : undefined;
    const fd = median(measured.faultdesk.map((m) => m.alertsPerSecond));
    const am = median(measured.alertmanager.map((m) => m.alertsPerSecond));
    results.push({
      alertsPerPayload: size,
      faultdeskAlertsPerSecond: Math.round(fd),
      alertmanagerAlertsPerSecond: Math.round(am),
      ratio: round(fd / am, 2),
      ...(base !== undefined ? { baselineAlertsPerSecond: Math.round(base), ratioToBaseline: round(fd / base, 2), baselineP99Ms: median(measured.baseline.map((m) => m.p99Ms)) } : {}),
      faultdeskP99Ms: median(measured.faultdesk.map((m) => m.p99Ms)),
      alertmanagerP99Ms: median(measured.alertmanager.map((m) => m.p99Ms)),
      runs: measured,
    });
  }
  return { connections, seconds, runs, keys, results };
}

/**
 * faultdesk's ingest on each store in turn, the same stream (the same bodies in the same order),
 * each store fresh and warmed up as in benchIngest. One run of `seconds` per store unless `runs`.
 */
export async function benchStores({ stores = STORES, size = 10, runs = 1, seconds = 10, connections = 16, keys = 5000, log = console.error } = {}) {
  const count = Math.max(50, Math.ceil(keys / size));
  const webhook = bodies(count, size, keys, 'webhook');
  const results = [];
  for (const store of stores) {
    const faultdesk = await startDaemon({ port: 19597, store });
    const measured = [];
    try {
      const target = { url: `${faultdesk.base}/api/v1/alerts/alertmanager`, bodies: webhook };
      await warmUp({ ...target, connections });
      await waitOutboxEmpty(faultdesk.base);
      for (let run = 0; run < runs; run++) {
        const r = await postLoad({ ...target, connections, seconds });
        if (r.non2xx || r.errors) throw new Error(`${store}: ${r.non2xx} non-2xx answers and ${r.errors} errors`);
        measured.push({ alertsPerSecond: r.requestsPerSecond * size, p50Ms: r.latencyMs.p50, p99Ms: r.latencyMs.p99 });
        log(`ingest on ${store}, ${size} alerts/payload, run ${run + 1}: ${Math.round(r.requestsPerSecond * size)} alerts/s, p99 ${r.latencyMs.p99} ms`);
      }
    } finally {
      await faultdesk.stop();
    }
    results.push({
      store,
      version: await storeVersion(store),
      alertsPerSecond: Math.round(median(measured.map((m) => m.alertsPerSecond))),
      p50Ms: median(measured.map((m) => m.p50Ms)),
      p99Ms: median(measured.map((m) => m.p99Ms)),
      runs: measured,
    });
  }
  return { alertsPerPayload: size, connections, seconds, runs, keys, results };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string' },
      runs: { type: 'string', default: '3' },
      seconds: { type: 'string', default: '10' },
      connections: { type: 'string', default: '16' },
      keys: { type: 'string', default: '5000' },
      store: { type: 'string' },
      baseline: { type: 'string' },
    },
  });
  if (values.store) {
    const out = await benchStores({
      stores: values.store.split(','),
      size: Number((values.sizes ?? '10').split(',')[0]),
      runs: Number(values.runs),
      seconds: Number(values.seconds),
      connections: Number(values.connections),
      keys: Number(values.keys),
    });
    console.log(JSON.stringify(out, null, 2));
    process.exit(0);
  }
  const out = await benchIngest({
    sizes: (values.sizes ?? '1,10,100').split(',').map(Number),
    runs: Number(values.runs),
    seconds: Number(values.seconds),
    connections: Number(values.connections),
    keys: Number(values.keys),
    baseline: values.baseline,
  });
  console.log(JSON.stringify(out, null, 2));
}
