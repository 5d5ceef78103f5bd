/** What a category gets when neither it nor its file sets a value. */

export const DEFAULT_SEVERITY_MAP: Record<string, number> = {
  page: 9,
  critical: 8,
  error: 7,
  high: 7,
  warning: 5,
  average: 5,
  info: 2,
  information: 2,
  none: 1,
};

export const DEFAULT_PRIORITY_BANDS = [
  { min: 9, value: 'urgent' },
  { min: 7, value: 'high' },
  { min: 4, value: 'normal' },
  { min: 1, value: 'low' },
];

export const DEFAULT_REPAIR_TIME = { a: 1, b: 0.5 };

/** What is broken and where, first; the summary after it. */
export const DEFAULT_SUBJECT =
  '[{{upper priority}}] {{#if labels.alertname}}{{labels.alertname}}{{else}}{{category}}{{/if}}' +
  '{{#if where}}{{#unless (contains labels.alertname where)}} on {{where}}{{/unless}}{{/if}}' +
  '{{#if annotations.summary}}: {{annotations.summary}}{{/if}}';

/** Markdown, so it reads well both as plain text and where the ticket system renders it. */
export const DEFAULT_BODY = `{{#if annotations.summary}}**{{annotations.summary}}**

{{/if}}{{#if annotations.description}}{{annotations.description}}

{{/if}}{{#if longOutput}}Output:

\`\`\`
{{longOutput}}
\`\`\`
{{#if longOutputOmitted}}({{longOutputOmitted}} more lines in the attached fault record)
{{/if}}
{{/if}}- Priority: {{priority}} (fault severity {{fs}}/10)
- Estimated repair time: {{repairTime}}, due {{dueAt}}{{#if dueIn}} ({{dueIn}}){{/if}}
- Opened: {{openedAt}}
- Category: {{category}} (rule {{rule}})
- Fault key: {{key}}
{{#if runbook}}- Runbook: {{runbook}}
{{/if}}{{#if graph}}- Graph: {{graph}}
{{/if}}{{#if sourceLink}}- {{sourceLink.label}}: {{sourceLink.url}}
{{/if}}{{#if hints.length}}
Diagnosis:
{{#each hints}}- {{this}}
{{/each}}{{/if}}
Alerts ({{firingCount}} firing of {{alertCount}}):
{{#each alerts}}- [{{status}}] {{labelset labels}} since {{startsAt}}{{#if generatorURL}} ({{generatorURL}}){{/if}}
{{/each}}{{#if alertsOmitted}}- and {{alertsOmitted}} more: see the attached fault record
{{/if}}

The fault record is attached to this ticket (Markdown and JSON). Fault id: {{faultId}}
`;
