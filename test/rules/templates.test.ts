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
