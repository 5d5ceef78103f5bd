import { createTemplateEngine, TemplateError } from '../../src/rules/templates';

function compileError(source: string): { message: string; line?: number; column?: number } {
  try {
    createTemplateEngine().compile(source);
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    return { message: err.message, line: err.line, column: err.column };
  }
  throw new Error(`expected ${JSON.stringify(source)} not to compile`);
}

describe('a template that does not compile says why in one line, with its position in the template', () => {
  test.each([
    ['{{#if labels.x}}unclosed', '"{{#if …}}" is not closed: add "{{/if}}"', 1, 0],
    ['ok\n  {{#each alerts}}{{#if x}}{{/if}}', '"{{#each …}}" is not closed: add "{{/each}}"', 2, 2],
    ['{{labels.host', '"{{" is not closed with "}}"', 1, 0],
    ['a {{x}} b {{y', '"{{" is not closed with "}}"', 1, 10],
    ['{{#if a}}x{{/each}}', '"{{#if …}}" is closed by "{{/each}}": close it with "{{/if}}"', 1, 3],
    ['x\n{{foo bar=}}', 'unexpected "}}"; expected a name or value', 2, 10],
    ['{{#with labels}}{{else}}{{else}}{{/with}}', 'unexpected "{{else}}"; expected a closing "{{/…}}"', 1, 24],
  ])('%j', (source, message, line, column) => {
    expect(compileError(source)).toEqual({ message, line, column });
  });

  test('the shared Handlebars parser works as before after a located failure', () => {
    const engine = createTemplateEngine();
    compileError('{{#if x}}');
    expect(engine.compile('{{#if x}}yes{{else}}no{{/if}}').render({ x: true })).toBe('yes');
    expect(() => engine.compile('{{')).toThrow(TemplateError);
    expect(engine.compile('{{upper y}}').render({ y: 'a' })).toBe('A');
  });
});

describe('helpers', () => {
  const render = (source: string, context: object) => createTemplateEngine().compile(source).render(context);

  test('contains: whether a text already says something, ignoring case', () => {
    const t = '{{labels.alertname}}{{#unless (contains labels.alertname labels.host)}} on {{labels.host}}{{/unless}}';
    expect(render(t, { labels: { alertname: 'High CPU on DB-01', host: 'db-01' } })).toBe('High CPU on DB-01');
    expect(render(t, { labels: { alertname: 'High CPU', host: 'db-01' } })).toBe('High CPU on db-01');
    expect(render(t, { labels: { alertname: 'High CPU' } })).toBe('High CPU on ');
  });

  test('capture: the first group an RE2 regex captures, or nothing', () => {
    const t = '{{#with (capture name "FS \\[([^\\]]+)\\]|on volume (\\S+)")}}du -xh {{this}}{{/with}}';
    expect(render(t, { name: 'Linux: FS [/var/lib]: Space is low' })).toBe('du -xh /var/lib');
    expect(render(t, { name: 'Free disk space is less than 20% on volume /srv' })).toBe('du -xh /srv');
    expect(render(t, { name: 'High CPU' })).toBe('');
    expect(render('{{capture s "\\d+"}}', { s: 'load 42 now' })).toBe('42');
    expect(() => render('{{capture s "(a"}}', { s: 'x' })).toThrow(/missing closing \)/);
  });
});
