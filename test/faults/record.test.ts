import path from 'node:path';
import Handlebars from 'handlebars';
import { ManualClock } from '../../src/clock';
import type { Daemon } from '../../src/main';
import { renderComment, renderRecord } from '../../src/faults';
import { createSources, type SourceName } from '../../src/sources';
import { drain, startTestDaemon, tempDir, testConfig } from '../helpers';

let daemon: Daemon;
let cleanup: () => void;
const clock = new ManualClock(Date.parse('2026-11-24T10:00:00Z'));

beforeAll(async () => {
  const tmp = tempDir();
  cleanup = tmp.cleanup;
  daemon = await startTestDaemon(testConfig(tmp.dir), clock);
});
afterAll(async () => {
  await daemon.stop();
  cleanup();
});

test('the fault record and ticket body tell on-call what is broken, where, how urgent, and what to do', async () => {
  const labels = { alertname: 'NodeFilesystemAlmostOutOfSpace', instance: 'db1:9100', mountpoint: '/var', severity: 'critical' };
  await daemon.faults.ingest('alertmanager', [
    {
      source: 'alertmanager',
      sourceId: 'aa01',
      status: 'firing',
      labels,
      annotations: { summary: '/var on db1 is 97% full', description: 'Only 3% left.\nGrows 1 GB/h.', runbook_url: 'https://runbooks/disk' },
      startsAt: clock.now() - 60_000,
      generatorURL: 'http://prom/graph?g0.expr=disk',
      receivedAt: clock.now(),
    },
  ]);
  await drain(daemon);
  clock.advance(30_000);
  await daemon.faults.ingest('alertmanager', [
    { source: 'alertmanager', sourceId: 'aa01', status: 'resolved', labels, annotations: {}, startsAt: clock.now() - 90_000, endsAt: clock.now(), receivedAt: clock.now() },
  ]);
  await drain(daemon);

  const [fault] = await daemon.store.repos.faults.list({ limit: 1, offset: 0 });
  const alerts = await daemon.store.repos.alerts.listByFault(fault!.id);
  const category = daemon.rules().categories.find((c) => c.name === fault!.category);
  const record = renderRecord(fault!, alerts, category);
  const json = JSON.parse(record.json);
  expect(json).toMatchObject({
    kind: 'faultdesk.fault-record/v1',
    id: fault!.id,
    category: 'node-disk',
    key: '{instance="db1:9100",mountpoint="/var"}',
    rule: { file: path.join(path.resolve(__dirname, '../..'), 'rules/10-prometheus.yaml'), line: expect.any(Number) },
    state: 'resolved',
    severity: 8,
    priority: 'high',
    openedAt: '2026-11-24T10:00:00.000Z',
    resolvedAt: '2026-11-24T10:00:30.000Z',
    diagnosis: {
      runbook: 'https://runbooks/disk',
      graph: 'http://prom/graph?g0.expr=disk',
      hints: ['Largest directories: du -xh /var | sort -rh | head -20', 'Deleted files still held open: lsof +L1'],
    },
    ticket: { system: 'local', id: '1', status: 'solved' },
    alerts: [expect.objectContaining({ sourceId: 'aa01', status: 'resolved', labels, generatorURL: 'http://prom/graph?g0.expr=disk' })],
  });
  expect(json.repairTimeHours).toBeCloseTo(1.5 * Math.log(1 + 0.4 * 8), 6);
  expect(json.timeline.map((e: { event: string }) => e.event)).toEqual(['opened', 'all_alerts_resolved', 'resolved']);
  expect(record.markdown).toContain('# Fault node-disk {instance="db1:9100",mountpoint="/var"}');
  expect(record.markdown).toContain('- Runbook: https://runbooks/disk');
  expect(record.markdown).toContain('## Alerts (0 firing of 1)');
  expect(record.markdown).toContain('- description: Only 3% left. Grows 1 GB/h.');
  // People read UTC to the second; the JSON keeps ISO 8601 for machines.
  expect(record.markdown).toContain('- Opened: 2026-11-24 10:00:00 UTC; due: 2026-11-24 12:09:09 UTC; resolved: 2026-11-24 10:00:30 UTC (open for 30s)');
  expect(record.markdown).toContain('- Starts: 2026-11-24 09:59:00 UTC; ends: 2026-11-24 10:00:30 UTC');
  expect(record.markdown).toMatch(/^- 2026-11-24 10:00:30 UTC resolved/m);
  expect(record.markdown).not.toMatch(/\d\.\d{3}Z/);

  const { tickets } = await daemon.store.repos.localTickets.list({ limit: 1, offset: 0 });
  expect(tickets[0]?.subject).toBe('[HIGH] Disk filling up on db1:9100 /var: /var on db1 is 97% full');
  const body = tickets[0]?.body ?? '';
  for (const part of [
    '**/var on db1 is 97% full**',
    'Only 3% left.\nGrows 1 GB/h.',
    '- Priority: high (fault severity 8/10)',
    '- Estimated repair time: 2h9m9s, due 2026-11-24 12:09:09 UTC (in 2h 9m)',
    '- Opened: 2026-11-24 10:00:00 UTC',
    '- Runbook: https://runbooks/disk',
    '- Graph: http://prom/graph?g0.expr=disk',
    '- Largest directories: du -xh /var | sort -rh | head -20',
    '- [firing] alertname="NodeFilesystemAlmostOutOfSpace", instance="db1:9100", mountpoint="/var", severity="critical"',
  ]) {
    expect(body).toContain(part);
  }
});

test('a template that throws at runtime still makes the ticket, with a fallback that names it; the error is on the fault and counted', async () => {
  // Rule loading refuses such templates now; one compiled the old way (no known-helpers check) stands in for any that throws.
  const category = daemon.rules().categories.find((c) => c.name === 'node-memory')!;
  const original = { ...category.ticket };
  const broken = Handlebars.create().compile('[{{lower priority}}] memory');
  category.ticket.subject = { source: '[{{lower priority}}] memory', render: (ctx) => broken(ctx) };
  category.ticket.body = { source: '{{lower x}}', render: (ctx) => broken(ctx) };
  try {
    const labels = { alertname: 'NodeMemoryHighUtilization', instance: 'app7:9100', severity: 'critical' };
    await daemon.faults.ingest('alertmanager', [
      { source: 'alertmanager', sourceId: 'mem1', status: 'firing', labels, annotations: { summary: 'Memory is 97% used' }, startsAt: clock.now(), receivedAt: clock.now() },
    ]);
    await drain(daemon);

    const [fault] = (await daemon.store.repos.faults.list({ category: 'node-memory', limit: 1, offset: 0 }));
    expect(fault).toMatchObject({ ticket_id: expect.any(String), ticket_status: 'open' });
    expect(fault!.ticket_error).toBe(
      'template: subject of category "node-memory": Missing helper: "lower"; body of category "node-memory": Missing helper: "lower"',
    );
    const ops = await daemon.store.repos.outbox.list({ limit: 10, offset: 0 });
    expect(ops.filter((o) => o.fault_id === fault!.id).map((o) => [o.kind, o.state])).toEqual([['create', 'done']]);

    const ticket = (await daemon.store.repos.localTickets.list({ limit: 10, offset: 0 })).tickets.find((t) => t.id === Number(fault!.ticket_id))!;
    expect(ticket.subject).toBe('[HIGH] NodeMemoryHighUtilization on app7:9100: Memory is 97% used [subject template failed]');
    expect(ticket.body).toContain('> faultdesk could not render the subject template of category "node-memory" (rule ');
    expect(ticket.body).toContain('> faultdesk could not render the body template of category "node-memory"');
    expect(ticket.body).toContain('Missing helper: "lower"');
    expect(ticket.body).toContain('# Fault node-memory {instance="app7:9100"}'); // the record stands in for the body
    const counted = await daemon.metrics.registry.getSingleMetricAsString('faultdesk_template_errors_total');
    expect(counted).toContain('faultdesk_template_errors_total{category="node-memory",template="subject"} 1');
    expect(counted).toContain('faultdesk_template_errors_total{category="node-memory",template="body"} 1');

    // An escalation renders no template: the ticket still shows the fallback, so the error stays.
    await daemon.faults.ingest('alertmanager', [
      { source: 'alertmanager', sourceId: 'mem2', status: 'firing', labels: { ...labels, severity: 'page' }, annotations: {}, startsAt: clock.now(), receivedAt: clock.now() },
    ]);
    await drain(daemon);
    const after = await daemon.store.repos.outbox.list({ limit: 10, offset: 0 });
    expect(after.filter((o) => o.fault_id === fault!.id).map((o) => [o.kind, o.state])).toEqual(expect.arrayContaining([['escalate', 'done']]));
    expect((await daemon.store.repos.faults.get(fault!.id))!.ticket_error).toMatch(/^template: subject of category "node-memory"/);

    // Fixed (reloaded) templates: the resolve renders cleanly and the error goes.
    Object.assign(category.ticket, original);
    for (const id of ['mem1', 'mem2']) {
      await daemon.faults.ingest('alertmanager', [
        { source: 'alertmanager', sourceId: id, status: 'resolved', labels: id === 'mem1' ? labels : { ...labels, severity: 'page' }, annotations: {}, startsAt: clock.now(), endsAt: clock.now(), receivedAt: clock.now() },
      ]);
    }
    await drain(daemon);
    expect(await daemon.store.repos.faults.get(fault!.id)).toMatchObject({ state: 'resolved', ticket_error: null });
  } finally {
    Object.assign(category.ticket, original);
  }
});

test('an escalation comment gives the due time in UTC and how far off it is, from the clock', async () => {
  const [fault] = await daemon.store.repos.faults.list({ category: 'node-disk', limit: 1, offset: 0 });
  const comment = renderComment('escalate', { changes: [], fromFs: 5, toFs: 8 }, fault!, fault!.due_at + 5 * 60_000);
  expect(comment).toContain('due 2026-11-24 12:09:09 UTC (overdue by 5m).');
});

/** Delivers a source's own payload through its adapter, and answers the ticket its fault got. */
async function ticketFor(source: SourceName, payload: Record<string, unknown>) {
  const parsed = createSources()[source].parse(payload, clock.now());
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  const result = await daemon.faults.ingest(source, parsed.alerts);
  await drain(daemon);
  const fault = await daemon.store.repos.faults.get(result.faults[0]!);
  const { tickets } = await daemon.store.repos.localTickets.list({ limit: 100, offset: 0 });
  return tickets.find((t) => String(t.id) === fault!.ticket_id)!;
}

test('a Zabbix ticket names the host once, fills the disk hint, and labels the event link as such', async () => {
  const zabbix = { event_value: '1', event_nseverity: '4', zabbix_url: 'https://zabbix.acme.example/', trigger_id: '42' };
  const cpu = await ticketFor('zabbix', { ...zabbix, event_id: '7001', host_name: 'db-01', trigger_name: 'High CPU utilization on db-01' });
  expect(cpu.subject).toBe('[HIGH] High CPU utilization on db-01');
  expect(cpu.body).toContain('- Zabbix event: https://zabbix.acme.example/tr_events.php?triggerid=42&eventid=7001');
  expect(cpu.body).not.toContain('Graph:');

  const mem = await ticketFor('zabbix', { ...zabbix, event_id: '7002', host_name: 'db-02', trigger_name: 'Linux: High memory utilization (>90% for 5m)' });
  expect(mem.subject).toBe('[HIGH] Linux: High memory utilization (>90% for 5m) on db-02');

  const disk = await ticketFor('zabbix', { ...zabbix, event_id: '7003', host_name: 'db-03', trigger_name: 'Linux: FS [/var/lib/mysql]: Space is critically low (used > 90%)' });
  expect(disk.body).toContain('- Largest directories: du -xh /var/lib/mysql | sort -rh | head -20');
  const old = await ticketFor('zabbix', { ...zabbix, event_id: '7004', host_name: 'db-04', trigger_name: 'Free disk space is less than 20% on volume /srv' });
  expect(old.body).toContain('- Largest directories: du -xh /srv | sort -rh | head -20');
  expect(`${disk.body}${old.body}`).not.toContain('<mountpoint>');
});

test('a Nagios ticket shows the first lines of the long output, fills the disk hint, and links the Nagios status page', async () => {
  const long = Array.from({ length: 14 }, (_, i) => `/data${i}: ${90 + (i % 10)}% used`).join('\\n');
  const ticket = await ticketFor('nagios', {
    notification_type: 'PROBLEM',
    host_name: 'files-01',
    service_desc: 'Disk space',
    service_state: 'CRITICAL',
    service_output: 'DISK CRITICAL - free space: /data0 120 MB (2% inode=90%);',
    long_service_output: long,
    service_problem_id: '311',
    nagios_url: 'https://nagios.acme.example/nagios',
  });
  expect(ticket.subject).toBe('[HIGH] Disk space on files-01 is CRITICAL: DISK CRITICAL - free space: /data0 120 MB (2% inode=90%);');
  expect(ticket.body).toContain('Output:\n\n```\n/data0: 90% used\n/data1: 91% used\n');
  expect(ticket.body).toContain('/data9: 99% used\n```\n(4 more lines in the attached fault record)');
  expect(ticket.body).not.toContain('/data10');
  expect(ticket.body).toContain('- Largest directories: du -xh /data0 | sort -rh | head -20');
  expect(ticket.body).toContain('- Nagios status: https://nagios.acme.example/nagios/cgi-bin/extinfo.cgi?type=2&host=files-01&service=Disk%20space');
  expect(ticket.body).not.toContain('Graph:');
});
