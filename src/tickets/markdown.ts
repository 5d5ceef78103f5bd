import MarkdownIt from 'markdown-it';
import sanitizeHtml from 'sanitize-html';

/**
 * Ticket bodies are Markdown templates filled with alert text, which anyone who
 * can send an alert controls. markdown-it with `html: false` turns raw HTML in
 * that text into visible text and refuses javascript:/vbscript:/data: links;
 * sanitize-html then keeps only the tags Markdown itself produces, as a second
 * line of defence should a plugin or option change ever let more through.
 */
const markdown = new MarkdownIt({ html: false, linkify: true, breaks: true });

const SANITIZE: sanitizeHtml.IOptions = {
  allowedTags: [
    'p', 'br', 'hr', 'strong', 'em', 'del', 's', 'code', 'pre', 'blockquote',
    'ul', 'ol', 'li', 'a', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6',
    'table', 'thead', 'tbody', 'tr', 'th', 'td',
  ],
  allowedAttributes: { a: ['href', 'title'], ol: ['start'] },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowProtocolRelative: false,
  disallowedTagsMode: 'escape',
};

/** Markdown as safe HTML for a ticket system that renders HTML (Zendesk's `html_body`). */
export function markdownToHtml(text: string): string {
  return sanitizeHtml(markdown.render(text), SANITIZE).trim();
}
