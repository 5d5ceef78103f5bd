import { LineCounter, parseDocument, isMap, isNode, isScalar, type Document, type Scalar } from 'yaml';

/** A problem in a YAML file, located for the person who has to fix it. */
export interface SourceProblem {
  file: string;
  line: number;
  column: number;
  message: string;
}

export function formatProblem(p: SourceProblem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.message}`;
}

/** Thrown when a config or rule file cannot be used; carries every problem found. */
export class SourceError extends Error {
  constructor(readonly problems: SourceProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'SourceError';
  }
}

/** A parsed YAML file that can say where any value in it came from. */
export interface YamlSource {
  file: string;
  value: unknown;
  /** Line and column of the value at `path`, or of its nearest existing parent. */
  locate(path: readonly PropertyKey[]): { line: number; column: number };
  problemAt(path: readonly PropertyKey[], message: string): SourceProblem;
  /** Where the key (not the value) at `path` stands: for unknown keys. */
  problemAtKey(path: readonly PropertyKey[], message: string): SourceProblem;
  /**
   * Where a position inside the string value at `path` (line from 1, column
   * from 0) stands in the file, e.g. an error inside a template; the value's
   * own position when the mapping is not exact (a folded multi-line scalar).
   */
  locateWithin(path: readonly PropertyKey[], line: number, column: number): { line: number; column: number };
}

export function parseYamlSource(file: string, text: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const syntax = [...doc.errors, ...doc.warnings.filter((w) => w.code === 'DUPLICATE_KEY')];
  if (syntax.length > 0) {
    throw new SourceError(
      syntax.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return { file, line: pos.line, column: pos.col, message: firstLine(e.message) };
      }),
    );
  }
  const locate = (path: readonly PropertyKey[]) => {
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n) as unknown[], true);
      if (isNode(node) && node.range) {
        const pos = lineCounter.linePos(node.range[0]);
        return { line: pos.line, column: pos.col };
      }
    }
    return { line: 1, column: 1 };
  };
  const locateKey = (path: readonly PropertyKey[]) => {
    const parent = path.length > 1 ? doc.getIn(path.slice(0, -1) as unknown[], true) : doc.contents;
    if (isMap(parent)) {
      const name = path[path.length - 1];
      const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === name);
      if (pair && isNode(pair.key) && pair.key.range) {
        const pos = lineCounter.linePos(pair.key.range[0]);
        return { line: pos.line, column: pos.col };
      }
    }
    return locate(path);
  };
  const locateWithin = (path: readonly PropertyKey[], line: number, column: number) => {
    const node = doc.getIn(path as unknown[], true);
    if (!isScalar(node) || !node.range || typeof node.value !== 'string') return locate(path);
    const offset = offsetInScalar(text.slice(node.range[0], node.range[1]), node.type, node.value, line, column);
    if (offset === undefined) return locate(path);
    const pos = lineCounter.linePos(node.range[0] + offset);
    return { line: pos.line, column: pos.col };
  };
  return {
    file,
    value: doc.toJS({ maxAliasCount: 100 }),
    locate,
    locateWithin,
    problemAt: (path, message) => ({ file, ...locate(path), message }),
    problemAtKey: (path, message) => ({ file, ...locateKey(path), message }),
  };
}

/**
 * The offset in a scalar's source text of a position in its value. Exact for
 * one-line plain and quoted scalars (escapes counted) and for literal blocks;
 * undefined for what YAML folds (multi-line flow scalars, folded blocks).
 */
function offsetInScalar(raw: string, type: Scalar.Type | undefined, value: string, line: number, column: number): number | undefined {
  const lines = value.split('\n');
  if (line < 1 || line > lines.length) return undefined;
  if (type === 'BLOCK_LITERAL') {
    const header = raw.indexOf('\n');
    if (header === -1) return undefined;
    const body = raw.slice(header + 1).split('\n');
    const explicit = /^[|>][+-]?([1-9])/.exec(raw)?.[1];
    const firstText = body.find((l) => l.trim() !== '');
    const indent = explicit ? Number(explicit) : (firstText?.length ?? 0) - (firstText?.trimStart().length ?? 0);
    let offset = header + 1;
    for (const l of body.slice(0, line - 1)) offset += l.length + 1;
    return offset + indent + column;
  }
  if (raw.includes('\n') || line !== 1) return undefined;
  if (type === 'PLAIN') return column;
  if (type === 'QUOTE_SINGLE' || type === 'QUOTE_DOUBLE') {
    // Walk the source, counting the value characters each piece of it stands for.
    let chars = 0;
    let i = 1;
    while (i < raw.length - 1 && chars < column) {
      if (type === 'QUOTE_SINGLE') i += raw.startsWith("''", i) ? 2 : 1;
      else if (raw[i] !== '\\') i += 1;
      else i += ({ x: 4, u: 6, U: 10 } as Record<string, number>)[raw[i + 1] ?? ''] ?? 2;
      chars += 1;
    }
    return i;
  }
  return undefined;
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
