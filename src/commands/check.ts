import { loadConfig, SourceError } from '../config';
import { findShadowed, loadRules, type LoadedRules, type RuleContext } from '../rules';
import type { Config } from '../config';

export interface CheckResult {
  /** 0: usable (maybe with warnings); 1: errors. */
  code: number;
  /** One line each: `file:line:column: message` for problems, `…: warning: …` for warnings. */
  lines: string[];
}

/**
 * `faultdesk check`: the config and every rule file, validated without
 * starting anything; every problem at once, then the warnings.
 */
export function check(configFile: string | undefined, env: Record<string, string | undefined>, ruleContext: (c: Config) => RuleContext): CheckResult {
  let config: Config;
  try {
    config = loadConfig({ file: configFile, env });
  } catch (err) {
    return { code: 1, lines: problemLines(err) };
  }
  let rules: LoadedRules;
  try {
    rules = loadRules(config.rules, ruleContext(config));
  } catch (err) {
    return { code: 1, lines: problemLines(err) };
  }
  const lines = findShadowed(rules).map(
    (w) =>
      `${w.category.file}:${w.category.line}:${w.category.column}: warning: category "${w.category.name}" can never match: ` +
      `"${w.by.name}" (${w.by.file}:${w.by.line}) comes first and catches all its alerts`,
  );
  lines.push(`${configFile ?? '(defaults)'}: ok; ${count(rules.files.length, 'rule file')}, ${count(rules.categories.length, 'category', 'categories')}`);
  return { code: 0, lines };
}

function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function problemLines(err: unknown): string[] {
  if (err instanceof SourceError) return err.message.split('\n');
  return [(err as Error).message];
}
