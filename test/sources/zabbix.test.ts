import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import * as acorn from 'acorn';
import { parse as parseYaml } from 'yaml';
import { ManualClock } from '../../src/clock';
import type { Daemon } from '../../src/main';
import { drain, getJson, postJson, REPO, startTestDaemon, tempDir, testConfig, VIEWER, VIEWER_CREDENTIALS } from '../helpers';

const run = promisify(execFile);
const SCRIPT = path.join(REPO, 'config/integrations/zabbix/faultdesk.js');
const EXPORT = path.join(REPO, 'config/integrations/zabbix/media_faultdesk.yaml');

let daemon: Daemon;
let cleanup: () => void;
const clock = new ManualClock(Date.parse('2026-11-24T12:00:00Z'));

beforeEach(async () => {
  const tmp = tempDir();
  cleanup = tmp.cleanup;
  const config = testConfig(tmp.dir);
  config.auth.sources.zabbix = { bearer_token: 'zbx-token-1' };
  // With any credential configured, reads need the viewer role.
  config.auth.viewer = VIEWER_CREDENTIALS;
  daemon = await startTestDaemon(config, clock);
});
afterEach(async () => {
  await daemon.stop();
  cleanup();
});

/** The media type's parameters as Zabbix expands them for one event; unexpanded macros stay as they are. */
function expanded(overrides: Record<string, string>): Record<string, string> {
  const exported = parseYaml(readFileSync(EXPORT, 'utf8')) as {
    zabbix_export: { media_types: Array<{ parameters: Array<{ name: string; value: string }> }> };
  };
  const params: Record<string, string> = {};
  for (const p of exported.zabbix_export.media_types[0]!.parameters) params[p.name] = p.value;
  return {
    ...params,
    faultdesk_url: daemon.url,
    faultdesk_token: 'zbx-token-1',
    zabbix_url: 'https://zabbix.example',
    event_id: '4711',
    event_value: '1',
    event_update_status: '0',
    event_source: '0',
    event_nseverity: '4',
    event_severity: 'High',
    event_name: 'Linux: High CPU utilization (over 90% for 5m)',
    event_tags: '[{"tag":"scope","value":"performance"},{"tag":"component","value":"cpu"}]',
    event_timestamp: '1795521600',
    host_name: 'web-01',
    host_ip: '10.0.0.5',
    trigger_id: '23001',
    trigger_name: 'Linux: High CPU utilization (over 90% for 5m)',
    alert_subject: 'Problem: Linux: High CPU utilization (over 90% for 5m)',
    alert_message: 'Problem started at 12:00:00 on 2026.11.24\nHost: web-01\nSeverity: High',
    event_update_action: '{EVENT.UPDATE.ACTION}',
    event_update_message: '{EVENT.UPDATE.MESSAGE}',
    event_update_user: '{USER.FULLNAME}',
    ...overrides,
  };
}

async function runScript(params: Record<string, string>) {
  const { stdout } = await run(process.execPath, [path.join(__dirname, '../integrations/zabbix-runner.js'), SCRIPT, JSON.stringify(params)]);
  return JSON.parse(stdout) as { ok: boolean; result?: string; error?: string };
}

test('the media type script is plain ES5, and the export embeds exactly that script', async () => {
  const script = readFileSync(SCRIPT, 'utf8');
  // Zabbix wraps the script in a function, so a top-level return is allowed.
  expect(() => acorn.parse(script, { ecmaVersion: 5, allowReturnOutsideFunction: true })).not.toThrow();
  expect(() => acorn.parse('var f = (a) => a;', { ecmaVersion: 5 })).toThrow();
  expect(() => acorn.parse('let x = `t`;', { ecmaVersion: 5 })).toThrow();
  const exported = parseYaml(readFileSync(EXPORT, 'utf8'));
  const media = exported.zabbix_export.media_types[0];
  expect(media.script).toBe(script);
  expect(media).toMatchObject({ type: 'WEBHOOK', process_tags: 'YES', event_menu_url: '{EVENT.TAGS.__faultdesk_link}' });
  expect(media.message_templates.map((t: { operation_mode: string }) => t.operation_mode)).toEqual(['PROBLEM', 'RECOVERY', 'UPDATE']);
  const { stdout } = await run(process.execPath, [path.join(REPO, 'config/integrations/zabbix/build-media-type.mjs'), '--stdout']);
  expect(stdout).toBe(readFileSync(EXPORT, 'utf8'));
});

test('problem, acknowledge, severity change and recovery, sent by the script itself', async () => {
  const problem = await runScript(expanded({}));
  expect(problem.ok).toBe(true);
  const tags = JSON.parse(problem.result ?? '{}').tags;
  await drain(daemon);
  const { faults } = await getJson<{ faults: Array<Record<string, unknown>> }>(`${daemon.url}/api/v1/faults`, VIEWER);
  expect(faults).toHaveLength(1);
  const fault = faults[0]!;
  expect(fault).toMatchObject({ state: 'open', category: 'zabbix-cpu', key: '{host="web-01"}', severity: 8, priority: 'high' });
  expect(tags).toEqual({ __faultdesk_fault: fault.id, __faultdesk_link: `${daemon.url}/api/v1/faults/${fault.id}` });
  const detail = await getJson<{ alerts: Array<{ labels: Record<string, string>; startsAt: string; generatorURL: string }> }>(
    `${daemon.url}/api/v1/faults/${fault.id}`,
    VIEWER,
  );
  expect(detail.alerts[0]).toMatchObject({
    labels: {
      monitor: 'zabbix',
      alertname: 'Linux: High CPU utilization (over 90% for 5m)',
      host: 'web-01',
      severity: 'high',
      nseverity: '4',
      scope: 'performance',
      component: 'cpu',
      trigger_id: '23001',
    },
    startsAt: '2026-11-24T12:00:00.000Z',
    generatorURL: 'https://zabbix.example/tr_events.php?triggerid=23001&eventid=4711',
  });

  // An acknowledgement with a message: a comment.
  clock.advance(60_000);
  const ack = await runScript(
    expanded({ event_update_status: '1', event_update_action: 'acknowledged', event_update_message: 'Looking at it', event_update_user: 'Ada Lovelace' }),
  );
  expect(ack).toMatchObject({ ok: true, result: '{"tags":{}}' });
  // A severity change to disaster: FS rises, so the ticket escalates.
  const raised = await runScript(expanded({ event_update_status: '1', event_nseverity: '5', event_severity: 'Disaster', event_update_action: 'changed severity', event_update_user: 'Ada Lovelace' }));
  expect(raised.ok).toBe(true);
  await drain(daemon);
  let ticket = (await getJson<{ tickets: Array<{ status: string; priority: string; comments: Array<{ body: string }> }> }>(`${daemon.url}/api/v1/tickets`, VIEWER)).tickets[0]!;
  expect(ticket.comments.map((c) => c.body.split('\n').slice(0, 2).join(' | '))).toEqual([
    'Zabbix update by Ada Lovelace: acknowledged | Looking at it',
    expect.stringMatching(/^Zabbix update by Ada Lovelace: changed severity \| Escalated: fault severity 8 → 10, priority now urgent\./),
  ]);
  expect(ticket.comments[0]!.body).toContain('Looking at it');
  expect(ticket.priority).toBe('urgent');

  // Recovery: {EVENT.ID} is still the problem's id.
  clock.advance(60_000);
  const recovery = await runScript(expanded({ event_value: '0', event_nseverity: '5', event_recovery_timestamp: '1795521900' }));
  expect(recovery.ok).toBe(true);
  await drain(daemon);
  expect((await getJson<{ faults: Array<{ state: string }> }>(`${daemon.url}/api/v1/faults`, VIEWER)).faults[0]!.state).toBe('resolved');
  ticket = (await getJson<{ tickets: Array<{ status: string; priority: string; comments: Array<{ body: string }> }> }>(`${daemon.url}/api/v1/tickets`, VIEWER)).tickets[0]!;
  expect(ticket.status).toBe('solved');
});

// What a real Zabbix 6.0 sends (test/e2e/zabbix.e2e.ts): updates and recoveries carry the tags the
// script stored on the problem, {HOST.IP} of a host without interfaces is *UNKNOWN*, and
// {USER.FULLNAME} is "Inaccessible user" when the media user may not see who acted.
test("faultdesk's own link tags on later events of the problem are not labels", async () => {
  const problem = await runScript(expanded({}));
  const tags = JSON.parse(problem.result ?? '{}').tags as Record<string, string>;
  const withLink = JSON.stringify([
    { tag: 'scope', value: 'performance' },
    { tag: 'component', value: 'cpu' },
    ...Object.entries(tags).map(([tag, value]) => ({ tag, value })),
  ]);
  const ack = await runScript(
    expanded({ event_tags: withLink, event_update_status: '1', event_update_action: 'acknowledged', event_update_message: 'On it', event_update_user: 'Ada Lovelace' }),
  );
  expect(ack.ok).toBe(true);
  await drain(daemon);
  const { faults } = await getJson<{ faults: Array<{ id: string }> }>(`${daemon.url}/api/v1/faults`, VIEWER);
  const detail = await getJson<{ alerts: Array<{ labels: Record<string, string> }> }>(`${daemon.url}/api/v1/faults/${faults[0]!.id}`, VIEWER);
  expect(Object.keys(detail.alerts[0]!.labels).sort()).toEqual(
    ['alertname', 'component', 'host', 'monitor', 'nseverity', 'scope', 'severity', 'trigger_id', 'zabbix_severity'].sort(),
  );
});

test('values Zabbix could not give (*UNKNOWN*, "Inaccessible user") are left out', async () => {
  await runScript(expanded({ host_ip: '*UNKNOWN*' }));
  const ack = await runScript(
    expanded({ host_ip: '*UNKNOWN*', event_update_status: '1', event_update_action: 'acknowledged', event_update_message: 'On it', event_update_user: 'Inaccessible user' }),
  );
  expect(ack.ok).toBe(true);
  await drain(daemon);
  const { faults } = await getJson<{ faults: Array<{ id: string }> }>(`${daemon.url}/api/v1/faults`, VIEWER);
  const detail = await getJson<{ alerts: Array<{ annotations: Record<string, string> }>; timeline: { entries: Array<{ event: string; detail?: string }> } }>(
    `${daemon.url}/api/v1/faults/${faults[0]!.id}`,
    VIEWER,
  );
  expect(detail.alerts[0]!.annotations).not.toHaveProperty('host_ip');
  expect(detail.timeline.entries).toContainEqual(expect.objectContaining({ event: 'comment', detail: 'Zabbix update: acknowledged' }));
});

test('the script reports faultdesk refusing it, so Zabbix marks the delivery failed', async () => {
  const wrongToken = await runScript(expanded({ faultdesk_token: 'nope' }));
  expect(wrongToken.ok).toBe(false);
  expect(wrongToken.error).toMatch(/^Sending to faultdesk failed: faultdesk answered HTTP 401/);
  const unset = await runScript(expanded({ faultdesk_url: '<PLACE FAULTDESK URL HERE>' }));
  expect(unset.error).toMatch(/Parameter "faultdesk_url" is not set/);
  const discovery = await runScript(expanded({ event_source: '1' }));
  expect(discovery.error).toMatch(/trigger events only/);
});

describe('bad Zabbix bodies get 400 and store nothing', () => {
  test.each([
    [{ event_id: 'abc', event_value: '1', event_nseverity: '4', host_name: 'h', trigger_name: 't' }, ['event_id']],
    [{ event_id: '1', event_value: '2', event_nseverity: '9', host_name: '', trigger_name: 't' }, ['event_value', 'event_nseverity', 'host_name']],
    [{ event_id: '1', event_value: '1', event_nseverity: '4', host_name: 'h', trigger_name: 't', event_tags: 'x' }, ['event_tags']],
  ])('%j', async (body, paths) => {
    const res = await postJson(`${daemon.url}/api/v1/alerts/zabbix`, body, { Authorization: 'Bearer zbx-token-1' });
    expect(res.status).toBe(400);
    expect((res.json.errors as Array<{ path: string }>).map((e) => e.path)).toEqual(paths);
    expect(await daemon.store.repos.faults.countByState()).toEqual({});
  });
});
