import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';

/** Where the console's templates and static files live: next to this module in src/ and, copied by `npm run build`, in dist/. */
export const ASSETS = path.join(__dirname, 'assets');

export interface PageFrame {
  title: string;
  /** Which navigation entry is current. */
  nav: string;
  user: { name: string; role: string } | undefined;
  /** The session's CSRF token, for every form. */
  csrf: string;
  /** The open console (no credentials): no login or logout. */
  secured: boolean;
  canAct: boolean;
}

/**
 * The console's pages: Handlebars templates, which escape every `{{value}}`
 * for HTML. No template uses the triple-stash; the only HTML that is not
 * escaped by a template is Markdown that went through markdown-it with raw
 * HTML off and sanitize-html (src/tickets/markdown.ts), passed as a SafeString.
 */
export class ConsoleViews {
  private readonly hb = Handlebars.create();
  private readonly pages = new Map<string, Handlebars.TemplateDelegate>();
  private readonly layout: Handlebars.TemplateDelegate;

  constructor(dir: string = path.join(ASSETS, 'views')) {
    this.hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
    this.hb.registerHelper('compact', (v: unknown) => JSON.stringify(v));
    // A link only to the web: javascript:, data: and the like are shown as text by the templates.
    this.hb.registerHelper('webUrl', (v: unknown) => (typeof v === 'string' && /^https?:\/\//i.test(v.trim()) ? v.trim() : undefined));
    for (const file of readdirSync(path.join(dir, 'partials'))) {
      const source = readFileSync(path.join(dir, 'partials', file), 'utf8');
      this.hb.registerPartial(path.basename(file, '.hbs'), source);
      this.pages.set(path.basename(file, '.hbs'), this.hb.compile(source));
    }
    for (const file of readdirSync(dir)) {
      if (!file.endsWith('.hbs')) continue;
      const compiled = this.hb.compile(readFileSync(path.join(dir, file), 'utf8'), { strict: false, noEscape: false });
      this.pages.set(path.basename(file, '.hbs'), compiled);
    }
    this.layout = this.get('layout');
  }

  /** A whole page: the named template inside the layout. */
  page(name: string, frame: PageFrame, data: object): string {
    const content = new this.hb.SafeString(this.get(name)({ ...data, frame }));
    return this.layout({ frame, content });
  }

  /** A template alone (the faults table the page polls for). */
  fragment(name: string, data: object): string {
    return this.get(name)(data);
  }

  /** Sanitised HTML (see above) for a template to insert. */
  safe(html: string): Handlebars.SafeString {
    return new this.hb.SafeString(html);
  }

  private get(name: string): Handlebars.TemplateDelegate {
    const t = this.pages.get(name);
    if (!t) throw new Error(`no console template ${name}`);
    return t;
  }
}
