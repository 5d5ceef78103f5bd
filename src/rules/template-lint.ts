import Handlebars from 'handlebars';
import { TemplateError } from './template-errors';

/** Handlebars' own helpers, always there. */
export const BUILTIN_HELPERS = ['if', 'unless', 'each', 'with', 'lookup', 'log'] as const;

/** Blocks that run their body with another context (an item, a value): its names are not the template's. */
const CONTEXT_BLOCKS = new Set(['each', 'with']);

type Node = hbs.AST.Node;
type Expression = hbs.AST.Expression;
type Path = hbs.AST.PathExpression;
type Block = hbs.AST.BlockStatement;
type Call = hbs.AST.MustacheStatement | hbs.AST.SubExpression;

/** A context the template reads from: the template's own (`root`) or one a block switched to. */
interface Scope {
  root: boolean;
  blockParams: readonly string[];
}

/**
 * Names the template reads that its context does not have: `{{priorty}}`,
 * `{{#if lables.x}}`. Only names of the template's own context are checked
 * (`labels`, `priority`, …), not what is inside them (`labels.x` may be absent
 * at runtime) nor names inside `#each`/`#with`, whose context is an item.
 * Partials are not available to templates, so they are reported too.
 */
export function unknownVariables(source: string, known: ReadonlySet<string>, helpers: ReadonlySet<string>): TemplateError[] {
  const problems: TemplateError[] = [];
  const at = (node: Node, message: string) => problems.push(new TemplateError(message, node.loc?.start.line, node.loc?.start.column));

  const checkPath = (path: Path, scopes: readonly Scope[]) => {
    let head: string | undefined;
    if (path.data) {
      if (path.parts[0] !== 'root' || path.parts.length < 2) return;
      head = path.parts[1];
    } else {
      const scope = scopes[scopes.length - 1 - path.depth];
      if (!scope?.root) return;
      head = path.parts[0];
      const explicitThis = /^(this|\.)[./]/.test(path.original);
      if (head !== undefined && path.depth === 0 && !explicitThis && scopes.some((s) => s.blockParams.includes(head!))) return;
    }
    if (head === undefined || known.has(head)) return;
    const hint = closest(head, known);
    at(path, `unknown variable "${head}"${hint ? ` (did you mean "${hint}"?)` : ''}`);
  };

  const checkExpression = (e: Expression, scopes: readonly Scope[]) => {
    if (e.type === 'PathExpression') checkPath(e as Path, scopes);
    else if (e.type === 'SubExpression') checkCall(e as hbs.AST.SubExpression, scopes);
  };

  const checkArguments = (node: Call | Block, scopes: readonly Scope[]) => {
    for (const p of node.params) checkExpression(p, scopes);
    for (const pair of node.hash?.pairs ?? []) checkExpression(pair.value, scopes);
  };

  /** `{{name}}` is a helper call when `name` is a helper or it has arguments; otherwise it reads a variable. */
  const checkCall = (node: Call, scopes: readonly Scope[]) => {
    const path = node.path as Expression;
    const isHelper = path.type === 'PathExpression' && helpers.has((path as Path).original);
    if (!isHelper && node.params.length === 0 && !node.hash) checkExpression(path, scopes);
    checkArguments(node, scopes);
  };

  const checkBlock = (block: Block, scopes: readonly Scope[]) => {
    const name = block.path.original;
    const isHelper = helpers.has(name);
    if (!isHelper) checkPath(block.path, scopes); // a section: {{#labels.x}}…{{/labels.x}}
    checkArguments(block, scopes);
    const switches = !isHelper || CONTEXT_BLOCKS.has(name);
    const inner = switches ? [...scopes, { root: false, blockParams: block.program?.blockParams ?? [] }] : scopes;
    if (block.program) checkProgram(block.program, inner);
    if (block.inverse) checkProgram(block.inverse, scopes);
  };

  const checkProgram = (program: hbs.AST.Program, scopes: readonly Scope[]) => {
    for (const statement of program.body) {
      switch (statement.type) {
        case 'MustacheStatement':
          checkCall(statement as hbs.AST.MustacheStatement, scopes);
          break;
        case 'BlockStatement':
          checkBlock(statement as Block, scopes);
          break;
        case 'PartialStatement':
        case 'PartialBlockStatement':
          at(statement, 'partials ("{{> …}}") are not available in faultdesk templates');
          break;
        case 'Decorator':
        case 'DecoratorBlock':
          at(statement, 'decorators ("{{* …}}") are not available in faultdesk templates');
          break;
        default:
          break;
      }
    }
  };

  checkProgram(Handlebars.parseWithoutProcessing(source), [{ root: true, blockParams: [] }]);
  return problems;
}

/** The known name nearest to a misspelt one, if it is near (at most two edits). */
function closest(name: string, known: ReadonlySet<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
