import type { Category } from './category';
import type { LoadedRules } from './loader';
import type { Matcher } from './matcher';

export interface TriedCategory {
  category: string;
  rule: string;
  matched: boolean;
  /** The first matcher that did not match, when the category did not. */
  failedMatcher?: string;
}

/** Every category in rule order up to the first that matches, and why each earlier one did not. */
export function tryCategories(rules: LoadedRules, labels: Readonly<Record<string, string>>): { tried: TriedCategory[]; chosen: Category } {
  const tried: TriedCategory[] = [];
  for (const c of rules.categories) {
    const failed = c.matchers.find((m) => !m.matches(labels));
    tried.push({ category: c.name, rule: `${c.file}:${c.line}`, matched: !failed, ...(failed ? { failedMatcher: String(failed) } : {}) });
    if (!failed) return { tried, chosen: c };
  }
  const f = rules.fallback;
  tried.push({ category: f.name, rule: `${f.file}:${f.line}`, matched: true });
  return { tried, chosen: f };
}

export interface ShadowWarning {
  category: Category;
  by: Category;
}

/**
 * Categories that can never match because an earlier category catches every
 * alert they would: each matcher of the earlier one is implied by the later
 * one's matchers. Conservative: it reports only what it can prove.
 */
export function findShadowed(rules: LoadedRules): ShadowWarning[] {
  const warnings: ShadowWarning[] = [];
  rules.categories.forEach((later, j) => {
    for (const earlier of rules.categories.slice(0, j)) {
      if (earlier.matchers.every((a) => implied(later.matchers, a))) {
        warnings.push({ category: later, by: earlier });
        return;
      }
    }
  });
  return warnings;
}

/** A regex that matches every value, including the empty one (a missing label). */
function matchesEverything(m: Matcher): boolean {
  return m.type === '=~' && ['.*', '(?s).*', '(?s:.*)', '.*?'].includes(m.value);
}

/** Whether every label set satisfying all of `given` also satisfies `target`. */
function implied(given: readonly Matcher[], target: Matcher): boolean {
  if (matchesEverything(target)) return true;
  return given.some((g) => {
    if (g.name !== target.name) return false;
    if (g.type === target.type && g.value === target.value) return true;
    // An equality pins the value: the target can be evaluated on it.
    if (g.type === '=') return target.matches({ [g.name]: g.value });
    // "not v" is implied by a regex that cannot produce v: test v against it.
    if (target.type === '!=' && g.type === '=~') return !g.matches({ [g.name]: target.value });
    return false;
  });
}
