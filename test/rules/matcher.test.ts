import { parseMatcher, parseMatchers, MatcherSyntaxError } from '../../src/rules';

const m = (text: string, labels: Record<string, string>) => parseMatcher(text).matches(labels);

describe('matchers mean what they mean in an Alertmanager route', () => {
  test('equality, with quoted and unquoted values', () => {
    expect(m('severity="critical"', { severity: 'critical' })).toBe(true);
    expect(m('severity=critical', { severity: 'critical' })).toBe(true);
    expect(m('severity = "critical"', { severity: 'warning' })).toBe(false);
    expect(m('severity!="critical"', { severity: 'warning' })).toBe(true);
    expect(m('severity!="critical"', { severity: 'critical' })).toBe(false);
  });

  test('a missing label is the empty string', () => {
    expect(m('team=""', {})).toBe(true);
    expect(m('team=""', { team: 'x' })).toBe(false);
    expect(m('team!=""', {})).toBe(false);
    expect(m('team!=""', { team: 'x' })).toBe(true);
    expect(m('team="x"', {})).toBe(false);
    expect(m('team!="x"', {})).toBe(true);
    expect(m('team=~".*"', {})).toBe(true);
    expect(m('team=~".+"', {})).toBe(false);
    expect(m('team!~".+"', {})).toBe(true);
  });

  test('regexes are anchored at both ends', () => {
    expect(m('alertname=~"Node.*"', { alertname: 'NodeDown' })).toBe(true);
    expect(m('alertname=~"Down"', { alertname: 'NodeDown' })).toBe(false);
    expect(m('alertname=~"Node"', { alertname: 'NodeDown' })).toBe(false);
    expect(m('alertname=~"a|b"', { alertname: 'a' })).toBe(true);
    expect(m('alertname=~"a|b"', { alertname: 'ab' })).toBe(false);
    expect(m('alertname!~"Node.*"', { alertname: 'NodeDown' })).toBe(false);
    expect(m('alertname!~"Node.*"', { alertname: 'PodDown' })).toBe(true);
  });

  test('dot does not match a newline, as in Go RE2', () => {
    expect(m('msg=~"a.b"', { msg: 'a\nb' })).toBe(false);
    expect(m('msg=~"(?s)a.b"', { msg: 'a\nb' })).toBe(true);
  });

  test('quoted values take escapes', () => {
    expect(parseMatcher('msg="say \\"hi\\""').value).toBe('say "hi"');
    expect(parseMatcher('msg="a\\\\b"').value).toBe('a\\b');
    expect(parseMatcher('msg="line\\nbreak"').value).toBe('line\nbreak');
    expect(parseMatcher('msg="a,b"').value).toBe('a,b');
  });

  test('several matchers in one string, with or without braces', () => {
    const list = parseMatchers('{alertname="A", severity=~"crit.*",team!="x"}');
    expect(list.map(String)).toEqual(['alertname="A"', 'severity=~"crit.*"', 'team!="x"']);
    expect(parseMatchers('a="1,2", b=2').map((x) => x.value)).toEqual(['1,2', '2']);
  });

  test.each([
    ['no operator', 'alertname'],
    ['bad label name', '1abc="x"'],
    ['unterminated quote', 'a="x'],
    ['bad regex', 'a=~"(unclosed"'],
    ['backreference (not RE2)', 'a=~"(x)\\\\1"'],
    ['lookahead (not RE2)', 'a=~"(?=x)"'],
  ])('rejects %s', (_what, text) => {
    expect(() => parseMatchers(text)).toThrow(MatcherSyntaxError);
  });

  test('a classic catastrophic-backtracking pattern runs in linear time', () => {
    const matcher = parseMatcher('v=~"(a+)+$"');
    const started = process.hrtime.bigint();
    expect(matcher.matches({ v: `${'a'.repeat(5000)}!` })).toBe(false);
    // A backtracking engine takes longer than the age of the universe here; RE2 takes milliseconds.
    expect(Number(process.hrtime.bigint() - started) / 1e9).toBeLessThan(5);
  });
});
