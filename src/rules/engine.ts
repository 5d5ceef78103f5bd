import type { Alert } from '../sources';
import type { Category } from './category';
import type { Matcher } from './matcher';
import type { LoadedRules } from './loader';

/** What the rules say about one alert. */
export interface Classification {
  category: Category;
  /** Canonical text of the fault identity within the category, e.g. `{job="api",instance="a:9100"}`. */
  key: string;
  keyLabels: Record<string, string>;
  /** Fault severity 1–10. */
  fs: number;
}

/** Labels preferred as the index key of a category: the most selective in practice. */
const PREFERRED_INDEX_LABELS = ['alertname', 'job', 'service'];

interface IndexKey {
  name: string;
  values: string[];
  prefix: boolean;
}

const LITERAL = /^(?:[A-Za-z0-9_:/ @-]|\\\.)+$/;
const unescape = (lit: string) => lit.replace(/\\\./g, '.');

/**
 * What a matcher needs of its label, when it can be looked up instead of
 * tested: one value (`=`), one of a few literal values (`=~"A|B|C"`), or a
 * literal prefix (`=~"web-.*"`).
 */
function lookupKey(m: Matcher): IndexKey | undefined {
  if (m.type === '=') return { name: m.name, values: [m.value], prefix: false };
  if (m.type !== '=~') return undefined;
  const body = m.value.startsWith('(') && m.value.endsWith(')') && !m.value.startsWith('(?') ? m.value.slice(1, -1) : m.value;
  const alternatives = body.split('|');
  if (alternatives.every((a) => LITERAL.test(a))) return { name: m.name, values: alternatives.map(unescape), prefix: false };
  if (alternatives.length === 1 && body.endsWith('.*') && LITERAL.test(body.slice(0, -2))) {
    return { name: m.name, values: [unescape(body.slice(0, -2))], prefix: true };
  }
  return undefined;
}

/** The most selective lookup a category offers: equality on a preferred label first, then any lookup. */
function indexKey(matchers: readonly Matcher[]): IndexKey | undefined {
  const keys = matchers.map(lookupKey).filter((k): k is IndexKey => k !== undefined);
  const rank = (k: IndexKey) => (k.prefix ? 3 : k.values.length > 1 ? 2 : PREFERRED_INDEX_LABELS.includes(k.name) ? 0 : 1);
  return keys.sort((a, b) => rank(a) - rank(b))[0];
}

/**
 * First-match-wins classification. Each category is filed under one of its
 * equality matchers, so an alert is only tested against the categories whose
 * indexed label value it carries, plus those that have no equality matcher.
 */
export class RuleEngine {
  /** label → value → categories whose matcher on that label needs exactly that value (or one of a few). */
  private readonly index = new Map<string, Map<string, number[]>>();
  /** label → literal prefix → categories whose matcher on that label needs a value starting with it. */
  private readonly prefixes = new Map<string, Map<string, number[]>>();
  private readonly unindexed: number[] = [];
  private readonly byName = new Map<string, Category>();

  constructor(readonly rules: LoadedRules) {
    for (const c of [...rules.categories, rules.fallback]) this.byName.set(c.name, c);
    rules.categories.forEach((category, i) => {
      const key = indexKey(category.matchers);
      if (!key) {
        this.unindexed.push(i);
        return;
      }
      const table = key.prefix ? this.prefixes : this.index;
      let byValue = table.get(key.name);
      if (!byValue) table.set(key.name, (byValue = new Map()));
      for (const value of key.values) {
        const list = byValue.get(value);
        if (list) {
          if (list[list.length - 1] !== i) list.push(i);
        } else byValue.set(value, [i]);
      }
    });
  }

  /** The category of that name (the fallback included), if the rules have it. */
  category(name: string): Category | undefined {
    return this.byName.get(name);
  }

  get categories(): readonly Category[] {
    return this.rules.categories;
  }

  /** The matching category, or the fallback category. */
  match(labels: Readonly<Record<string, string>>): Category {
    const lists: number[][] = [];
    for (const [name, byValue] of this.index) {
      const list = byValue.get(labels[name] ?? '');
      if (list) lists.push(list);
    }
    for (const [name, byPrefix] of this.prefixes) {
      const value = labels[name] ?? '';
      for (let n = 0; n <= value.length; n++) {
        const list = byPrefix.get(value.slice(0, n));
        if (list) lists.push(list);
      }
    }
    if (this.unindexed.length > 0) lists.push(this.unindexed);
    const categories = this.rules.categories;
    if (lists.length === 1) {
      for (const i of lists[0] as number[]) {
        const c = categories[i] as Category;
        if (c.matchers.every((m) => m.matches(labels))) return c;
      }
      return this.rules.fallback;
    }
    // k-way merge of the sorted candidate lists, so categories are tried in rule order.
    const heads = lists.map(() => 0);
    let last = -1;
    for (;;) {
      let best = -1;
      let bestIndex = Infinity;
      lists.forEach((list, k) => {
        const v = list[heads[k] as number];
        if (v !== undefined && v < bestIndex) {
          bestIndex = v;
          best = k;
        }
      });
      if (best < 0) return this.rules.fallback;
      heads[best] = (heads[best] as number) + 1;
      if (bestIndex === last) continue; // listed twice (two prefixes of one value)
      last = bestIndex;
      const c = categories[bestIndex] as Category;
      if (c.matchers.every((m) => m.matches(labels))) return c;
    }
  }

  classify(alert: Pick<Alert, 'labels'>): Classification {
    const category = this.match(alert.labels);
    const { key, keyLabels } = faultKey(category, alert.labels);
    return { category, key, keyLabels, fs: severityOf(category, alert.labels) };
  }
}

export function faultKey(category: Category, labels: Readonly<Record<string, string>>) {
  const names = category.faultKey ?? Object.keys(labels).sort();
  const keyLabels: Record<string, string> = {};
  const parts: string[] = [];
  for (const name of names) {
    const value = labels[name] ?? '';
    keyLabels[name] = value;
    parts.push(`${name}=${JSON.stringify(value)}`);
  }
  return { key: `{${parts.join(',')}}`, keyLabels };
}

export function severityOf(category: Category, labels: Readonly<Record<string, string>>): number {
  const rule = category.severity;
  if (rule.fixed !== undefined) return rule.fixed;
  if (rule.numericLabel) {
    const n = Number(labels[rule.numericLabel]);
    if (labels[rule.numericLabel] !== undefined && Number.isFinite(n)) return Math.min(10, Math.max(1, Math.round(n)));
  }
  if (rule.label) {
    const value = labels[rule.label];
    if (value !== undefined) {
      const mapped = rule.map[value.toLowerCase()];
      if (mapped !== undefined) return mapped;
    }
  }
  return rule.default;
}

export function priorityOf(category: Category, fs: number): string {
  return (category.priority.find((band) => fs >= band.min) ?? category.priority[category.priority.length - 1])?.value ?? 'normal';
}
