import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { Daemon } from '../src/main';
import { REPO, startTestDaemon, tempDir, testConfig } from './helpers';
import { aggregationAround, promtoolOrSkip, runPromtool, STORE_GAUGES } from './prometheus-tools';

const dashboard = JSON.parse(readFileSync(path.join(REPO, 'dashboards/faultdesk.json'), 'utf8'));

let daemon: Daemon;
let cleanup: () => void;
beforeAll(async () => {
  const tmp = tempDir();
  cleanup = tmp.cleanup;
  daemon = await startTestDaemon(testConfig(tmp.dir));
});
afterAll(async () => {
  await daemon.stop();
  cleanup();
});

function expressions(): string[] {
  const panelExprs = dashboard.panels.flatMap((p: { targets?: Array<{ expr: string }> }) => (p.targets ?? []).map((t) => t.expr));
  const varQueries = dashboard.templating.list.filter((v: { type: string }) => v.type === 'query').map((v: { query: string }) => v.query);
  return [...panelExprs, ...varQueries];
}

test('every metric the dashboard names is exported by a running daemon', async () => {
  const text = await fetch(`${daemon.url}/metrics`).then((r) => r.text());
  const families = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) families.set(m[1]!, m[2]!);
  const named = new Set(expressions().flatMap((e) => [...e.matchAll(/faultdesk_[a-z0-9_]+/g)].map((m) => m[0])));
  expect(named.size).toBeGreaterThan(15);
  for (const name of named) {
    const base = name.replace(/_(bucket|sum|count)$/, '');
    const family = families.has(name) ? name : base;
    expect({ name, exported: families.has(family) }).toEqual({ name, exported: true });
    if (family !== name) expect(families.get(family)).toBe('histogram');
  }
});

test('no metric carries a label Prometheus sets on every scraped series (job, instance)', () => {
  // A target's own `job` label would be renamed to exported_job on scrape and shadowed by the scrape job in every query.
  const reserved = ['job', 'instance'];
  const metrics = daemon.metrics.registry.getMetricsAsArray() as unknown as Array<{ name: string; labelNames?: readonly string[] }>;
  expect(metrics.map((m) => m.name)).toContain('faultdesk_job_duration_seconds');
  for (const m of metrics) {
    expect({ name: m.name, reserved: (m.labelNames ?? []).filter((l) => reserved.includes(l)) }).toEqual({ name: m.name, reserved: [] });
  }
  // The dashboard reads the job's name from the renamed label.
  const jobPanel = expressions().find((e) => e.includes('faultdesk_job_duration_seconds_bucket'));
  expect(jobPanel).toMatch(/by \(le, name\)/);
});

test('gauges read from the shared store are taken once per job (max), never summed over replicas', () => {
  for (const gauge of STORE_GAUGES) {
    const uses = expressions().filter((e) => e.includes(`${gauge}{`));
    expect({ gauge, used: uses.length > 0 }).toEqual({ gauge, used: true });
    for (const expr of uses) {
      const inner = aggregationAround(expr, gauge);
      expect({ expr, aggregation: inner?.op }).toEqual({ expr, aggregation: 'max' });
      // Summed further (over deployments) only after the replicas of each job were collapsed.
      if (/\bsum\b/.test(expr)) expect({ expr, grouping: inner!.by }).toEqual({ expr, grouping: expect.arrayContaining(['job']) });
    }
  }
});

describe('evaluated by Prometheus (promtool)', () => {
  const { promtool, withPromtool } = promtoolOrSkip();

  withPromtool('two replicas of one deployment and one of another: each panel shows every deployment once', () => {
    // Deployment "faultdesk" runs fd-1 and fd-2 on one database; "faultdesk-eu" one replica on its own.
    const replicas = [
      { job: 'faultdesk', instance: 'fd-1:9095', v: { open: 3, atRisk: 1, depth: 4, parked: 2, age: 120, css: 8 } },
      { job: 'faultdesk', instance: 'fd-2:9095', v: { open: 3, atRisk: 1, depth: 4, parked: 2, age: 120, css: 8 } },
      { job: 'faultdesk-eu', instance: 'eu-1:9095', v: { open: 2, atRisk: 1, depth: 1, parked: 0, age: 60, css: 6 } },
    ];
    const series = replicas.flatMap(({ job, instance, v }) => {
      const at = `job="${job}", instance="${instance}"`;
      return [
        [`faultdesk_faults{${at}, category="disk", state="open"}`, v.open],
        [`faultdesk_faults{${at}, category="disk", state="resolved"}`, 7],
        [`faultdesk_faults_at_risk{${at}}`, v.atRisk],
        [`faultdesk_outbox_depth{${at}, system="zendesk"}`, v.depth],
        [`faultdesk_outbox_parked{${at}, system="zendesk"}`, v.parked],
        [`faultdesk_outbox_oldest_age_seconds{${at}, system="zendesk"}`, v.age],
        [`faultdesk_satisfaction_score{${at}, category=""}`, v.css],
      ].map(([name, value]) => ({ series: String(name), values: `${value}x5` }));
    });
    // What each panel must show, all its series added up: counts summed over deployments, ages and scores their maximum.
    const expected: Record<(typeof STORE_GAUGES)[number], number> = {
      faultdesk_faults: 5,
      faultdesk_faults_at_risk: 2,
      faultdesk_outbox_depth: 5,
      faultdesk_outbox_parked: 2,
      faultdesk_outbox_oldest_age_seconds: 120,
      faultdesk_satisfaction_score: 8,
    };
    const cases = expressions().flatMap((expr) => {
      const gauges = STORE_GAUGES.filter((g) => expr.includes(`${g}{`));
      if (gauges.length !== 1) return [];
      const all = expr.replaceAll('$job', '.+').replaceAll('$instance', '.+');
      return [{ expr: `sum(${all})`, eval_time: '2m', exp_samples: [{ labels: '{}', value: expected[gauges[0]!] }] }];
    });
    expect(cases.length).toBeGreaterThanOrEqual(STORE_GAUGES.length);
    const tmp = tempDir();
    try {
      const file = path.join(tmp.dir, 'dashboard.test.yaml');
      writeFileSync(file, stringifyYaml({ rule_files: [], tests: [{ interval: '1m', input_series: series, promql_expr_test: cases }] }));
      const result = runPromtool(promtool!, ['test', 'rules', file]);
      expect({ code: result.code, output: result.output }).toEqual({ code: 0, output: expect.stringContaining('SUCCESS') });
    } finally {
      tmp.cleanup();
    }
  });
});

test('importable by hand and by file provisioning', () => {
  expect(dashboard).toMatchObject({ uid: 'faultdesk', title: 'faultdesk', schemaVersion: expect.any(Number), time: { from: 'now-6h' } });
  expect(dashboard.__inputs).toEqual([expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' })]);
  expect(dashboard.templating.list.map((v: { name: string; type: string }) => [v.name, v.type])).toEqual([
    ['DS_PROMETHEUS', 'datasource'],
    ['job', 'query'],
    ['instance', 'query'],
  ]);
  for (const p of dashboard.panels) {
    expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
    if (p.type !== 'row') expect(p.datasource).toEqual({ type: 'prometheus', uid: '${DS_PROMETHEUS}' });
  }
  const ids = dashboard.panels.map((p: { id: number }) => p.id);
  expect(new Set(ids).size).toBe(ids.length);
  const provisioning = parseYaml(readFileSync(path.join(REPO, 'dashboards/provisioning.yaml'), 'utf8'));
  expect(provisioning).toMatchObject({ apiVersion: 1, providers: [expect.objectContaining({ type: 'file', options: expect.objectContaining({ path: expect.any(String) }) })] });
  // The committed file is what the generator writes.
  const generated = execFileSync(process.execPath, [path.join(REPO, 'dashboards/build-dashboard.mjs'), '--stdout']).toString();
  expect(generated).toBe(readFileSync(path.join(REPO, 'dashboards/faultdesk.json'), 'utf8'));
});
