// The benchmark suite (npm run bench): ingest side by side with Alertmanager (and on each store), latency at a
// fixed rate, a storm against a fake Zendesk, memory with 100,000 open faults, rule matching.
// Writes bench/results/results.json and bench/results/results.md, and prints the Markdown.
// New faults: a storm of new label sets beside Alertmanager. Retention: latency while the purge deletes
// a backlog of resolved faults, beside the same daemon without one. With --baseline DIR (another checkout,
// built), its daemon runs beside this one in the ingest, latency and new-faults benchmarks.
// Usage: npm run bench [-- --only ingest,latency,newfaults,retention] [-- --quick] [-- --baseline DIR]
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { describeMachine, alertmanagerVersion } from './lib/machine.mjs';
import { alertmanagerBinary } from './lib/alertmanager.mjs';
import { root } from './lib/daemon.mjs';
import { benchIngest, benchStores } from './ingest.mjs';
import { benchLatency } from './latency.mjs';
import { benchStorm } from './storm.mjs';
import { benchMemory } from './memory.mjs';
import { benchRules } from './rules.mjs';
import { benchNewFaults } from './new-faults.mjs';
import { benchRetention } from './retention.mjs';

const { values } = parseArgs({ options: { only: { type: 'string' }, quick: { type: 'boolean', default: false }, baseline: { type: 'string' } } });
const baseline = values.baseline ? path.resolve(values.baseline) : undefined;
const only = values.only ? new Set(values.only.split(',')) : undefined;
const wanted = (name) => !only || only.has(name);
const quick = values.quick;

const machine = describeMachine({ alertmanager: alertmanagerVersion(alertmanagerBinary()) });
const started = new Date();
const results = { date: started.toISOString(), command: `npm run bench${quick || values.only || baseline ? ' --' : ''}${quick ? ' --quick' : ''}${values.only ? ` --only ${values.only}` : ''}${baseline ? ` --baseline ${values.baseline}` : ''}`, machine };
const step = (name) => console.error(`\n== ${name} (${new Date().toISOString()})`);

if (wanted('ingest')) {
  step('ingest');
  results.ingest = await benchIngest({ ...(quick ? { runs: 1, seconds: 5 } : { runs: 3, seconds: 10 }), baseline });
}
if (wanted('stores')) {
  step('stores');
  results.stores = await benchStores({ runs: 1, seconds: quick ? 5 : 10 });
}
if (wanted('latency')) {
  step('latency');
  results.latency = await benchLatency({ ...(quick ? { runs: 1, seconds: 5 } : { runs: 3, seconds: 10 }), baseline });
}
if (wanted('newfaults')) {
  step('new faults');
  results.newFaults = await benchNewFaults({ seconds: quick ? 10 : 60, baseline });
}
if (wanted('retention')) {
  step('retention');
  results.retention = await benchRetention(quick ? { faults: 10_000, runs: 1, seconds: 5 } : { faults: 20_000, runs: 3, seconds: 10 });
}
if (wanted('storm')) {
  step('storm');
  results.storm = await benchStorm();
}
if (wanted('memory')) {
  step('memory');
  results.memory = await benchMemory(quick ? { faults: 20_000 } : {});
}
if (wanted('rules')) {
  step('rules');
  results.rules = benchRules(quick ? { runs: 3 } : { runs: 5 });
}
results.seconds = Math.round((Date.now() - started.getTime()) / 1000);

const n = (x) => (typeof x === 'number' ? x.toLocaleString('en') : String(x));
const TARGET_RATIO = { 10: 1.0, 100: 1.5 };
const md = [
  '# faultdesk benchmarks',
  '',
  `Measured ${results.date.slice(0, 16).replace('T', ' ')} UTC by \`${results.command}\` in ${n(results.seconds)} s, on ${machine.cpu}, ` +
    `${machine.memoryGiB} GiB, ${machine.os}, Node ${machine.node}; ${machine.alertmanager ?? 'Alertmanager not installed'}. ` +
    'Load from autocannon (latency: evenly spaced requests from bench/lib/paced-load.mjs) in the same machine (it takes one of the cores). faultdesk runs from dist/ on SQLite ' +
    '(config/faultdesk.yaml, synchronous=normal) with local tickets; see README, "Performance", for what the figures mean.',
];
if (results.ingest) {
  const i = results.ingest;
  md.push(
    '',
    `## Ingest: alerts/s accepted (medians of ${i.runs} runs of ${i.seconds} s, ${i.connections} connections, ${n(i.keys)} fault keys)`,
    '',
    `| alerts per payload | faultdesk | Alertmanager | ratio | target | faultdesk p99 | Alertmanager p99 |${baseline ? ' baseline | vs baseline | baseline p99 |' : ''}`,
    `|---:|---:|---:|---:|---:|---:|---:|${baseline ? '---:|---:|---:|' : ''}`,
    ...i.results.map(
      (r) =>
        `| ${r.alertsPerPayload} | ${n(r.faultdeskAlertsPerSecond)} | ${n(r.alertmanagerAlertsPerSecond)} | ${r.ratio.toFixed(2)}× | ` +
        `${TARGET_RATIO[r.alertsPerPayload] ? `≥ ${TARGET_RATIO[r.alertsPerPayload].toFixed(1)}×` : '–'} | ${r.faultdeskP99Ms} ms | ${r.alertmanagerP99Ms} ms |` +
        (r.baselineAlertsPerSecond !== undefined ? ` ${n(r.baselineAlertsPerSecond)} | ${r.ratioToBaseline.toFixed(2)}× | ${r.baselineP99Ms} ms |` : ''),
    ),
  );
}
if (results.stores) {
  const s = results.stores;
  const name = { sqlite: 'SQLite', postgres: 'PostgreSQL', mariadb: 'MariaDB' };
  md.push(
    '',
    `By store, the same stream (${s.alertsPerPayload} alerts a payload, ${n(s.keys)} fault keys, ${s.connections} connections, one run of ${s.seconds} s each): ` +
      s.results.map((r) => `${name[r.store] ?? r.store} ${n(r.alertsPerSecond)} alerts/s (p99 ${r.p99Ms} ms)`).join(', ') +
      ` (${s.results.filter((r) => r.store !== 'sqlite').map((r) => r.version).join(', ')}, on the same machine).`,
  );
}
if (results.latency) {
  const l = results.latency;
  md.push(
    '',
    `## Latency at ${n(l.rate)} alerts/s (${l.alertsPerPayload} a payload; medians of ${l.runs} runs of ${l.seconds} s; ${l.load === 'bursts' ? "autocannon's once-a-second bursts, whole milliseconds" : 'requests evenly spaced, latency from when each was due'})`,
    '',
    '| stream | p50 | p90 | p99 | max | p99 from the send | sender late (p99) | CPU an alert |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...l.results.map(
      (r) =>
        `| ${r.stream} | ${r.p50Ms} ms | ${r.p90Ms} ms | ${r.p99Ms} ms | ${r.maxMs} ms | ${r.fromSendP99Ms ?? '–'} ms | ${r.sendLagP99Ms ?? '–'} ms | ${r.cpuMicrosPerAlert ?? '–'} µs |`,
    ),
  );
}
if (results.newFaults) {
  const f = results.newFaults;
  md.push(
    '',
    `## New faults: every alert a new label set (${f.seconds} s, ${f.connections} connections, ${f.alertsPerPayload} a payload, local tickets)`,
    '',
    '| target | alerts/s | per 10 s window | vs Alertmanager | p50 | p99 | CPU an alert | tickets caught up after | bytes a fault |',
    '|---|---:|---|---:|---:|---:|---:|---:|---:|',
    ...f.results.map(
      (r) =>
        `| ${r.target} | ${n(r.alertsPerSecond)} | ${r.windows.map(n).join(', ')} | ${r.ratio !== undefined ? `${r.ratio.toFixed(2)}×` : '–'} | ${r.latencyMs.p50} ms | ${r.latencyMs.p99} ms | ${r.cpuMicrosPerAlert} µs | ` +
        `${r.catchUpSeconds !== undefined ? `${r.catchUpSeconds} s` : '–'} | ${r.bytesPerFault !== undefined ? n(r.bytesPerFault) : '–'} |`,
    ),
  );
}
if (results.retention) {
  const r = results.retention;
  const purges = r.windows.filter((w) => w.mode === 'purge');
  md.push(
    '',
    `## Retention: latency at ${n(r.rate)} alerts/s while the purge deletes ${n(r.faults)} resolved faults (medians of ${r.runs} runs of ${r.seconds} s; whole milliseconds)`,
    '',
    '| stream | store | p50 | p90 | p99 | max | event loop held up to | p99 vs control (per run) | deleted in the window | purge took |',
    '|---|---|---:|---:|---:|---:|---:|---|---:|---:|',
    ...r.results.map(
      (x) =>
        `| ${x.stream} | ${x.mode === 'purge' ? `purge (retention ${r.retention})` : 'control (retention 0)'} | ${x.p50Ms} ms | ${x.p90Ms} ms | ${x.p99Ms} ms | ${x.maxMs} ms | ${x.eventLoopMaxMs} ms | ` +
        (x.mode === 'purge'
          ? `${x.p99Ratio.toFixed(2)}× (${x.p99RatioPerRun.map((v) => `${v.toFixed(2)}×`).join(', ')}) | ${n(x.deletedInWindow)} | ` +
            `${x.purgeSeconds === null ? 'over 5 min' : `${x.purgeSeconds} s`} (${x.purgesDoneInWindow} of ${r.runs} within the window) |`
          : '– | 0 | – |'),
    ),
    '',
    `The store (SQLite, a copy of one seed for each window: the streams' ${n(r.openFaults)} open faults and the ${n(r.faults)} resolved ones, aged ${r.agedDays} days) ` +
      `was ${r.storeMiB.before.toFixed(1)} MiB before a purge, ${r.storeMiB.afterPurge.toFixed(1)} MiB after it (medians of ${purges.length} purges).`,
  );
}
if (results.storm) {
  const s = results.storm;
  md.push(
    '',
    `## Storm: ${n(s.alerts)} alerts over ${n(s.faults)} faults, fake Zendesk, update interval ${s.updateIntervalMs} ms`,
    '',
    `${n(s.alerts - s.faults * 2)} alerts after the faults opened, at ${n(s.alertsPerSecond)} alerts/s; every ticket call delivered ${s.secondsUntilDelivered} s after the storm began. ` +
      `Tickets created: ${n(s.ticketsCreated)}, faults with exactly one create: ${n(s.faultsWithExactlyOneCreate)}; ` +
      `most updates of one fault in one interval: ${s.maxUpdatesPerFaultPerInterval} (ticket writes of any kind: ${s.maxTicketWritesPerFaultPerInterval}).`,
    '',
    '| ticket API call | total | per fault, median | per fault, max |',
    '|---|---:|---:|---:|',
    ...Object.entries(s.callsByKind).map(([kind, c]) => `| ${kind} | ${n(c.total)} | ${c.perFaultMedian} | ${c.perFaultMax} |`),
  );
}
if (results.memory) {
  const m = results.memory;
  md.push(
    '',
    `## Memory: RSS with ${n(m.openFaults)} open faults`,
    '',
    '| idle | after opening | after tickets created | after every alert once more | peak |',
    '|---:|---:|---:|---:|---:|',
    `| ${m.rssMiB.idle} MiB | ${m.rssMiB.afterOpening} MiB | ${m.rssMiB.afterTickets} MiB | ${m.rssMiB.afterRepeats} MiB | ${m.rssMiB.peak} MiB |`,
    '',
    `Opening them took ${m.secondsToOpen} s (one alert each, 100 a payload).`,
  );
}
if (results.rules) {
  const r = results.rules;
  md.push(
    '',
    `## Rule matching: alerts/s (medians of ${r.runs} runs over ${n(r.alerts)} alerts)`,
    '',
    '| categories | indexed engine | first-match scan |',
    '|---:|---:|---:|',
    ...r.results.map((x) => `| ${n(x.categories)} | ${n(x.indexedAlertsPerSecond)} | ${n(x.scanAlertsPerSecond)} |`),
  );
}
const dir = path.join(root, 'bench/results');
mkdirSync(dir, { recursive: true });
writeFileSync(path.join(dir, 'results.json'), JSON.stringify(results, null, 2) + '\n');
writeFileSync(path.join(dir, 'results.md'), md.join('\n') + '\n');
console.log(md.join('\n'));
console.error(`\nwritten: bench/results/results.json, bench/results/results.md`);
