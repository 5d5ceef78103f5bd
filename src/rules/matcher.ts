import { RE2JS } from 're2js';

export type MatchType = '=' | '!=' | '=~' | '!~';

/**
 * One Alertmanager label matcher. A missing label is the empty string, and
 * regexes are anchored at both ends with RE2 semantics, as in an Alertmanager route.
 */
export interface Matcher {
  name: string;
  type: MatchType;
  value: string;
  matches(labels: Readonly<Record<string, string>>): boolean;
  toString(): string;
}

export class MatcherSyntaxError extends Error {
  constructor(message: string, readonly offset = 0) {
    super(message);
    this.name = 'MatcherSyntaxError';
  }
}

const LABEL_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

export function newMatcher(name: string, type: MatchType, value: string): Matcher {
  const text = `${name}${type}${quote(value)}`;
  if (type === '=' || type === '!=') {
    const equal = type === '=';
    return { name, type, value, matches: (labels) => (labels[name] ?? '') === value === equal, toString: () => text };
  }
  let re: RE2JS;
  try {
    // Alertmanager compiles "^(?:" + value + ")$"; RE2JS.matches() is the same whole-string match.
    re = RE2JS.compile(value);
  } catch (err) {
    throw new MatcherSyntaxError(`invalid regular expression ${quote(value)}: ${(err as Error).message}`);
  }
  const positive = type === '=~';
  return { name, type, value, matches: (labels) => re.matches(labels[name] ?? '') === positive, toString: () => text };
}

/**
 * Parses one matcher as Alertmanager (amtool, routes' `matchers`) writes it:
 * `name="value"`, `name=~"regex"`, `name!=value`; the value may be unquoted, and
 * a quoted value takes the escapes \" \\ \n.
 */
export function parseMatcher(input: string): Matcher {
  const text = input.trim();
  const m = /^([^=!~\s"]+|"(?:[^"\\]|\\.)*")\s*(=~|!~|!=|=)\s*(.*)$/s.exec(text);
  if (!m) {
    throw new MatcherSyntaxError(`bad matcher ${JSON.stringify(input)}: expected name, an operator (= != =~ !~) and a value`);
  }
  const rawName = m[1] as string;
  const name = rawName.startsWith('"') ? unquote(rawName) : rawName;
  if (!rawName.startsWith('"') && !LABEL_NAME.test(name)) {
    throw new MatcherSyntaxError(`bad matcher ${JSON.stringify(input)}: invalid label name "${name}"`);
  }
  const rawValue = (m[3] as string).trim();
  let value: string;
  if (rawValue.startsWith('"')) {
    if (rawValue.length < 2 || !rawValue.endsWith('"')) {
      throw new MatcherSyntaxError(`bad matcher ${JSON.stringify(input)}: unterminated quoted value`);
    }
    value = unquote(rawValue);
  } else {
    if (/["]/.test(rawValue)) throw new MatcherSyntaxError(`bad matcher ${JSON.stringify(input)}: stray quote in value`);
    value = rawValue;
  }
  return newMatcher(name, m[2] as MatchType, value);
}

/** `{a="b", c=~"d"}` or `a="b", c=~"d"`: several matchers in one string, as in `matchers:` lists. */
export function parseMatchers(input: string): Matcher[] {
  let text = input.trim();
  if (text.startsWith('{')) {
    if (!text.endsWith('}')) throw new MatcherSyntaxError(`bad matchers ${JSON.stringify(input)}: missing closing brace`);
    text = text.slice(1, -1);
  }
  return splitOutsideQuotes(text)
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map(parseMatcher);
}

function splitOutsideQuotes(text: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted && ch === '\\') {
      current += ch + (text[i + 1] ?? '');
      i++;
      continue;
    }
    if (ch === '"') quoted = !quoted;
    if (ch === ',' && !quoted) {
      parts.push(current);
      current = '';
      continue;
    }
    current += ch;
  }
  if (quoted) throw new MatcherSyntaxError(`bad matchers ${JSON.stringify(text)}: unterminated quoted value`);
  parts.push(current);
  return parts;
}

function unquote(quoted: string): string {
  const body = quoted.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i] as string;
    if (ch === '\\') {
      const next = body[i + 1];
      i++;
      if (next === 'n') out += '\n';
      else if (next === '"' || next === '\\') out += next;
      else throw new MatcherSyntaxError(`invalid escape \\${next ?? ''} in ${quoted}`);
    } else if (ch === '"') {
      throw new MatcherSyntaxError(`unescaped quote in ${quoted}`);
    } else {
      out += ch;
    }
  }
  return out;
}

function quote(value: string): string {
  return JSON.stringify(value);
}
