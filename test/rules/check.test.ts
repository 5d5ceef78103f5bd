import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { check } from '../../src/commands/check';
import { ruleContext } from '../../src/main';

// One broken fixture per case under test/fixtures/check/<case>/ (a config and its rules);
// expected.txt holds the exit code and every line `faultdesk check` prints.
// UPDATE_GOLDEN=1 rewrites them (then read the diff before committing).
const CASES = path.join(__dirname, '../fixtures/check');
const cwd = path.resolve(__dirname, '../..');

describe('faultdesk check', () => {
  const cases = readdirSync(CASES).filter((d) => existsSync(path.join(CASES, d, 'faultdesk.yaml')));
  test('has a golden file for every case', () => {
    expect(cases.length).toBeGreaterThanOrEqual(10);
  });
  test.each(cases)('%s', (name) => {
    const config = path.relative(cwd, path.join(CASES, name, 'faultdesk.yaml'));
    const result = check(config, {}, ruleContext);
    const got = [`exit ${result.code}`, ...result.lines].join('\n') + '\n';
    const golden = path.join(CASES, name, 'expected.txt');
    if (process.env.UPDATE_GOLDEN) writeFileSync(golden, got);
    expect(got).toBe(readFileSync(golden, 'utf8'));
  });
  test('the shipped config and rules pass without warnings', () => {
    const result = check('config/faultdesk.yaml', {}, ruleContext);
    expect(result.code).toBe(0);
    expect(result.lines).toEqual([expect.stringMatching(/^config\/faultdesk\.yaml: ok; \d+ rule files, \d+ categories$/)]);
  });

  test('README quotes what check really prints', () => {
    const readme = readFileSync(path.join(cwd, 'README.md'), 'utf8');
    // "Try it": the command on the shipped config, and its output as a comment below it.
    const quoted = /check --config config\/faultdesk\.yaml\n# (.*)\n/.exec(readme)?.[1];
    expect(quoted).toBe(check('config/faultdesk.yaml', {}, ruleContext).lines.join('\n'));
    // "Rule tooling": the warning for a shadowed category, as the shadowed case prints it.
    const warning = /^(rules\/r\.yaml:\d+:\d+: warning: .*)$/m.exec(readme)?.[1];
    expect(warning).toBeDefined();
    const golden = readFileSync(path.join(CASES, 'shadowed', 'expected.txt'), 'utf8');
    expect(golden).toContain(warning!.replace(/rules\//g, 'test/fixtures/check/shadowed/rules/'));
  });
});
