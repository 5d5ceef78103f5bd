import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Daemon } from '../src/main';
import { REPO, startTestDaemon, tempDir, testConfig } from './helpers';

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

/**
 * Gauges every replica reads from the one shared store when scraped: two
 * replicas report the same faults twice, so a panel takes them once per job.
 */
const STORE_GAUGES = ['faultdesk_faults', 'faultdesk_faults_at_risk', 'faultdesk_outbox_depth', 'faultdesk_outbox_parked', 'faultdesk_outbox_oldest_age_seconds', 'faultdesk_satisfaction_score'];

test('gauges read from the shared store are taken once per job (max), never summed over replicas', () => {
  for (const gauge of STORE_GAUGES) {
    const uses = expressions().filter((e) => new RegExp(`${gauge}\\{`).test(e));
    expect(uses.length).toBeGreaterThan(0);
    for (const expr of uses) {
      // The aggregation right around the selector, e.g. `max by (job, system) (faultdesk_outbox_depth{…})`.
      const inner = new RegExp(`(\\w+) by \\(([^)]*)\\) \\(${gauge}\\{[^}]*\\}\\)`).exec(expr);
      expect({ expr, aggregation: inner?.[1] }).toEqual({ expr, aggregation: 'max' });
      // Summed further (over deployments) only after the replicas of each job were collapsed.
      if (/\bsum\b/.test(expr)) expect({ expr, grouping: inner![2]!.split(/,\s*/) }).toEqual({ expr, grouping: expect.arrayContaining(['job']) });
    }
  }
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
