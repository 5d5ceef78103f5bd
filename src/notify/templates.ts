import type { MailEvent } from '../config/schema';
import { agoText, formatTime, renderSubject, ticketContext, type TemplateFailure } from '../faults';
import { createTemplateEngine, type Category } from '../rules';
import type { AlertRow, FaultRow } from '../store';
import type { MailSnapshot } from './planner';

const TITLES: Record<MailEvent | 'digest', string> = {
  open: 'Opened',
  escalate: 'Escalated',
  resolve: 'Resolved',
  reopen: 'Reopened',
  at_risk: 'At risk',
  flapping: 'Flapping',
  digest: 'Opened',
};

/** Alerts listed in a mail; the ticket's record has them all. */
const ALERTS_IN_MAIL = 10;

const TEXT = `{{title}}: {{headline}}

{{#if changes.length}}What changed{{#if previousAt}} since the last mail ({{previousAt}}){{/if}}:
{{#each changes}}- {{this}}
{{/each}}
{{/if}}Fault:     {{category}} {{key}} ({{state}})
Severity:  FS {{fs}}/10, priority {{priority}}
Opened:    {{openedAt}} ({{openedAgo}})
Repair:    estimated {{repairTime}}, due {{dueAt}}{{#if dueIn}} ({{dueIn}}){{/if}}
Ticket:    {{#if ticket}}{{ticket.system}} {{ticket.id}}{{#if ticket.url}} {{ticket.url}}{{/if}}{{else}}{{ticketSystem}}, being created{{/if}}
{{#if runbook}}Runbook:   {{runbook}}
{{/if}}{{#if link}}faultdesk: {{link}}
{{/if}}
Alerts ({{firingCount}} firing of {{alertCount}}):
{{#each alerts}}- [{{status}}] {{labelset labels}} since {{startsAt}} ({{startsAgo}}){{#if generatorURL}}
  {{generatorURL}}{{/if}}
{{/each}}{{#if alertsOmitted}}- and {{alertsOmitted}} more
{{/if}}`;

const HTML = `<!doctype html>
<html><body style="font-family: sans-serif">
<h2>{{title}}: {{headline}}</h2>
{{#if changes.length}}<p><b>What changed{{#if previousAt}} since the last mail ({{previousAt}}){{/if}}:</b></p>
<ul>{{#each changes}}<li>{{this}}</li>{{/each}}</ul>{{/if}}
<table cellpadding="4">
<tr><th align="left">Fault</th><td>{{category}} <code>{{key}}</code> ({{state}})</td></tr>
<tr><th align="left">Severity</th><td>FS {{fs}}/10, priority {{priority}}</td></tr>
<tr><th align="left">Opened</th><td>{{openedAt}} ({{openedAgo}})</td></tr>
<tr><th align="left">Repair</th><td>estimated {{repairTime}}, due {{dueAt}}{{#if dueIn}} ({{dueIn}}){{/if}}</td></tr>
<tr><th align="left">Ticket</th><td>{{#if ticket}}{{ticket.system}} {{#if ticket.url}}<a href="{{ticket.url}}">{{ticket.id}}</a>{{else}}{{ticket.id}}{{/if}}{{else}}{{ticketSystem}}, being created{{/if}}</td></tr>
{{#if runbook}}<tr><th align="left">Runbook</th><td><a href="{{runbook}}">{{runbook}}</a></td></tr>{{/if}}
{{#if link}}<tr><th align="left">faultdesk</th><td><a href="{{link}}">{{link}}</a></td></tr>{{/if}}
</table>
<p><b>Alerts ({{firingCount}} firing of {{alertCount}}):</b></p>
<ul>{{#each alerts}}<li>[{{status}}] <code>{{labelset labels}}</code> since {{startsAt}} ({{startsAgo}}){{#if generatorURL}} &mdash; <a href="{{generatorURL}}">source</a>{{/if}}</li>{{/each}}{{#if alertsOmitted}}<li>and {{alertsOmitted}} more</li>{{/if}}</ul>
</body></html>
`;

const DIGEST_TEXT = `{{count}} faults opened within a few minutes; one mail for all of them:

{{#each faults}}- [{{upper priority}}] {{title}}
  {{category}} {{key}}, FS {{fs}}, due {{dueAt}}{{#if dueIn}} ({{dueIn}}){{/if}}{{#if ticket}}, ticket {{ticket.system}} {{ticket.id}}{{#if ticket.url}} {{ticket.url}}{{/if}}{{/if}}{{#if link}}
  {{link}}{{/if}}
{{/each}}`;

const DIGEST_HTML = `<!doctype html>
<html><body style="font-family: sans-serif">
<h2>{{count}} faults opened</h2>
<table cellpadding="4" border="1" style="border-collapse: collapse">
<tr><th>Priority</th><th>Fault</th><th>Category</th><th>FS</th><th>Due</th><th>Ticket</th></tr>
{{#each faults}}<tr><td>{{priority}}</td><td>{{#if link}}<a href="{{link}}">{{title}}</a>{{else}}{{title}}{{/if}}</td><td>{{category}} <code>{{key}}</code></td><td>{{fs}}</td><td>{{dueAt}}{{#if dueIn}} ({{dueIn}}){{/if}}</td><td>{{#if ticket}}{{#if ticket.url}}<a href="{{ticket.url}}">{{ticket.system}} {{ticket.id}}</a>{{else}}{{ticket.system}} {{ticket.id}}{{/if}}{{/if}}</td></tr>
{{/each}}</table>
</body></html>
`;

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

/**
 * Mail texts: plain text as it is, HTML with every value escaped. A
 * category's subject template that throws gets a fallback headline and is
 * told to `onTemplateFailure`.
 */
export function createMailTemplates(linkBase: string | undefined, onTemplateFailure: (category: string, failure: TemplateFailure) => void = () => {}) {
  const engine = createTemplateEngine();
  const text = engine.compile(TEXT, 'text');
  const html = engine.compile(HTML, 'html');
  const digestText = engine.compile(DIGEST_TEXT, 'text');
  const digestHtml = engine.compile(DIGEST_HTML, 'html');

  const faultView = (fault: FaultRow, alerts: readonly AlertRow[], category: Category | undefined, now: number) => {
    const failures: TemplateFailure[] = [];
    const ctx = ticketContext(fault, alerts.slice(0, ALERTS_IN_MAIL), category, { now, failures });
    const headline = renderSubject(category, ctx, failures);
    for (const f of failures) onTemplateFailure(fault.category, f);
    return {
      ...ctx,
      alertsOmitted: Math.max(0, fault.alert_count - Math.min(alerts.length, ALERTS_IN_MAIL)),
      headline,
      /** The headline without the "[HIGH]" it may start with, for lists that show the priority on their own. */
      title: withoutPriority(headline, fault.priority),
      ticketSystem: fault.ticket_system,
      ticket: fault.ticket_id ? { system: fault.ticket_system, id: fault.ticket_id, url: fault.ticket_url } : undefined,
      link: linkBase ? `${linkBase.replace(/\/+$/, '')}/api/v1/faults/${fault.id}` : undefined,
    };
  };

  return {
    fault(
      event: MailEvent,
      fault: FaultRow,
      alerts: readonly AlertRow[],
      category: Category | undefined,
      changes: readonly string[],
      previous: MailSnapshot | undefined,
      now: number,
    ): RenderedMail {
      const view = faultView(fault, alerts, category, now);
      const context = {
        ...view,
        title: TITLES[event],
        changes: [...sinceLastMail(fault, previous), ...changes],
        previousAt: previous ? `${formatTime(previous.at)}, ${agoText(previous.at, now)}` : undefined,
      };
      return { subject: `[faultdesk] ${TITLES[event]}: ${view.headline}`, text: text.render(context), html: html.render(context) };
    },

    digest(faults: Array<{ fault: FaultRow; alerts: readonly AlertRow[]; category: Category | undefined }>, now: number): RenderedMail {
      const views = faults.map((f) => faultView(f.fault, f.alerts, f.category, now));
      const context = { count: views.length, faults: views };
      return {
        subject: `[faultdesk] ${views.length} faults opened: ${views.map((v) => v.category).filter((c, i, a) => a.indexOf(c) === i).join(', ')}`,
        text: digestText.render(context),
        html: digestHtml.render(context),
      };
    },
  };
}

export type MailTemplates = ReturnType<typeof createMailTemplates>;

function withoutPriority(headline: string, priority: string): string {
  const prefix = `[${priority.toUpperCase()}]`;
  return headline.toUpperCase().startsWith(prefix) ? headline.slice(prefix.length).trim() : headline;
}

function sinceLastMail(fault: FaultRow, previous: MailSnapshot | undefined): string[] {
  if (!previous) return [];
  const lines: string[] = [];
  if (previous.state !== fault.state) lines.push(`State ${previous.state} → ${fault.state}`);
  if (previous.fs !== fault.severity) lines.push(`Fault severity ${previous.fs} → ${fault.severity}`);
  if (previous.priority !== fault.priority) lines.push(`Priority ${previous.priority} → ${fault.priority}`);
  if (previous.firing !== fault.firing_count) lines.push(`Firing alerts ${previous.firing} → ${fault.firing_count}`);
  if (previous.alerts !== fault.alert_count) lines.push(`Alerts in the fault ${previous.alerts} → ${fault.alert_count}`);
  return lines;
}
