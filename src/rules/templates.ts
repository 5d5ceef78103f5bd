import Handlebars from 'handlebars';
import { RE2JS } from 're2js';
import { formatDuration } from '../config';
import { templateError, type TemplateError } from './template-errors';
import { BUILTIN_HELPERS, unknownVariables } from './template-lint';

export { TemplateError } from './template-errors';

/** A compiled template; `render` never throws for missing fields (they render empty). */
export interface Template {
  source: string;
  render(context: object): string;
}

export type TemplateTarget = 'text' | 'html';

/**
 * One Handlebars environment with faultdesk's helpers. Text templates (subjects,
 * ticket bodies in Markdown) are not escaped; HTML templates escape every value.
 */
export function createTemplateEngine() {
  const hb = Handlebars.create();
  hb.registerHelper('join', (list: unknown, sep: unknown) =>
    Array.isArray(list) ? list.join(typeof sep === 'string' ? sep : ', ') : '',
  );
  hb.registerHelper('default', (value: unknown, fallback: unknown) =>
    value === undefined || value === null || value === '' ? fallback : value,
  );
  hb.registerHelper('hours', (h: unknown) => (typeof h === 'number' ? formatDuration(h * 3_600_000) : ''));
  hb.registerHelper('upper', (s: unknown) => (typeof s === 'string' ? s.toUpperCase() : ''));
  hb.registerHelper('truncate', (s: unknown, n: unknown) => {
    const text = typeof s === 'string' ? s : '';
    const max = typeof n === 'number' ? n : 80;
    return text.length > max ? `${text.slice(0, Math.max(0, max - 1))}…` : text;
  });
  // Whether a text already says something: "{{#unless (contains labels.alertname labels.host)}} on {{labels.host}}{{/unless}}".
  hb.registerHelper('contains', (text: unknown, part: unknown) =>
    typeof text === 'string' && typeof part === 'string' && part !== '' && text.toLowerCase().includes(part.toLowerCase()),
  );
  // The first group a regex (RE2, unanchored) captures in a text, or the whole match without groups; "" without a match.
  const patterns = new Map<string, RE2JS>();
  hb.registerHelper('capture', (text: unknown, pattern: unknown) => {
    if (typeof text !== 'string' || typeof pattern !== 'string') return '';
    let re = patterns.get(pattern);
    if (!re) {
      re = RE2JS.compile(pattern);
      patterns.set(pattern, re);
    }
    const m = re.matcher(text);
    if (!m.find()) return '';
    for (let g = 1; g <= m.groupCount(); g++) {
      const value = m.group(g);
      if (value) return value;
    }
    return m.groupCount() === 0 ? (m.group(0) ?? '') : '';
  });
  hb.registerHelper('labelset', (labels: unknown) =>
    labels && typeof labels === 'object'
      ? Object.entries(labels as Record<string, string>)
          .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
          .join(', ')
      : '',
  );

  const own = Object.keys(hb.helpers).filter((name) => !['helperMissing', 'blockHelperMissing'].includes(name));
  const helpers = new Set<string>([...BUILTIN_HELPERS, ...own]);
  // Only known helpers: "{{lower priority}}" is an error when the template is loaded, not when a ticket is due.
  const options = (target: TemplateTarget) => ({
    noEscape: target === 'text',
    strict: false,
    knownHelpersOnly: true,
    knownHelpers: Object.fromEntries([...helpers].map((h) => [h, true])),
  });

  return {
    /** The helpers templates may call. */
    helpers: helpers as ReadonlySet<string>,

    /** Names a template reads that are not in `known` (the names of the context it is rendered with). */
    unknownVariables(source: string, known: ReadonlySet<string>): TemplateError[] {
      return unknownVariables(source, known, helpers);
    },

    /** Compiles now, so that a broken template is reported at load time, not at the first alert; throws a TemplateError. */
    compile(source: string, target: TemplateTarget = 'text'): Template {
      try {
        // precompile parses the whole template and throws on any syntax error.
        hb.precompile(source, options(target));
      } catch (err) {
        throw templateError(source, err, helpers);
      }
      const fn = hb.compile(source, options(target));
      return { source, render: (context) => fn(context, { allowProtoPropertiesByDefault: false }) };
    },
  };
}

export type TemplateEngine = ReturnType<typeof createTemplateEngine>;
