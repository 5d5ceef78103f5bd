import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { ruleContext } from '../../src/main';
import { formatResults, runRuleTests } from '../../src/ruletest';
import { REPO, tempDir } from '../helpers';

const config = loadConfig({});

describe('the rule tests shipped in rules/ pass', () => {
  const files = readdirSync(path.join(REPO, 'rules')).filter((f) => f.endsWith('.test.yaml'));
  test('there is one for every rule file but the default', () => {
    expect(files.sort()).toEqual(['10-prometheus.test.yaml', '11-kubernetes.test.yaml', '12-blackbox.test.yaml', '20-zabbix.test.yaml', '30-nagios.test.yaml']);
  });
  test.each(files)('%s', async (file) => {
    const results = await runRuleTests(path.join(REPO, 'rules', file), config, ruleContext);
    expect(formatResults(results)).toMatch(/ 0 failed\n$/);
    expect(results.length).toBeGreaterThan(0);
  });
});

describe('faultdesk test', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
    writeFileSync(
      path.join(dir, 'r.yaml'),
      "categories:\n  - name: web\n    match: ['job=\"web\"']\n    fault_key: [instance]\n    severity: { label: severity, map: { critical: 9 }, default: 4 }\n    reopen_within: 30m\n",
    );
  });
  afterEach(() => cleanup());

  test('a failing suite says what differed, field by field and step by step', async () => {
    writeFileSync(
      path.join(dir, 'r.test.yaml'),
      `rules: [r.yaml]
tests:
  - name: classification
    alerts:
      - labels: { job: web, instance: a, severity: critical }
    expect:
      - { category: web, fault_key: '{instance="a"}', fs: 8, priority: urgent }
  - name: lifecycle
    sequence:
      - alerts: [{ labels: { job: web, instance: a } }]
        expect: [opened]
      - after: 1h
        alerts: [{ labels: { job: web, instance: a }, status: resolved }]
        expect: [resolved]
      - after: 31m
        alerts: [{ labels: { job: web, instance: a } }]
        expect: [reopened]
`,
    );
    const results = await runRuleTests(path.join(dir, 'r.test.yaml'), config, ruleContext);
    expect(results.map((r) => r.ok)).toEqual([false, false]);
    expect(formatResults(results)).toBe(
      [
        `FAIL ${dir}/r.test.yaml: classification`,
        '    alert 1 fs:',
        '      expected 8',
        '      got      9',
        `FAIL ${dir}/r.test.yaml: lifecycle`,
        '    step 3 transitions:',
        '      expected ["reopened"]',
        '      got      ["superseded","opened"]',
        '0 rule tests passed, 2 failed',
        '',
      ].join('\n'),
    );
  });

  test('a broken test file is an error with its position', async () => {
    writeFileSync(path.join(dir, 'bad.test.yaml'), 'tests:\n  - name: x\n    expect: [{ categroy: web }]\n');
    await expect(runRuleTests(path.join(dir, 'bad.test.yaml'), config, ruleContext)).rejects.toThrow(`${dir}/bad.test.yaml:3:16: tests.0.expect.0: unknown key "categroy"`);
  });
});
