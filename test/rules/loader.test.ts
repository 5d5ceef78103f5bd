import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { SourceError } from '../../src/config';
import { sampleTicketContext } from '../../src/faults';
import { compileRuleSources, loadRules, RuleEngine, priorityOf, type RuleContext } from '../../src/rules';
import { REPO, tempDir } from '../helpers';

const context: RuleContext = {
  defaultSystem: 'local',
  systems: ['local'],
  systemFields: {},
  updateIntervalMs: 300_000,
  reopenWithinMs: 3_600_000,
  flapping: { changes: 6, windowMs: 3_600_000, quietMs: 1_800_000 },
  sampleContext: sampleTicketContext,
};

function problems(text: string, file = 'rules/bad.yaml'): string[] {
  try {
    compileRuleSources([{ file, text }], context);
  } catch (err) {
    if (err instanceof SourceError) return err.message.split('\n');
    throw err;
  }
  throw new Error('expected the rules to be rejected');
}

function engine(text: string) {
  return new RuleEngine(compileRuleSources([{ file: 'r.yaml', text }], context));
}

describe('rule loader errors name file:line:column and the reason', () => {
  test('YAML syntax error', () => {
    expect(problems('categories:\n  - name: a\n    match: [alertname="x"\n')).toEqual([
      expect.stringMatching(/^rules\/bad\.yaml:\d+:\d+: /),
    ]);
  });

  test('unknown key, at the key', () => {
    expect(problems('categories:\n  - name: a\n    matchers: []\n')).toEqual([
      'rules/bad.yaml:3:5: categories.0: unknown key "matchers"',
    ]);
  });

  test('bad matcher, at the matcher', () => {
    expect(problems('categories:\n  - name: a\n    match:\n      - alertname="x"\n      - severity=~"(oops"\n')).toEqual([
      expect.stringMatching(/^rules\/bad\.yaml:5:9: invalid regular expression "\(oops"/),
    ]);
  });

  test('template that does not compile, at the template', () => {
    const [line] = problems('categories:\n  - name: a\n    ticket:\n      subject: "{{#if x}}no end"\n');
    expect(line).toBe('rules/bad.yaml:4:17: template does not compile: "{{#if …}}" is not closed: add "{{/if}}"');
  });

  test('a template that would fail at the first alert is a load error: unknown helper, unknown top-level name', () => {
    expect(problems('categories:\n  - name: a\n    ticket:\n      subject: "{{lower priority}} {{priorty}}"\n')).toEqual([
      expect.stringMatching(/^rules\/bad\.yaml:4:17: template does not compile: unknown helper "lower" \(helpers: .*upper.*\)$/),
    ]);
    expect(problems('categories:\n  - name: a\n    ticket:\n      subject: "{{upper priority}} {{priorty}}"\n')).toEqual([
      'rules/bad.yaml:4:38: unknown variable "priorty" (did you mean "priority"?)',
    ]);
  });

  test('templates that read what may be absent at runtime, or inside another context, load', () => {
    const rules = compileRuleSources(
      [
        {
          file: 'r.yaml',
          text: `categories:
  - name: a
    fault_key: [instance]
    ticket:
      subject: "{{labels.not_always_there}} {{annotations.x}} {{keyLabels.instance}} {{this.priority}} {{@root.fs}}"
      body: "{{#each alerts as |a i|}}{{a.status}} {{i}} {{status}} {{../category}} {{anything}}{{/each}}{{#with labels}}{{whatever}}{{/with}}"
      fields: { team: "{{default labels.team 'ops'}}", n: { number: "{{fs}}" } }
    diagnosis:
      hints: ["{{#if labels.mountpoint}}du -xh {{labels.mountpoint}}{{/if}}"]
`,
        },
      ],
      context,
    );
    expect(rules.categories.map((c) => c.name)).toEqual(['a']);
  });

  test('wrong types and values, at the value', () => {
    expect(problems('categories:\n  - name: a\n    severity: 11\n    repair_time: { a: -1, b: 0.5 }\n')).toEqual([
      expect.stringMatching(/^rules\/bad\.yaml:3:15: categories\.0\.severity: /),
      expect.stringMatching(/^rules\/bad\.yaml:4:23: categories\.0\.repair_time\.a: /),
    ]);
  });

  test('duplicate category names and two defaults, across files, all at once', () => {
    let message = '';
    try {
      compileRuleSources(
        [
          { file: 'a.yaml', text: 'categories:\n  - name: x\n    default: true\n' },
          { file: 'b.yaml', text: 'categories:\n  - name: x\n  - name: y\n    default: true\n' },
        ],
        context,
      );
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message.split('\n')).toEqual([
      'b.yaml:2:11: duplicate category name "x" (first defined at a.yaml:2)',
      'b.yaml:4:14: only one category may be the default (already a.yaml:2)',
    ]);
  });

  test('a broken file on disk is reported with its path', () => {
    const { dir, cleanup } = tempDir();
    try {
      writeFileSync(path.join(dir, '10-ok.yaml'), 'categories:\n  - name: ok\n');
      writeFileSync(path.join(dir, '20-bad.yaml'), 'categories:\n  - name: bad\n    action: explode\n');
      writeFileSync(path.join(dir, '20-bad.test.yaml'), 'not: [a rule file');
      expect(() => loadRules(dir, context)).toThrow(`${path.join(dir, '20-bad.yaml')}:3:13: categories.0.action:`);
    } finally {
      cleanup();
    }
  });
});

describe('classification', () => {
  const rules = `
defaults:
  repair_time: { a: 2, b: 0.25 }
categories:
  - name: noise
    match: ['severity="none"']
    action: drop
  - name: disk
    match: ['alertname="DiskFull"']
    fault_key: [instance, mountpoint]
    severity: { label: severity, map: { critical: 9, warning: 4 }, default: 3 }
    priority: [{ min: 8, value: P1 }, { min: 1, value: P3 }]
  - name: any-critical
    match: ['severity=~"crit.*"']
  - name: disk-late
    match: ['alertname="DiskFull"']
  - name: scored
    match: ['alertname="Scored"']
    severity: { numeric_label: score, default: 2 }
  - name: catch-team
    match: ['team="db"', 'alertname!="Ignored"']
    default: true
`;

  test('first match wins, in rule order, across indexed and unindexed categories', () => {
    const e = engine(rules);
    expect(e.match({ alertname: 'DiskFull', severity: 'critical' }).name).toBe('disk');
    expect(e.match({ alertname: 'Other', severity: 'critical' }).name).toBe('any-critical');
    expect(e.match({ alertname: 'DiskFull', severity: 'none' }).name).toBe('noise');
    expect(e.match({ alertname: 'Other' }).name).toBe('catch-team');
  });

  test('the default category catches what nothing else does, and a built-in one exists', () => {
    expect(engine(rules).match({ alertname: 'Nothing' }).name).toBe('catch-team');
    expect(engine('categories: []').match({ alertname: 'Nothing' }).name).toBe('uncategorized');
  });

  test('fault key, severity and priority', () => {
    const e = engine(rules);
    const c = e.classify({ labels: { alertname: 'DiskFull', instance: 'h1', mountpoint: '/', severity: 'critical', extra: 'x' } });
    expect(c.key).toBe('{instance="h1",mountpoint="/"}');
    expect(c.keyLabels).toEqual({ instance: 'h1', mountpoint: '/' });
    expect(c.fs).toBe(9);
    expect(priorityOf(c.category, c.fs)).toBe('P1');
    expect(c.category.repairTime).toEqual({ a: 2, b: 0.25 });
    expect(e.classify({ labels: { alertname: 'DiskFull', severity: 'warning' } }).fs).toBe(4);
    expect(e.classify({ labels: { alertname: 'DiskFull', severity: 'WARNING' } }).fs).toBe(4);
    expect(e.classify({ labels: { alertname: 'DiskFull', severity: 'odd' } }).fs).toBe(3);
    expect(e.classify({ labels: { alertname: 'Scored', score: '7.6' } }).fs).toBe(8);
    expect(e.classify({ labels: { alertname: 'Scored', score: '99' } }).fs).toBe(10);
    expect(e.classify({ labels: { alertname: 'Scored', score: 'high' } }).fs).toBe(2);
  });

  test('without fault_key, the whole label set is the key', () => {
    const c = engine(rules).classify({ labels: { b: '2', alertname: 'X', a: '1' } });
    expect(c.key).toBe('{a="1",alertname="X",b="2"}');
  });

  test('the shipped rules load and classify common alerts', () => {
    const shipped = new RuleEngine(loadRules(path.join(REPO, 'rules'), context));
    expect(shipped.match({ alertname: 'TargetDown' }).name).toBe('target-down');
    expect(shipped.match({ alertname: 'NodeFilesystemAlmostOutOfSpace' }).name).toBe('node-disk');
    expect(shipped.match({ alertname: 'KubePodCrashLooping' }).name).toBe('kube-pod-crash-looping');
    expect(shipped.match({ alertname: 'Watchdog' }).action).toBe('drop');
    expect(shipped.match({ alertname: 'SomethingElse' }).name).toBe('uncategorized');
  });

  test('with many categories, classification agrees with a plain first-match scan', () => {
    const lines = ['categories:'];
    for (let i = 0; i < 300; i++) {
      if (i % 7 === 0) lines.push(`  - name: re${i}`, `    match: ['alertname=~"A${i % 13}.*"', 'tier="${i % 3}"']`);
      else lines.push(`  - name: eq${i}`, `    match: ['alertname="A${i % 50}"', 'tier!="${i % 3}"']`);
    }
    const e = engine(lines.join('\n'));
    for (let j = 0; j < 500; j++) {
      const labels = { alertname: `A${j % 60}${j % 4 === 0 ? 'x' : ''}`, tier: String(j % 3) };
      const expected = e.categories.find((c) => c.matchers.every((m) => m.matches(labels))) ?? e.rules.fallback;
      expect(e.match(labels).name).toBe(expected.name);
    }
  });
});

test('a broken category does not hide the problems of the others', () => {
  expect(problems('categories:\n  - name: a\n    fault_key: job\n  - name: b\n    match: [\'x=~"("\']\n  - nme: c\n')).toEqual([
    'rules/bad.yaml:3:16: categories.0.fault_key: Invalid input: expected array, received string',
    expect.stringMatching(/^rules\/bad\.yaml:5:13: invalid regular expression "\("/),
    'rules/bad.yaml:6:5: categories.2.name: required (string)',
    'rules/bad.yaml:6:5: categories.2: unknown key "nme"',
  ]);
});

test('regex alternations and prefixes are looked up too, and still agree with a plain scan', () => {
  const lines = ['categories:'];
  for (let i = 0; i < 200; i++) {
    if (i % 4 === 0) lines.push(`  - name: alt${i}`, `    match: ['alertname=~"A${i}|B${i}|C\\\\.${i}"']`);
    else if (i % 4 === 1) lines.push(`  - name: pre${i}`, `    match: ['service=~"svc-${i % 13}.*"', 'tier!="x"']`);
    else if (i % 4 === 2) lines.push(`  - name: grp${i}`, `    match: ['alertname=~"(D${i % 7}|E${i % 7})"', 'tier="${i % 3}"']`);
    else lines.push(`  - name: re${i}`, `    match: ['alertname=~"[AB]${i % 9}.*"']`);
  }
  const e = new RuleEngine(compileRuleSources([{ file: 'r.yaml', text: lines.join('\n') }], context));
  for (let j = 0; j < 2000; j++) {
    const pick = ['A', 'B', 'C.', 'D', 'E', 'X'][j % 6];
    const labels = { alertname: `${pick}${j % 211}`, service: `svc-${j % 17}${j % 2 ? '' : '-x'}`, tier: String(j % 4) };
    const expected = e.categories.find((c) => c.matchers.every((m) => m.matches(labels))) ?? e.rules.fallback;
    expect(e.match(labels).name).toBe(expected.name);
  }
});
