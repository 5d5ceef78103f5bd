import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ManualClock } from '../clock';
import { durationMs, parseYamlSource, issueProblems, SourceError, type Config } from '../config';
import { explainAlerts, FaultService } from '../faults';
import { silentLogger } from '../log';
import { createMetrics } from '../metrics';
import { compileRuleSources, listRuleFiles, RuleEngine, type RuleContext } from '../rules';
import { createSources, labelsFingerprint, type Alert, type SourceName } from '../sources';
import { openStore, type Store } from '../store';

const labels = z.record(z.string(), z.string());
const normalizedAlert = z.strictObject({
  labels,
  annotations: labels.optional(),
  status: z.enum(['firing', 'resolved']).default('firing'),
  id: z.string().optional(),
  starts_at: z.iso.datetime({ offset: true }).optional(),
});
/** Alerts of a test: normalized ones, or a payload of any source. */
const input = {
  alerts: z.array(normalizedAlert).optional(),
  source: z.enum(['alertmanager', 'zabbix', 'nagios', 'generic']).optional(),
  payload: z.unknown().optional(),
};
const expectation = z.strictObject({
  category: z.string().optional(),
  fault_key: z.string().optional(),
  fs: z.number().optional(),
  priority: z.string().optional(),
  repair_time_hours: z.number().optional(),
  subject: z.string().optional(),
  action: z.enum(['ticket', 'drop']).optional(),
});
const step = z.strictObject({ after: durationMs.optional(), ...input, expect: z.array(z.string()) });
const testCase = z.strictObject({
  name: z.string().min(1),
  ...input,
  expect: z.array(expectation).optional(),
  sequence: z.array(step).optional(),
});
const testFile = z.strictObject({
  /** Rule files or folders, relative to the test file; default: the rule files beside it. */
  rules: z.array(z.string()).optional(),
  tests: z.array(testCase).min(1),
});

export interface TestResult {
  file: string;
  name: string;
  ok: boolean;
  /** What differed, one line each. */
  diff: string[];
}

const T0 = Date.parse('2026-01-01T00:00:00Z');

/** Runs the rule unit tests of one file. Broken test or rule files throw SourceError. */
export async function runRuleTests(file: string, baseConfig: Config, ruleContext: (c: Config) => RuleContext): Promise<TestResult[]> {
  const source = parseYamlSource(file, readFileSync(file, 'utf8'));
  const parsed = testFile.safeParse(source.value);
  if (!parsed.success) throw new SourceError(parsed.error.issues.flatMap((i) => issueProblems(i, source)));
  const dir = path.dirname(file);
  const rulePaths = parsed.data.rules ? parsed.data.rules.map((r) => path.resolve(dir, r)) : [dir];
  const ruleFiles = rulePaths.flatMap((p) => listRuleFiles(p));
  const context = ruleContext(baseConfig);
  const engine = new RuleEngine(compileRuleSources(ruleFiles.map((f) => ({ file: f, text: readFileSync(f, 'utf8') })), context));
  const sources = createSources();
  const results: TestResult[] = [];

  const alertsOf = (t: { alerts?: z.infer<typeof normalizedAlert>[]; source?: SourceName; payload?: unknown }, now: number, where: string): Alert[] => {
    if (t.payload !== undefined) {
      const parsedPayload = sources[t.source ?? 'alertmanager'].parse(t.payload, now);
      if (!parsedPayload.ok) throw new Error(`${where}: invalid ${t.source ?? 'alertmanager'} payload: ${parsedPayload.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
      return parsedPayload.alerts;
    }
    return (t.alerts ?? []).map((a) => ({
      source: 'generic',
      sourceId: a.id ?? labelsFingerprint(a.labels),
      status: a.status,
      labels: a.labels,
      annotations: a.annotations ?? {},
      startsAt: a.starts_at ? Date.parse(a.starts_at) : now,
      endsAt: a.status === 'resolved' ? now : undefined,
      receivedAt: now,
    }));
  };

  // Each expectation is what explain says of that alert alone, on an empty store: the dry run of ingest.
  const scratch = await openStore({ url: 'sqlite::memory:' });
  try {
    for (const t of parsed.data.tests) {
      const diff: string[] = [];
      try {
        if (t.expect) diff.push(...(await checkExpectations(alertsOf(t, T0, t.name), t.expect, engine, scratch)));
        if (t.sequence) diff.push(...(await runSequence(t.sequence, engine, alertsOf)));
      } catch (err) {
        diff.push((err as Error).message);
      }
      results.push({ file, name: t.name, ok: diff.length === 0, diff });
    }
  } finally {
    await scratch.close();
  }
  return results;
}

async function checkExpectations(alerts: Alert[], expected: z.infer<typeof expectation>[], engine: RuleEngine, store: Store): Promise<string[]> {
  const diff: string[] = [];
  if (alerts.length !== expected.length) diff.push(`${alerts.length} alerts but ${expected.length} expectations`);
  for (const [i, alert] of alerts.entries()) {
    const want = expected[i];
    if (!want) continue;
    const [e] = await explainAlerts([alert], engine, store, T0);
    if (!e) continue;
    const got = {
      category: e.category,
      fault_key: e.key,
      fs: e.fs,
      priority: e.priority,
      repair_time_hours: e.repairTimeHours,
      action: e.action,
      subject: e.subject,
    };
    for (const [field, value] of Object.entries(want)) {
      const actual = got[field as keyof typeof got];
      const same = field === 'repair_time_hours' ? Math.abs((actual as number) - (value as number)) < 0.005 : actual === value;
      if (!same) diff.push(`alert ${i + 1} ${field}:\n      expected ${JSON.stringify(value)}\n      got      ${JSON.stringify(field === 'repair_time_hours' ? Math.round((actual as number) * 1000) / 1000 : actual)}`);
    }
  }
  return diff;
}

async function runSequence(
  steps: z.infer<typeof step>[],
  engine: RuleEngine,
  alertsOf: (t: z.infer<typeof step>, now: number, where: string) => Alert[],
): Promise<string[]> {
  const store = await openStore({ url: 'sqlite::memory:' });
  try {
    const clock = new ManualClock(T0);
    const faults = new FaultService({ store, rules: () => engine, clock, logger: silentLogger(), metrics: createMetrics() });
    const diff: string[] = [];
    for (const [i, s] of steps.entries()) {
      clock.advance(s.after ?? 0);
      const alerts = alertsOf(s, clock.now(), `step ${i + 1}`);
      const byAlert = await faults.ingest(alerts[0]?.source ?? 'generic', alerts);
      const got = byAlert.transitions.map((t) => t.transition);
      if (JSON.stringify(got) !== JSON.stringify(s.expect)) {
        diff.push(`step ${i + 1} transitions:\n      expected ${JSON.stringify(s.expect)}\n      got      ${JSON.stringify(got)}`);
      }
    }
    return diff;
  } finally {
    await store.close();
  }
}

/** The report people read: one line per test, the differences under each failure, and a count. */
export function formatResults(results: readonly TestResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    lines.push(`${r.ok ? 'ok  ' : 'FAIL'} ${r.file}: ${r.name}`);
    for (const d of r.diff) lines.push(`    ${d}`);
  }
  const failed = results.filter((r) => !r.ok).length;
  lines.push(`${results.length - failed} rule tests passed, ${failed} failed`);
  return lines.join('\n') + '\n';
}
