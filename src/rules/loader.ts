import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { FieldSpecRaw } from '../config/schema';
import { compileField, type CompiledField } from './fields';
import { formatProblem, issueProblems, parseYamlSource, SourceError, type SourceProblem, type YamlSource } from '../config';
import type { Category, FlappingPolicy, SeverityRule, TicketSystemName } from './category';
import {
  DEFAULT_BODY,
  DEFAULT_PRIORITY_BANDS,
  DEFAULT_REPAIR_TIME,
  DEFAULT_SEVERITY_MAP,
  DEFAULT_SUBJECT,
} from './defaults';
import { MatcherSyntaxError, parseMatchers, type Matcher } from './matcher';
import type { z } from 'zod';
import { categorySchema, defaultsSchema, ruleFileFrameSchema, type CategoryDefaults, type CategorySpec } from './schema';
import { createTemplateEngine, TemplateError, type Template, type TemplateEngine } from './templates';

/** Settings from the main config that rules inherit. */
export interface RuleContext {
  defaultSystem: TicketSystemName;
  /** The ticket systems the config sets up; a category may only pick one of these. */
  systems: readonly TicketSystemName[];
  /** Whether the config sets up e-mail; `notify` needs it. */
  email?: boolean;
  /** Field defaults per system, from the config; a category's fields go over them. */
  systemFields: Partial<Record<TicketSystemName, Record<string, FieldSpecRaw>>>;
  updateIntervalMs: number;
  reopenWithinMs: number;
  flapping: FlappingPolicy;
  /** The config's support tiers, in order; a category may start at one of them. */
  tiers?: readonly string[];
  /** Where faults start when their category does not say. */
  startTier?: string;
  /**
   * What a category's templates are rendered with, filled with examples (see
   * faults' sampleTicketContext): every template is rendered with it at load,
   * and names it does not have are errors.
   */
  sampleContext(category: Category): object;
}

export interface LoadedRules {
  files: string[];
  categories: Category[];
  /** Taken by alerts that match no category. */
  fallback: Category;
}

/** Rule files of a folder, in name order; rule test files (`*.test.yaml`) are not rules. */
export function listRuleFiles(paths: string | readonly string[]): string[] {
  const out: string[] = [];
  for (const p of typeof paths === 'string' ? [paths] : paths) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      throw new SourceError([{ file: p, line: 1, column: 1, message: 'rule path does not exist' }]);
    }
    if (!isDir) {
      out.push(p);
      continue;
    }
    const names = readdirSync(p)
      .filter((n) => /\.ya?ml$/.test(n) && !/\.test\.ya?ml$/.test(n))
      .sort();
    out.push(...names.map((n) => path.join(p, n)));
  }
  return out;
}

/** Loads and compiles every rule file; all problems of all files are reported together. */
export function loadRules(paths: string | readonly string[], context: RuleContext): LoadedRules {
  const files = listRuleFiles(paths);
  return compileRuleSources(
    files.map((file) => ({ file, text: readFileSync(file, 'utf8') })),
    context,
  );
}

export function compileRuleSources(sources: Array<{ file: string; text: string }>, context: RuleContext): LoadedRules {
  const templates = createTemplateEngine();
  // Many categories share a template (the file's defaults, the built-in ones): compile and lint each text once.
  const compiledTexts = new Map<string, Template>();
  const lintedTexts = new Map<string, TemplateError[]>();
  const problems: SourceProblem[] = [];
  const categories: Category[] = [];
  const seen = new Map<string, string>();
  let fallback: Category | undefined;
  let fallbackAt: string | undefined;

  for (const { file, text } of sources) {
    let source: YamlSource;
    try {
      source = parseYamlSource(file, text);
    } catch (err) {
      if (err instanceof SourceError) {
        problems.push(...err.problems);
        continue;
      }
      throw err;
    }
    // The file's frame first, then each category on its own, so one broken
    // category does not hide the problems of the others.
    const reportIssues = (issues: readonly z.core.$ZodIssue[], prefix: PropertyKey[]) => {
      for (const issue of issues) problems.push(...issueProblems(issue, source, prefix));
    };
    const frame = parseSalvaging(ruleFileFrameSchema, source.value ?? {}, (issues) => reportIssues(issues, []));
    if (!frame) continue;
    const specs = frame.value.categories.map((raw, i) => {
      const spec = parseSalvaging(categorySchema, raw, (issues) => reportIssues(issues, ['categories', i]), { name: `invalid-name-${i}` });
      return spec && { ...spec.value, clean: spec.clean };
    });
    let defaults: CategoryDefaults | undefined;
    if (frame.value.defaults !== undefined) {
      defaults = parseSalvaging(defaultsSchema, frame.value.defaults, (issues) => reportIssues(issues, ['defaults']))?.value;
    }
    specs.forEach((spec, i) => {
      if (!spec) return;
      const at = (...rest: PropertyKey[]) => ['categories', i, ...rest];
      const report = (p: PropertyKey[], message: string) => problems.push(source.problemAt(p, message));
      const where = `${file}:${source.locate(at()).line}`;
      if (spec.clean) {
        const earlier = seen.get(spec.name);
        if (earlier) report(at('name'), `duplicate category name "${spec.name}" (first defined at ${earlier})`);
        seen.set(spec.name, where);
      }
      // A value the category does not set itself comes from the file's defaults: report it there.
      const origin = (rest: PropertyKey[]) =>
        valueAt(spec, rest) === undefined && valueAt(defaults, rest) !== undefined ? ['defaults', ...rest] : at(...rest);
      const compiledTemplates: Array<{ path: PropertyKey[]; template: Template }> = [];
      const templateProblem = (p: PropertyKey[], err: TemplateError, prefix: string) => {
        const pos = err.line === undefined ? source.locate(p) : source.locateWithin(p, err.line, err.column ?? 0);
        problems.push({ file, ...pos, message: `${prefix}${err.message}` });
      };
      const compiled = compileCategory(spec, defaults, context, {
        file,
        line: source.locate(at()).line,
        column: source.locate(at()).column,
        order: categories.length,
        report: (rest, message) => report(at(...rest), message),
        compile: (rest, text) => {
          try {
            const template = compiledTexts.get(text) ?? templates.compile(text);
            compiledTexts.set(text, template);
            compiledTemplates.push({ path: origin(rest), template });
            return template;
          } catch (err) {
            if (!(err instanceof TemplateError)) throw err;
            templateProblem(origin(rest), err, 'template does not compile: ');
            return undefined;
          }
        },
      });
      const lint = (text: string, known: ReadonlySet<string>) => {
        const found = lintedTexts.get(text) ?? templates.unknownVariables(text, known);
        lintedTexts.set(text, found);
        return found;
      };
      if (compiled && !checkTemplates(compiled, compiledTemplates, context, lint, templateProblem)) return;
      // A category with schema problems is compiled only to find its other problems.
      if (!compiled || !spec.clean) return;
      if (spec.default) {
        if (fallbackAt) report(at('default'), `only one category may be the default (already ${fallbackAt})`);
        fallback = compiled;
        fallbackAt = where;
      } else {
        categories.push(compiled);
      }
    });
  }
  if (problems.length > 0) {
    // A broken default of a file is found once per category that uses it: say it once.
    const unique = [...new Map(problems.map((p) => [formatProblem(p), p])).values()];
    problems.length = 0;
    problems.push(...unique);
    const fileOrder = new Map(sources.map((src, i) => [src.file, i]));
    problems.sort((a, b) => (fileOrder.get(a.file) ?? 0) - (fileOrder.get(b.file) ?? 0) || a.line - b.line || a.column - b.column);
    throw new SourceError(problems);
  }
  categories.forEach((c, i) => (c.order = i));
  fallback ??= builtinFallback(context, templates);
  fallback.order = categories.length;
  return { files: sources.map((s) => s.file), categories, fallback };
}

/**
 * Parses `raw`; on failure reports every issue, then parses again without the
 * parts that failed, so that one problem does not hide the problems of the
 * rest (an unknown key must not hide a bad regex beside it). `clean` says
 * whether the value was whole; `fill` stands in for required keys that failed.
 */
function parseSalvaging<T>(
  schema: z.ZodType<T>,
  raw: unknown,
  report: (issues: readonly z.core.$ZodIssue[]) => void,
  fill: Record<string, unknown> = {},
): { value: T; clean: boolean } | undefined {
  const first = schema.safeParse(raw);
  if (first.success) return { value: first.data, clean: true };
  report(first.error.issues);
  const pruned = withoutIssues(raw, first.error.issues);
  if (pruned === undefined) return undefined;
  for (const [key, value] of Object.entries(fill)) if (!(key in pruned)) pruned[key] = value;
  const second = schema.safeParse(pruned);
  return second.success ? { value: second.data, clean: false } : undefined;
}

/** A copy of `raw` without the values the issues are about (a list is dropped whole when an item fails). */
function withoutIssues(raw: unknown, issues: readonly z.core.$ZodIssue[]): Record<string, unknown> | undefined {
  if (!isRecord(raw)) return undefined;
  const copy = structuredClone(raw);
  for (const issue of issues) {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...issue.path, k]) : [issue.path];
    for (const full of keys) {
      const firstIndex = full.findIndex((p) => typeof p === 'number');
      const path = firstIndex === -1 ? full : full.slice(0, firstIndex);
      if (path.length === 0) return undefined;
      let parent: unknown = copy;
      for (const p of path.slice(0, -1)) parent = isRecord(parent) ? parent[p as string] : undefined;
      if (isRecord(parent)) delete parent[path[path.length - 1] as string];
    }
  }
  return copy;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Renders every template of a compiled category with an example of what it
 * will see, and looks for names that context does not have: what would
 * otherwise fail, or silently render nothing, at the first alert.
 */
function checkTemplates(
  category: Category,
  compiled: ReadonlyArray<{ path: PropertyKey[]; template: Template }>,
  context: RuleContext,
  unknownVariables: (source: string, known: ReadonlySet<string>) => TemplateError[],
  report: (path: PropertyKey[], err: TemplateError, prefix: string) => void,
): boolean {
  const sample = context.sampleContext(category);
  const known = new Set(Object.keys(sample));
  let ok = true;
  for (const { path, template } of compiled) {
    // The names a template may read are the same for every category (TicketContext's).
    const unknown = unknownVariables(template.source, known);
    for (const err of unknown) report(path, err, '');
    if (unknown.length > 0) {
      ok = false;
      continue;
    }
    try {
      template.render(sample);
    } catch (err) {
      report(path, new TemplateError((err as Error).message.split('\n')[0] ?? 'failed'), 'template fails to render: ');
      ok = false;
    }
  }
  return ok;
}

/** The value at `path` inside a parsed spec, if any. */
function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const p of path) v = typeof v === 'object' && v !== null ? (v as Record<PropertyKey, unknown>)[p] : undefined;
  return v;
}

interface CompileSite {
  file: string;
  line: number;
  column: number;
  order: number;
  /** Reports a problem at a path inside the category. */
  report(path: PropertyKey[], message: string): void;
  /** Compiles the template at a path inside the category (or the file's defaults); undefined (and reported) when it does not compile. */
  compile(path: PropertyKey[], text: string): Template | undefined;
}

function compileCategory(
  spec: CategorySpec,
  defaults: CategoryDefaults | undefined,
  context: RuleContext,
  site: CompileSite,
): Category | undefined {
  let ok = true;
  const matchers: Matcher[] = [];
  spec.match.forEach((text, j) => {
    try {
      matchers.push(...parseMatchers(text));
    } catch (err) {
      if (!(err instanceof MatcherSyntaxError)) throw err;
      site.report(['match', j], err.message);
      ok = false;
    }
  });
  const template = (p: PropertyKey[], text: string | undefined, fallback?: string): Template | undefined => {
    const src = text ?? fallback;
    if (src === undefined) return undefined;
    const compiled = site.compile(p, src);
    if (!compiled) ok = false;
    return compiled;
  };
  const ticket = { ...defaults?.ticket, ...spec.ticket };
  const diagnosis = { ...defaults?.diagnosis, ...spec.diagnosis };
  const flapping = { ...defaults?.flapping, ...spec.flapping };
  const subject = template(['ticket', 'subject'], ticket.subject, DEFAULT_SUBJECT);
  const body = template(['ticket', 'body'], ticket.body, DEFAULT_BODY);
  const system = ticket.system ?? context.defaultSystem;
  if (!context.systems.includes(system)) {
    site.report(['ticket', 'system'], `ticket system "${system}" is not configured under tickets in the config`);
    ok = false;
  }
  if ((spec.notify ?? defaults?.notify) && !context.email) {
    site.report(spec.notify ? ['notify'] : [], 'notify needs e-mail: set email (smtp, from) in the config');
    ok = false;
  }
  const tier = spec.tier ?? defaults?.tier;
  if (tier !== undefined && !(context.tiers ?? []).includes(tier)) {
    site.report(spec.tier !== undefined ? ['tier'] : [], context.tiers?.length ? `tier "${tier}" is not one of the config's tiers (${context.tiers.join(', ')})` : `tier "${tier}" needs tiers in the config`);
    ok = false;
  }
  const fields: Record<string, CompiledField> = {};
  const fieldSpecs = { ...context.systemFields[system], ...defaults?.ticket?.fields, ...spec.ticket?.fields };
  for (const [name, value] of Object.entries(fieldSpecs)) {
    const compiled = compileField(value, site.compile, ['ticket', 'fields', name]);
    if (compiled) fields[name] = compiled;
    else ok = false;
  }
  const hints = (diagnosis.hints ?? []).map((h, j) => template(['diagnosis', 'hints', j], h));
  const runbook = template(['diagnosis', 'runbook'], diagnosis.runbook);
  const graph = template(['diagnosis', 'graph'], diagnosis.graph);
  if (!ok || !subject || !body) return undefined;
  return {
    name: spec.name,
    order: site.order,
    file: site.file,
    line: site.line,
    column: site.column,
    matchers,
    faultKey: spec.fault_key ?? defaults?.fault_key,
    severity: severityRule(spec.severity ?? defaults?.severity),
    repairTime: spec.repair_time ?? defaults?.repair_time ?? DEFAULT_REPAIR_TIME,
    priority: [...(spec.priority ?? defaults?.priority ?? DEFAULT_PRIORITY_BANDS)].sort((x, y) => y.min - x.min),
    ticket: {
      system,
      subject,
      body,
      solveOnResolve: ticket.solve_on_resolve ?? true,
      fields,
    },
    diagnosis: { runbook, graph, hints: hints.filter((h): h is Template => h !== undefined) },
    notify: spec.notify ?? defaults?.notify,
    updateIntervalMs: spec.update_interval ?? defaults?.update_interval ?? context.updateIntervalMs,
    reopenWithinMs: spec.reopen_within ?? defaults?.reopen_within ?? context.reopenWithinMs,
    flapping: {
      changes: flapping.changes ?? context.flapping.changes,
      windowMs: flapping.window ?? context.flapping.windowMs,
      quietMs: flapping.quiet ?? context.flapping.quietMs,
    },
    action: spec.action ?? defaults?.action ?? 'ticket',
    tier: spec.tier ?? defaults?.tier ?? context.startTier,
    writeback: spec.writeback ?? defaults?.writeback,
  };
}

function severityRule(spec: CategorySpec['severity']): SeverityRule {
  if (typeof spec === 'number') return { fixed: spec, map: {}, default: spec };
  const map: Record<string, number> = {};
  for (const [k, v] of Object.entries(spec?.map ?? DEFAULT_SEVERITY_MAP)) map[k.toLowerCase()] = v;
  return {
    label: spec?.label ?? (spec?.numeric_label ? undefined : 'severity'),
    map,
    numericLabel: spec?.numeric_label,
    default: spec?.default ?? 5,
  };
}

function builtinFallback(context: RuleContext, templates: TemplateEngine): Category {
  return {
    name: 'uncategorized',
    order: 0,
    file: '<built-in>',
    line: 0,
    column: 0,
    matchers: [],
    severity: severityRule(undefined),
    repairTime: DEFAULT_REPAIR_TIME,
    priority: DEFAULT_PRIORITY_BANDS,
    ticket: {
      system: context.defaultSystem,
      subject: templates.compile(DEFAULT_SUBJECT),
      body: templates.compile(DEFAULT_BODY),
      solveOnResolve: true,
      fields: {},
    },
    diagnosis: { hints: [] },
    updateIntervalMs: context.updateIntervalMs,
    reopenWithinMs: context.reopenWithinMs,
    flapping: context.flapping,
    action: 'ticket',
    tier: context.startTier,
  };
}
