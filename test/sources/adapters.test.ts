import path from 'node:path';
import { loadRules, RuleEngine } from '../../src/rules';
import { createSources, type Alert } from '../../src/sources';
import { ruleContext } from '../../src/main';
import { loadConfig } from '../../src/config';
import { REPO } from '../helpers';

const sources = createSources();
const AT = Date.parse('2026-11-24T12:00:00Z');

function one(source: 'nagios' | 'zabbix', body: unknown): Alert {
  const parsed = sources[source].parse(body, AT);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.alerts[0]!;
}

describe('Nagios notification types', () => {
  const base = { host_name: 'db1', service_desc: 'Disk', service_state: 'CRITICAL', service_output: 'DISK CRITICAL - full', service_problem_id: '7', last_service_problem_id: '3', author: 'ada', comment: 'on it' };
  test.each([
    ['PROBLEM', 'firing', undefined],
    ['RECOVERY', 'resolved', undefined],
    ['ACKNOWLEDGEMENT', 'firing', { kind: 'comment', text: 'Acknowledged in Nagios by ada: on it' }],
    ['CUSTOM', 'firing', { kind: 'comment', text: 'Nagios custom notification by ada: on it' }],
    ['FLAPPINGSTART', 'firing', { kind: 'flapping_start', text: 'Nagios reports that it is flapping.' }],
    ['FLAPPINGSTOP', 'firing', { kind: 'flapping_stop', text: 'Nagios reports that it stopped flapping.' }],
    ['FLAPPINGDISABLED', 'firing', { kind: 'flapping_stop', text: 'Nagios flap detection was disabled.' }],
    ['DOWNTIMESTART', 'firing', { kind: 'mute', text: 'Scheduled downtime started in Nagios by ada: on it' }],
    ['DOWNTIMEEND', 'firing', { kind: 'unmute', text: 'Scheduled downtime ended in Nagios.' }],
    ['DOWNTIMECANCELLED', 'firing', { kind: 'unmute', text: 'Scheduled downtime was cancelled in Nagios.' }],
  ])('%s', (type, status, note) => {
    const alert = one('nagios', { ...base, notification_type: type });
    expect(alert).toMatchObject({ source: 'nagios', sourceId: 'db1/Disk#7', status });
    expect(alert.note).toEqual(note);
  });

  test('a recovery with the current id 0 correlates by the last id; host notifications by the host ids', () => {
    expect(one('nagios', { ...base, notification_type: 'RECOVERY', service_problem_id: '0', last_service_problem_id: '7' }).sourceId).toBe('db1/Disk#7');
    const host = one('nagios', { notification_type: 'PROBLEM', host_name: 'db1', host_state: 'DOWN', host_output: 'PING CRITICAL', host_problem_id: '4' });
    expect(host).toMatchObject({ sourceId: 'db1/#4', labels: { monitor: 'nagios', alertname: 'HOST', host: 'db1', severity: 'down', plugin: 'ping' } });
  });
});

describe('Zabbix events', () => {
  const base = { event_id: '100', event_value: '1', event_nseverity: '3', event_severity: 'Average', host_name: 'web-01', trigger_name: 'Linux: FS [/var]: Space is low (used > 80%)', trigger_id: '5', event_timestamp: '1795521600', event_tags: [{ tag: 'component', value: 'storage' }, { tag: 'bad tag!', value: 'x' }] };
  test('problem, recovery and update', () => {
    expect(one('zabbix', base)).toMatchObject({
      sourceId: '100',
      status: 'firing',
      startsAt: 1795521600000,
      labels: { monitor: 'zabbix', host: 'web-01', severity: 'average', zabbix_severity: 'Average', nseverity: '3', component: 'storage', bad_tag_: 'x' },
    });
    expect(one('zabbix', { ...base, event_value: '0', event_recovery_timestamp: '1795522200' })).toMatchObject({ status: 'resolved', endsAt: 1795522200000 });
    expect(one('zabbix', { ...base, event_update_status: '1', event_update_action: 'commented', event_update_message: 'hi', event_update_user: 'Bo' }).note).toEqual({
      kind: 'comment',
      text: 'Zabbix update by Bo: commented\nhi',
    });
  });
});

describe('the shipped rules for Zabbix and Nagios', () => {
  const config = loadConfig({});
  const engine = new RuleEngine(loadRules(path.join(REPO, 'rules'), ruleContext(config)));
  const classify = (source: 'nagios' | 'zabbix', body: unknown) => {
    const c = engine.classify(one(source, body));
    return [c.category.name, c.key, c.fs];
  };
  const zbx = (trigger: string, nseverity: string) => ({ event_id: '1', event_value: '1', event_nseverity: nseverity, host_name: 'h1', trigger_name: trigger });
  const nag = (service: string, state: string, output: string) => ({ notification_type: 'PROBLEM', host_name: 'h1', service_desc: service, service_state: state, service_output: output, service_problem_id: '1' });

  test.each([
    [zbx('Linux: Zabbix agent is not available (for 3m)', '3'), ['zabbix-host-unreachable', '{host="h1"}', 6]],
    [zbx('Unavailable by ICMP ping', '4'), ['zabbix-host-unreachable', '{host="h1"}', 8]],
    [zbx('Linux: FS [/]: Space is critically low (used > 90%)', '5'), ['zabbix-disk', '{host="h1",alertname="Linux: FS [/]: Space is critically low (used > 90%)"}', 10]],
    [zbx('Linux: High memory utilization (>90% for 5m)', '2'), ['zabbix-memory', '{host="h1"}', 4]],
    [zbx('Linux: High CPU utilization (over 90% for 5m)', '1'), ['zabbix-cpu', '{host="h1"}', 2]],
    [zbx('MySQL: Service is down', '0'), ['zabbix-other', '{host="h1",alertname="MySQL: Service is down"}', 1]],
  ])('Zabbix %#', (body, expected) => {
    expect(classify('zabbix', body)).toEqual(expected);
  });

  test.each([
    [nag('PING', 'CRITICAL', 'PING CRITICAL - Packet loss = 100%'), ['nagios-ping', '{host="h1"}', 8]],
    [nag('Web', 'WARNING', 'HTTP WARNING: HTTP/1.1 404 Not Found'), ['nagios-http', '{host="h1",service="Web"}', 5]],
    [nag('Root Partition', 'CRITICAL', 'DISK CRITICAL - free space: / 312 MB'), ['nagios-disk', '{host="h1",service="Root Partition"}', 8]],
    [nag('Backups', 'UNKNOWN', 'no output'), ['nagios-other', '{host="h1",service="Backups"}', 4]],
  ])('Nagios %#', (body, expected) => {
    expect(classify('nagios', body)).toEqual(expected);
  });
});

describe('Alertmanager labels and annotations', () => {
  const payload = (alert: Record<string, unknown>) => ({
    version: '4',
    groupKey: '{}',
    receiver: 'faultdesk',
    status: 'firing',
    alerts: [{ status: 'firing', startsAt: '2026-11-24T12:00:00Z', fingerprint: 'ab12', ...alert }],
  });

  test('every bad entry is named, with what was expected and what came', () => {
    const parsed = sources.alertmanager.parse(payload({ labels: { alertname: 'Up', a: 1, b: null, c: ['x'], '': 'empty name' }, annotations: 'text' }), AT);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.errors).toEqual([
      { path: 'alerts.0.labels.a', message: 'Invalid input: expected string, received number' },
      { path: 'alerts.0.labels.b', message: 'Invalid input: expected string, received null' },
      { path: 'alerts.0.labels.c', message: 'Invalid input: expected string, received array' },
      { path: 'alerts.0.labels.', message: 'label names must not be empty' },
      { path: 'alerts.0.annotations', message: 'Invalid input: expected record, received string' },
    ]);
  });

  test('missing labels and labels that are a list are refused', () => {
    for (const labels of [undefined, ['alertname']]) {
      const parsed = sources.alertmanager.parse(payload({ labels }), AT);
      expect(!parsed.ok && parsed.errors).toEqual([{ path: 'alerts.0.labels', message: expect.stringMatching(/^Invalid input: expected record, received (undefined|array)$/) }]);
    }
  });

  test('a map is kept as sent, a label named __proto__ included, and absent annotations are empty', () => {
    const labels = JSON.parse('{"alertname":"Up","__proto__":"odd","instance":"h1"}') as Record<string, string>;
    const parsed = sources.alertmanager.parse(payload({ labels }), AT);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    const alert = parsed.alerts[0]!;
    expect(Object.keys(alert.labels)).toEqual(['alertname', '__proto__', 'instance']);
    expect(Object.getPrototypeOf(alert.labels)).toBe(Object.prototype);
    expect(alert.annotations).toEqual({});
  });
});
