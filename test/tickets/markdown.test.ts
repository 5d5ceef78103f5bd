import { DomUtils, parseDocument } from 'htmlparser2';
import { markdownToHtml } from '../../src/tickets/markdown';

/** Every element of the HTML as a browser would parse it: its tag and attributes. */
function elements(html: string): Array<{ name: string; attribs: Record<string, string> }> {
  return DomUtils.findAll(() => true, parseDocument(html).children).map((e) => ({ name: e.name, attribs: e.attribs }));
}

test('Markdown becomes HTML: bold, lists, line breaks, links', () => {
  expect(markdownToHtml('**disk full** on db-01')).toBe('<p><strong>disk full</strong> on db-01</p>');
  expect(markdownToHtml('- Priority: high\n- Due: 12:00')).toBe('<ul>\n<li>Priority: high</li>\n<li>Due: 12:00</li>\n</ul>');
  // Templates write one fact per line: the lines stay lines.
  expect(markdownToHtml('Escalated: severity 5 → 9.\nDue soon.')).toBe('<p>Escalated: severity 5 → 9.<br />\nDue soon.</p>');
  expect(markdownToHtml('- Runbook: https://wiki.acme.com/rb?a=1&b=2')).toContain('<a href="https://wiki.acme.com/rb?a=1&amp;b=2">https://wiki.acme.com/rb?a=1&amp;b=2</a>');
  expect(markdownToHtml('[graph](https://grafana.acme.com/d/x)')).toBe('<p><a href="https://grafana.acme.com/d/x">graph</a></p>');
});

test.each([
  ['a script tag', '<script>alert(1)</script>'],
  ['an event handler', '<img src=x onerror=alert(1)>'],
  ['an event handler in a link', '<a href="https://x" onmouseover="alert(1)">x</a>'],
  ['a javascript: link', '[click](javascript:alert(1))'],
  ['an autolink to javascript:', '<javascript:alert(1)>'],
  ['a javascript: link with an entity', '[click](jav&#x61;script:alert(1))'],
  ['a data: link', '[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)'],
  ['an iframe', '<iframe src="https://evil.example"></iframe>'],
  ['a style tag', '<style>body{display:none}</style>'],
  ['html inside a code span', '`<script>alert(1)</script>`'],
])('alert text with %s cannot reach the ticket as markup', (_what, text) => {
  const html = markdownToHtml(`**summary** ${text}`);
  expect(html).toContain('<strong>summary</strong>');
  const found = elements(html);
  expect(found.map((e) => e.name).filter((n) => !['p', 'strong', 'a', 'code'].includes(n))).toEqual([]);
  for (const e of found) {
    expect(Object.keys(e.attribs).filter((a) => a !== 'href')).toEqual([]);
    if (e.attribs.href !== undefined) expect(e.attribs.href).toMatch(/^https?:\/\//);
  }
});

test('raw HTML in alert text is shown as text, not dropped', () => {
  expect(markdownToHtml('value <b>5</b> & rising')).toBe('<p>value &lt;b&gt;5&lt;/b&gt; &amp; rising</p>');
});
