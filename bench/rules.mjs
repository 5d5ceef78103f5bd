// Rule matching: alerts/s classified at 10, 100, 1,000 and 10,000 categories,
// by faultdesk's indexed engine and, for comparison, by a plain first-match scan.
// Usage: npm run build && node bench/rules.mjs [--alerts 20000] [--runs 5]
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import { median } from './lib/stats.mjs';

const require = createRequire(import.meta.url);
const { compileRuleSources, RuleEngine } = require('../dist/rules/index.js');
const { sampleTicketContext } = require('../dist/faults/index.js');

const context = {
  defaultSystem: 'local',
  systems: ['local'],
  systemFields: {},
  updateIntervalMs: 300000,
  reopenWithinMs: 3600000,
  flapping: { changes: 6, windowMs: 3600000, quietMs: 1800000 },
  sampleContext: sampleTicketContext,
};

/** N categories like real rule files: mostly an alertname and a regex on severity, some regex-only ones. */
function rules(n) {
  const lines = ['categories:'];
  for (let i = 0; i < n; i++) {
    if (i % 50 === 49) lines.push(`  - name: c${i}`, `    match: ['service=~"svc-${i}-.*"', 'severity!="info"']`);
    else lines.push(`  - name: c${i}`, `    match: ['alertname="Alert${i}"', 'severity=~"critical|warning"', 'env!="test"']`, '    fault_key: [instance]');
  }
  return compileRuleSources([{ file: `bench-${n}.yaml`, text: lines.join('\n') }], context);
}

function alerts(n, count) {
  const out = [];
  for (let i = 0; i < count; i++) {
    const k = (i * 7919) % (n + n / 10); // some alerts match nothing
    out.push({ labels: { alertname: `Alert${Math.floor(k)}`, severity: i % 3 ? 'critical' : 'warning', instance: `h${i % 500}`, env: 'prod', service: `svc-${k}-x` } });
  }
  return out;
}

function measure(fn, list, runCount) {
  const runs = [];
  for (let r = 0; r < runCount; r++) {
    const t = process.hrtime.bigint();
    for (const a of list) fn(a);
    runs.push(list.length / (Number(process.hrtime.bigint() - t) / 1e9));
  }
  return Math.round(median(runs));
}

export function benchRules({ alertCount = 20000, runs = 5 } = {}) {
  const results = [];
  for (const n of [10, 100, 1000, 10000]) {
    const loaded = rules(n);
    const engine = new RuleEngine(loaded);
    const list = alerts(n, alertCount);
    const scan = (a) => loaded.categories.find((c) => c.matchers.every((m) => m.matches(a.labels))) ?? loaded.fallback;
    // Same answers, or the comparison means nothing.
    for (const a of list.slice(0, 2000)) if (engine.match(a.labels) !== scan(a)) throw new Error(`engine and scan disagree at ${n} categories`);
    results.push({ categories: n, indexedAlertsPerSecond: measure((a) => engine.classify(a), list, runs), scanAlertsPerSecond: measure(scan, list, runs) });
  }
  return { alerts: alertCount, runs, results };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { alerts: { type: 'string', default: '20000' }, runs: { type: 'string', default: '5' } } });
  console.log(JSON.stringify(benchRules({ alertCount: Number(values.alerts), runs: Number(values.runs) }), null, 2));
}
