// Writes dashboards/faultdesk.json. Run after editing: node dashboards/build-dashboard.mjs (--stdout to print it)
import { writeFileSync } from 'node:fs';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const ds = { type: 'prometheus', uid: '${DS_PROMETHEUS}' };
const sel = 'job=~"$job", instance=~"$instance"';
// Gauges read from the store (faults, outbox, at risk, satisfaction) are the same at every replica of one
// deployment, since the replicas share the database: take them once per job with max, then sum over jobs.

let id = 0;
let y = 0;
function row(title) {
  const panel = { id: ++id, type: 'row', title, collapsed: false, gridPos: { x: 0, y, w: 24, h: 1 }, panels: [] };
  y += 1;
  return panel;
}
/** A row of panels, each as wide as the row allows. */
function panels(specs, h = 8) {
  const w = Math.floor(24 / specs.length);
  const out = specs.map((p, i) => ({
    id: ++id,
    type: p.type ?? 'timeseries',
    title: p.title,
    description: p.description,
    datasource: ds,
    gridPos: { x: i * w, y, w, h },
    fieldConfig: { defaults: { unit: p.unit ?? 'short' }, overrides: [] },
    options: p.type === 'stat' ? { reduceOptions: { calcs: ['lastNotNull'] }, colorMode: 'value' } : { legend: { displayMode: 'list', placement: 'bottom' } },
    targets: p.targets.map((t, k) => ({ refId: String.fromCharCode(65 + k), expr: t.expr, legendFormat: t.legend ?? '' })),
  }));
  y += h;
  return out;
}

const dashboard = {
  __inputs: [{ name: 'DS_PROMETHEUS', label: 'Prometheus', type: 'datasource', pluginId: 'prometheus', pluginName: 'Prometheus' }],
  __requires: [{ type: 'datasource', id: 'prometheus', name: 'Prometheus', version: '1.0.0' }],
  uid: 'faultdesk',
  title: 'faultdesk',
  description: 'Alerts in, faults, tickets, outbox, e-mail, repair times and customer satisfaction of faultdesk.',
  tags: ['faultdesk', 'alerting', 'tickets'],
  schemaVersion: 39,
  version: 1,
  editable: true,
  time: { from: 'now-6h', to: 'now' },
  refresh: '30s',
  annotations: { list: [] },
  templating: {
    list: [
      { name: 'DS_PROMETHEUS', label: 'Prometheus', type: 'datasource', query: 'prometheus', current: {}, hide: 0 },
      { name: 'job', label: 'job', type: 'query', datasource: ds, query: 'label_values(faultdesk_build_info, job)', refresh: 2, includeAll: true, multi: true, current: { text: 'All', value: '$__all' } },
      { name: 'instance', label: 'instance', type: 'query', datasource: ds, query: 'label_values(faultdesk_build_info{job=~"$job"}, instance)', refresh: 2, includeAll: true, multi: true, current: { text: 'All', value: '$__all' } },
    ],
  },
  panels: [
    row('Alerts and faults'),
    ...panels([
      { title: 'Alerts in, by source and outcome', unit: 'reqps', targets: [{ expr: `sum by (source, outcome) (rate(faultdesk_alerts_received_total{${sel}}[5m]))`, legend: '{{source}} {{outcome}}' }] },
      { title: 'Faults by category and state', targets: [{ expr: `sum by (category, state) (max by (job, category, state) (faultdesk_faults{${sel}, state!="resolved"}))`, legend: '{{category}} {{state}}' }] },
      { title: 'Faults at risk (past their due time)', type: 'stat', targets: [{ expr: `sum(max by (job) (faultdesk_faults_at_risk{${sel}}))` }] },
    ]),
    ...panels([
      { title: 'Fault transitions', unit: 'ops', targets: [{ expr: `sum by (transition) (rate(faultdesk_fault_transitions_total{${sel}}[5m]))`, legend: '{{transition}}' }] },
      { title: 'Rejected webhook requests', unit: 'reqps', targets: [{ expr: `sum by (source, reason) (rate(faultdesk_payloads_rejected_total{${sel}}[5m]))`, legend: '{{source}} {{reason}}' }] },
      { title: 'HTTP latency p50 / p99', unit: 's', targets: [
        { expr: `histogram_quantile(0.99, sum by (le, route) (rate(faultdesk_http_request_duration_seconds_bucket{${sel}}[5m])))`, legend: 'p99 {{route}}' },
        { expr: `histogram_quantile(0.5, sum by (le, route) (rate(faultdesk_http_request_duration_seconds_bucket{${sel}}[5m])))`, legend: 'p50 {{route}}' },
      ] },
    ]),
    row('Tickets and outbox'),
    ...panels([
      { title: 'Ticket operations by system and operation', unit: 'ops', targets: [{ expr: `sum by (system, operation) (rate(faultdesk_ticket_operations_total{${sel}, result="ok"}[5m]))`, legend: '{{system}} {{operation}}' }] },
      { title: 'Ticket API errors by reason', unit: 'ops', targets: [{ expr: `sum by (system, reason) (rate(faultdesk_ticket_api_errors_total{${sel}}[5m]))`, legend: '{{system}} {{reason}}' }] },
      { title: 'Outbox depth (undelivered; parked: waiting for an operator)', targets: [
        { expr: `sum by (system) (max by (job, system) (faultdesk_outbox_depth{${sel}}))`, legend: '{{system}}' },
        { expr: `sum by (system) (max by (job, system) (faultdesk_outbox_parked{${sel}}))`, legend: 'parked {{system}}' },
      ] },
      { title: 'Oldest undelivered operation', unit: 's', targets: [{ expr: `max by (system) (faultdesk_outbox_oldest_age_seconds{${sel}})`, legend: '{{system}}' }] },
    ]),
    ...panels([
      { title: 'Mails sent, failed and held back', unit: 'ops', targets: [
        { expr: `sum by (event) (rate(faultdesk_emails_sent_total{${sel}}[5m]))`, legend: 'sent {{event}}' },
        { expr: `sum by (reason) (rate(faultdesk_emails_failed_total{${sel}}[5m]))`, legend: 'failed {{reason}}' },
        { expr: `sum by (reason) (rate(faultdesk_emails_suppressed_total{${sel}}[5m]))`, legend: 'held back {{reason}}' },
      ] },
      { title: 'Scheduled job duration (p95)', unit: 's', targets: [{ expr: `histogram_quantile(0.95, sum by (le, name) (rate(faultdesk_job_duration_seconds_bucket{${sel}}[1h])))`, legend: '{{name}}' }] },
      { title: 'Config reload', type: 'stat', targets: [{ expr: `min(faultdesk_config_last_reload_successful{${sel}})`, legend: 'last reload ok' }] },
    ]),
    row('Repair time and satisfaction'),
    ...panels([
      { title: 'Estimated vs actual repair time (median, by category)', unit: 'h', targets: [
        { expr: `histogram_quantile(0.5, sum by (le, category) (rate(faultdesk_fault_estimated_repair_hours_bucket{${sel}}[1d])))`, legend: 'estimated {{category}}' },
        { expr: `histogram_quantile(0.5, sum by (le, category) (rate(faultdesk_fault_repair_hours_bucket{${sel}}[1d])))`, legend: 'actual {{category}}' },
      ] },
      { title: 'Customer satisfaction (CSS, 1–10)', targets: [{ expr: `max by (category) (faultdesk_satisfaction_score{${sel}})`, legend: '{{category}}' }] },
    ]),
  ],
};

const text = JSON.stringify(dashboard, null, 2) + '\n';
// --stdout: print instead of writing, so a test can compare with the committed file.
if (process.argv.includes('--stdout')) process.stdout.write(text);
else writeFileSync(path.join(here, 'faultdesk.json'), text);
