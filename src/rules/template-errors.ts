import Handlebars from 'handlebars';

/**
 * A template that cannot be used, with the position of the problem inside the
 * template (line from 1, column from 0, as Handlebars counts) when it is known.
 */
export class TemplateError extends Error {
  constructor(
    message: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}

/** What jison's parser hands its error hook, and the lexer it reads from. */
interface ParseFailure {
  token: string;
  expected: string[];
  line: number;
  column: number;
}

interface JisonParser {
  Parser: new () => JisonParser;
  yy: object;
  lexer: { yylloc?: { first_line: number; first_column: number } };
  parse(input: string): unknown;
}

/** Names of the parser's tokens as a template author knows them. */
const TOKENS: Record<string, string> = {
  EOF: 'the end of the template',
  INVALID: 'an unexpected character',
  CONTENT: 'text',
  OPEN: '"{{"',
  OPEN_BLOCK: '"{{#"',
  OPEN_INVERSE: '"{{^"',
  OPEN_INVERSE_CHAIN: '"{{else}}"',
  INVERSE: '"{{else}}"',
  OPEN_ENDBLOCK: 'a closing "{{/…}}"',
  OPEN_PARTIAL: '"{{>"',
  OPEN_UNESCAPED: '"{{{"',
  CLOSE: '"}}"',
  CLOSE_UNESCAPED: '"}}}"',
  CLOSE_RAW_BLOCK: '"}}}}"',
  OPEN_SEXPR: '"("',
  CLOSE_SEXPR: '")"',
  OPEN_BLOCK_PARAMS: '"as |"',
  CLOSE_BLOCK_PARAMS: '"|"',
  ID: 'a name',
  STRING: 'a string',
  NUMBER: 'a number',
  BOOLEAN: 'true or false',
  UNDEFINED: 'undefined',
  NULL: 'null',
  DATA: 'an @variable',
  EQUALS: '"="',
  SEP: '"."',
};

const VALUE_TOKENS = new Set(['ID', 'STRING', 'NUMBER', 'BOOLEAN', 'UNDEFINED', 'NULL', 'DATA', 'OPEN_SEXPR']);

const describeToken = (t: string) => TOKENS[t.replace(/^'|'$/g, '')] ?? t;

/**
 * Turns a Handlebars error into one line a rule author can act on, with its
 * position in the template: jison's "Expecting 'OPEN_INVERSE_CHAIN', …" says
 * neither what is wrong in the template's terms nor where.
 */
export function templateError(source: string, err: unknown, helpers: Iterable<string> = []): TemplateError {
  const message = err instanceof Error ? err.message : String(err);
  if (message.startsWith('Parse error') || message.startsWith('Lexical error')) return parseError(source) ?? new TemplateError(message.split('\n')[0]!);
  const known = /^You specified knownHelpersOnly, but used the unknown helper (\S+) - (\d+):(\d+)$/.exec(message);
  if (known) return new TemplateError(`unknown helper "${known[1]}" (helpers: ${[...helpers].sort().join(', ')})`, Number(known[2]), Number(known[3]));
  // Handlebars' own exceptions ("if doesn't match each - 1:3") carry their position.
  const e = err as { lineNumber?: number; column?: number };
  let text = message.replace(/ - \d+:\d+$/, '').split('\n')[0]!;
  const mismatch = /^(\S+) doesn't match (\S+)$/.exec(text);
  if (mismatch) text = `"{{#${mismatch[1]} …}}" is closed by "{{/${mismatch[2]}}}": close it with "{{/${mismatch[1]}}}"`;
  return new TemplateError(text, e.lineNumber, e.column);
}

/** Parses again with a private parser whose error hook keeps the failing token and where it stands. */
function parseError(source: string): TemplateError | undefined {
  const failure = locateParseFailure(source);
  if (!failure) return undefined;
  const unclosed = unclosedMustache(source);
  if (unclosed) return new TemplateError('"{{" is not closed with "}}"', unclosed.line, unclosed.column);
  if (failure.token === 'EOF') {
    const block = unclosedBlock(source);
    if (block) return new TemplateError(`"{{${block.kind}${block.name} …}}" is not closed: add "{{/${block.name}}}"`, block.line, block.column);
  }
  const raw = failure.expected.map((t) => t.replace(/^'|'$/g, ''));
  // "a name or a string or a number or true or …": one phrase for every kind of value.
  const values = raw.filter((t) => VALUE_TOKENS.has(t));
  let expected = [...new Set(values.length >= 3 ? ['a name or value', ...raw.filter((t) => !VALUE_TOKENS.has(t)).map(describeToken)] : raw.map(describeToken))];
  // Where anything could follow, the list says nothing; inside a block, its end is what is missing.
  if (raw.includes('OPEN_ENDBLOCK')) expected = [describeToken('OPEN_ENDBLOCK')];
  else if (expected.length > 3) expected = [];
  return new TemplateError(
    `unexpected ${describeToken(failure.token)}${expected.length > 0 ? `; expected ${expected.join(' or ')}` : ''}`,
    failure.line,
    failure.column,
  );
}

function locateParseFailure(source: string): ParseFailure | undefined {
  const shared = (Handlebars as unknown as { Parser: JisonParser }).Parser;
  if (typeof shared?.Parser !== 'function') return undefined;
  // Handlebars.parse has set up the shared grammar helpers (yy) on its failed attempt.
  const parser = new shared.Parser();
  let failure: ParseFailure | undefined;
  parser.yy = Object.assign(Object.create(shared.yy) as object, {
    parseError(_text: string, hash: { token?: string | null; expected?: string[] }) {
      const at = parser.lexer.yylloc;
      failure = { token: hash.token ?? 'INVALID', expected: hash.expected ?? [], line: at?.first_line ?? 1, column: at?.first_column ?? 0 };
      throw new Error('parse error');
    },
  });
  try {
    parser.parse(source);
  } catch {
    // the hook has recorded the failure
  }
  return failure;
}

interface Position {
  line: number;
  column: number;
}

function positionOf(source: string, index: number): Position {
  const before = source.slice(0, index);
  const line = before.split('\n').length;
  return { line, column: index - (before.lastIndexOf('\n') + 1) };
}

/** The first "{{" with no "}}" before the next "{{" or the end. */
function unclosedMustache(source: string): Position | undefined {
  const re = /(\\)?\{\{+/g;
  const opens: number[] = [];
  for (let m = re.exec(source); m; m = re.exec(source)) if (!m[1]) opens.push(m.index);
  for (const [i, at] of opens.entries()) {
    const close = source.indexOf('}}', at);
    const next = opens[i + 1] ?? Infinity;
    if (close === -1 || close > next) return positionOf(source, at);
  }
  return undefined;
}

/** The innermost block ("{{#if …}}") that the template never closes. */
function unclosedBlock(source: string): (Position & { kind: string; name: string }) | undefined {
  const re = /\{\{~?\s*([#^/])\s*([^\s}~()]+)/g;
  const stack: Array<Position & { kind: string; name: string }> = [];
  for (let m = re.exec(source); m; m = re.exec(source)) {
    const [, kind, name] = m as unknown as [string, string, string];
    if (kind === '/') {
      if (stack[stack.length - 1]?.name === name) stack.pop();
    } else {
      stack.push({ ...positionOf(source, m.index), kind, name });
    }
  }
  return stack[stack.length - 1];
}
