import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { REPO, startTestDaemon, tempDir, testConfig } from './helpers';
import { aggregationAround, promtoolOrSkip, runPromtool, STORE_GAUGES } from './prometheus-tools';

const DIR = path.join(REPO, 'config/prometheus');
const RULES_FILE = path.join(DIR, 'faultdesk-alerts.yaml');
const TESTS_FILE = path.join(DIR, 'faultdesk-alerts.test.yaml');

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleTest {
  name: string;
  alert_rule_test?: Array<{ alertname: string; eval_time: string; exp_alerts: unknown[] }>;
}

const rules: AlertRule[] = parseYaml(readFileSync(RULES_FILE, 'utf8')).groups.flatMap((g: { rules: AlertRule[] }) => g.rules);
const unitTests: RuleTest[] = parseYaml(readFileSync(TESTS_FILE, 'utf8')).tests;
/** The problems the issue asks the rules to catch, by the alert that catches each. */
const REQUIRED = ['FaultdeskOutboxStuck', 'FaultdeskOperationsParked', 'FaultdeskConfigReloadFailed', 'FaultdeskPayloadsRejected', 'FaultdeskStoreErrors'];

const { promtool, withPromtool } = promtoolOrSkip();

withPromtool('promtool accepts the rules', () => {
  const result = runPromtool(promtool!, ['check', 'rules', RULES_FILE]);
  expect({ code: result.code, output: result.output }).toEqual({ code: 0, output: expect.stringContaining(`SUCCESS: ${rules.length} rules found`) });
});

withPromtool("the rules' unit tests pass (promtool test rules)", () => {
  const result = runPromtool(promtool!, ['test', 'rules', path.basename(TESTS_FILE)], DIR);
  expect({ code: result.code, output: result.output }).toEqual({ code: 0, output: expect.stringContaining('SUCCESS') });
});

withPromtool('a broken rule makes the unit tests fail (they are not vacuous)', () => {
  // The outbox alert summing the replicas' shared gauge, as the old dashboard did: it would fire too early.
  const tmp = tempDir();
  try {
    const broken = readFileSync(RULES_FILE, 'utf8').replaceAll('max by (job, system) (faultdesk_outbox_oldest_age_seconds)', 'sum by (job, system) (faultdesk_outbox_oldest_age_seconds)');
    writeFileSync(path.join(tmp.dir, 'faultdesk-alerts.yaml'), broken);
    copyFileSync(TESTS_FILE, path.join(tmp.dir, 'faultdesk-alerts.test.yaml'));
    const result = runPromtool(promtool!, ['test', 'rules', 'faultdesk-alerts.test.yaml'], tmp.dir);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('FaultdeskOutboxStuck');
  } finally {
    tmp.cleanup();
  }
});

test('every alert an operator needs is there, with a severity, a for: duration, a summary, a description and a runbook hint', () => {
  expect([...new Set(rules.map((r) => r.alert))]).toEqual(expect.arrayContaining(REQUIRED));
  for (const rule of rules) {
    expect({ alert: rule.alert, severity: rule.labels?.severity }).toEqual({ alert: rule.alert, severity: expect.stringMatching(/^(warning|critical)$/) });
    // Long enough that a blip does not page anyone.
    expect({ alert: rule.alert, for: rule.for }).toEqual({ alert: rule.alert, for: expect.stringMatching(/^([5-9]|[1-5][0-9])m$/) });
    for (const key of ['summary', 'description', 'runbook']) {
      expect({ alert: rule.alert, key, text: (rule.annotations?.[key] ?? '').length > 20 }).toEqual({ alert: rule.alert, key, text: true });
    }
  }
});

test('each alert has unit tests that see it fire and see it stay quiet', () => {
  for (const alert of new Set(rules.map((r) => r.alert))) {
    const evals = unitTests.flatMap((t) => t.alert_rule_test ?? []).filter((e) => e.alertname === alert);
    expect({ alert, fires: evals.some((e) => e.exp_alerts.length > 0), quiet: evals.some((e) => e.exp_alerts.length === 0) }).toEqual({ alert, fires: true, quiet: true });
  }
});

test('gauges read from the shared store are taken once per job (max), never summed over replicas', () => {
  for (const rule of rules) {
    for (const gauge of STORE_GAUGES.filter((g) => new RegExp(`\\b${g}\\b`).test(rule.expr))) {
      expect({ alert: rule.alert, gauge, aggregation: aggregationAround(rule.expr, gauge) }).toEqual({
        alert: rule.alert,
        gauge,
        aggregation: { op: 'max', by: expect.arrayContaining(['job']) },
      });
    }
  }
});

test('every faultdesk metric the rules use is exported by a running daemon', async () => {
  const tmp = tempDir();
  const daemon = await startTestDaemon(testConfig(tmp.dir));
  try {
    const text = await fetch(`${daemon.url}/metrics`).then((r) => r.text());
    const exported = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    const used = new Set(rules.flatMap((r) => [...r.expr.matchAll(/faultdesk_[a-z0-9_]+/g)].map((m) => m[0])));
    expect(used.size).toBeGreaterThanOrEqual(5);
    for (const name of used) expect({ name, exported: exported.has(name) }).toEqual({ name, exported: true });
  } finally {
    await daemon.stop();
    tmp.cleanup();
  }
});
