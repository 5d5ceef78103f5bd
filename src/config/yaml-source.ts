import { LineCounter, parseDocument, isMap, isNode, isScalar, type Document } from 'yaml';

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
  return {
    file,
    value: doc.toJS({ maxAliasCount: 100 }),
    locate,
    problemAt: (path, message) => ({ file, ...locate(path), message }),
    problemAtKey: (path, message) => ({ file, ...locateKey(path), message }),
  };
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
