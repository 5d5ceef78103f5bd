import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { ManualClock } from '../../src/clock';
import type { Daemon } from '../../src/main';
import { drain, getJson, postJson, REPO, startTestDaemon, tempDir, testConfig, VIEWER, VIEWER_CREDENTIALS } from '../helpers';

const run = promisify(execFile);
const NOTIFY = path.join(REPO, 'config/integrations/nagios/faultdesk-notify');

let daemon: Daemon;
let cleanup: () => void;
const clock = new ManualClock(Date.parse('2026-11-24T12:00:00Z'));

beforeEach(async () => {
  const tmp = tempDir();
  cleanup = tmp.cleanup;
  const config = testConfig(tmp.dir);
  config.auth.sources.nagios = { bearer_token: 'nag-token-1' };
  // With any credential configured, reads need the viewer role.
  config.auth.viewer = VIEWER_CREDENTIALS;
  daemon = await startTestDaemon(config, clock);
});
const later: Array<() => void> = [];
afterEach(async () => {
  await daemon.stop();
  cleanup();
  for (const fn of later.splice(0)) fn();
});

const AUTH = { Authorization: 'Bearer nag-token-1' };
const url = () => `${daemon.url}/api/v1/alerts/nagios`;

function service(type: string, over: Record<string, string> = {}): Record<string, string> {
  return {
    notification_type: type,
    host_name: 'db1',
    host_address: '10.0.0.9',
    host_state: 'UP',
    service_desc: 'Root Partition',
    service_state: 'CRITICAL',
    state_type: 'HARD',
    attempt: '3',
    service_output: 'DISK CRITICAL - free space: / 312 MB (3% inode=80%);',
    long_service_output: '',
    service_problem_id: '41',
    last_service_problem_id: '17',
    author: '',
    comment: '',
    timet: '1795521600',
    ...over,
  };
}

function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

async function postForm(fields: Record<string, string>) {
  return postJson(url(), form(fields), { ...AUTH, 'Content-Type': 'application/x-www-form-urlencoded' });
}

async function faults() {
  return (await getJson<{ faults: Array<Record<string, unknown>> }>(`${daemon.url}/api/v1/faults`, VIEWER)).faults;
}
async function faultDetail(id: string) {
  return getJson<{
    alerts: Array<{ annotations: Record<string, string>; generatorURL: string; startsAt: string }>;
    timeline: { entries: Array<{ event: string; detail?: string }> };
  }>(`${daemon.url}/api/v1/faults/${id}`, VIEWER);
}
async function comments() {
  const { tickets } = await getJson<{ tickets: Array<{ status: string; comments: Array<{ body: string }> }> }>(`${daemon.url}/api/v1/tickets`, VIEWER);
  return { status: tickets[0]?.status, bodies: tickets[0]?.comments.map((c) => c.body) ?? [] };
}

test('PROBLEM opens, WARNING→CRITICAL of the same problem escalates, RECOVERY resolves: JSON and form bodies', async () => {
  expect((await postJson(url(), service('PROBLEM', { service_state: 'WARNING', service_output: 'DISK WARNING - free space: / 900 MB' }), AUTH)).json).toMatchObject({
    outcomes: { opened: 1 },
  });
  await drain(daemon);
  let [fault] = await faults();
  expect(fault).toMatchObject({ category: 'nagios-disk', key: '{host="db1",service="Root Partition"}', severity: 5 });
  const { tickets } = await getJson<{ tickets: Array<{ subject: string }> }>(`${daemon.url}/api/v1/tickets`, VIEWER);
  expect(tickets[0]?.subject).toBe('[NORMAL] Root Partition on db1 is WARNING: DISK WARNING - free space: / 900 MB');

  expect((await postForm(service('PROBLEM'))).json).toMatchObject({ outcomes: { updated: 1 } });
  await drain(daemon);
  [fault] = await faults();
  expect(fault).toMatchObject({ severity: 8, priority: 'high', alerts: 1 });

  // The recovery carries the problem id in one of the two macros; both ways resolve the same fault.
  clock.advance(60_000);
  const recovery = service('RECOVERY', { service_state: 'OK', service_output: 'DISK OK - free space: / 4000 MB', service_problem_id: '0', last_service_problem_id: '41' });
  expect((await postForm(recovery)).json).toMatchObject({ outcomes: { resolved: 1 } });
  await drain(daemon);
  expect((await faults())[0]).toMatchObject({ state: 'resolved', ticket: { status: 'solved' } });
  expect((await postForm({ ...recovery, service_problem_id: '41', last_service_problem_id: '17' })).json).toMatchObject({
    outcomes: { duplicate: 1 },
  });
});

test('host notifications', async () => {
  const host = {
    notification_type: 'PROBLEM',
    host_name: 'edge-7',
    host_address: '192.0.2.7',
    host_state: 'DOWN',
    host_output: 'PING CRITICAL - Packet loss = 100%',
    host_problem_id: '9',
    last_host_problem_id: '0',
  };
  await postForm(host);
  await drain(daemon);
  expect((await faults())[0]).toMatchObject({ category: 'nagios-host-down', key: '{host="edge-7"}', severity: 9, priority: 'urgent' });
  await postForm({ ...host, notification_type: 'RECOVERY', host_state: 'UP', host_output: 'PING OK', host_problem_id: '0', last_host_problem_id: '9' });
  expect((await faults())[0]).toMatchObject({ state: 'resolved' });
});

test('ACKNOWLEDGEMENT becomes a comment; FLAPPINGSTART/STOP hold and release; DOWNTIMESTART/END mute and unmute', async () => {
  await postForm(service('PROBLEM'));
  await drain(daemon);
  await postForm(service('ACKNOWLEDGEMENT', { author: 'grace', comment: 'Rotating logs now' }));
  await drain(daemon);
  expect((await comments()).bodies).toEqual(['Acknowledged in Nagios by grace: Rotating logs now']);

  await postForm(service('FLAPPINGSTART'));
  expect((await faults())[0]).toMatchObject({ state: 'flapping' });
  // Nagios sends no recoveries while flapping, but if one comes it is held.
  await postForm(service('RECOVERY', { service_state: 'OK', service_problem_id: '0', last_service_problem_id: '41' }));
  expect((await faults())[0]).toMatchObject({ state: 'flapping' });
  await postForm(service('FLAPPINGSTOP', { service_state: 'OK', service_problem_id: '0', last_service_problem_id: '41' }));
  expect((await faults())[0]).toMatchObject({ state: 'resolved' });
  await drain(daemon);
  const c = await comments();
  expect(c.bodies[1]).toMatch(/^Nagios reports that it is flapping\. faultdesk holds resolves and reopens/);
  expect(c.bodies[2]).toMatch(/^Nagios reports that it stopped flapping\. Every alert of it has resolved\./);
  expect(c.status).toBe('solved');

  // A new problem (new id) in a downtime.
  clock.advance(2 * 3_600_000);
  await postForm(service('PROBLEM', { service_problem_id: '42', last_service_problem_id: '41', service_state: 'WARNING' }));
  await postForm(service('DOWNTIMESTART', { service_problem_id: '42', author: 'ops', comment: 'disk swap' }));
  await drain(daemon);
  await postForm(service('PROBLEM', { service_problem_id: '42', last_service_problem_id: '41' })); // CRITICAL: would escalate
  await drain(daemon);
  const second = (await getJson<{ tickets: Array<{ priority: string; comments: Array<{ body: string }> }> }>(`${daemon.url}/api/v1/tickets`, VIEWER)).tickets[0]!;
  expect(second.comments.map((x) => x.body.split('\n')[0])).toEqual(['Scheduled downtime started in Nagios by ops: disk swap']);
  expect(second.priority).toBe('normal');
  await postForm(service('DOWNTIMEEND', { service_problem_id: '42' }));
  await drain(daemon);
  const after = (await getJson<{ tickets: Array<{ priority: string; comments: Array<{ body: string }> }> }>(`${daemon.url}/api/v1/tickets`, VIEWER)).tickets[0]!;
  expect(after.comments.at(-1)?.body).toMatch(/^Scheduled downtime ended in Nagios\.\nUpdate: 1 of 1 alerts firing\./);
  expect(after.priority).toBe('high');
});

describe('JSON as notify scripts write it', () => {
  test('numeric macros sent as JSON numbers are accepted and correlate with the same ids sent as text', async () => {
    const problem = { ...service('PROBLEM'), service_problem_id: 41, last_service_problem_id: 17, attempt: 3, timet: 1795521600 };
    const res = await postJson(url(), problem, AUTH);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ outcomes: { opened: 1 } });
    const recovery = service('RECOVERY', { service_state: 'OK', service_output: 'DISK OK', service_problem_id: '0', last_service_problem_id: '41' });
    expect((await postForm(recovery)).json).toMatchObject({ outcomes: { resolved: 1 } });
    const [fault] = await faults();
    const detail = await faultDetail(fault!.id as string);
    expect(detail.alerts[0]!.startsAt).toBe('2026-11-24T12:00:00.000Z');

    const host = { notification_type: 'PROBLEM', host_name: 'edge-7', host_state: 'DOWN', host_output: 'PING CRITICAL', host_problem_id: 9, last_host_problem_id: 0 };
    expect((await postJson(url(), host, AUTH)).json).toMatchObject({ outcomes: { opened: 1 } });
  });

  test('the snake_case names of the macros are accepted alongside the short ones', async () => {
    const renamed = (fields: Record<string, string>, names: Record<string, string>) =>
      Object.fromEntries(Object.entries(fields).map(([k, v]) => [names[k] ?? k, v]));
    const problem = renamed(service('PROBLEM'), { service_desc: 'service_description', state_type: 'service_state_type', attempt: 'service_attempt' });
    expect((await postJson(url(), problem, AUTH)).json).toMatchObject({ outcomes: { opened: 1 } });
    await drain(daemon);
    expect((await faults())[0]).toMatchObject({ category: 'nagios-disk', key: '{host="db1",service="Root Partition"}' });

    const ack = renamed(service('ACKNOWLEDGEMENT', { author: 'grace', comment: 'Rotating logs now' }), {
      service_desc: 'service_description',
      author: 'notification_author',
      comment: 'notification_comment',
    });
    expect((await postJson(url(), ack, AUTH)).json).toMatchObject({ outcomes: { updated: 1 } });
    // A script that sends the acknowledgement macros as well; its author and comment are empty here.
    const ackByMacros = { ...service('ACKNOWLEDGEMENT'), service_ack_author: 'ada', service_ack_comment: 'Taking over', host_ack_author: 'nobody' };
    expect((await postForm(ackByMacros)).json).toMatchObject({ outcomes: { updated: 1 } });
    await drain(daemon);
    expect((await comments()).bodies).toEqual(['Acknowledged in Nagios by grace: Rotating logs now', 'Acknowledged in Nagios by ada: Taking over']);
  });
});

describe('bad Nagios bodies get 400 and store nothing', () => {
  test.each([
    [{ notification_type: 'PANIC', host_name: 'h', host_problem_id: '1' }, ['notification_type']],
    [{ notification_type: 'PROBLEM', host_name: '' , host_problem_id: '1' }, ['host_name']],
    [{ notification_type: 'PROBLEM', host_name: 'h', service_desc: 's', service_problem_id: '0', last_service_problem_id: '0' }, ['service_problem_id']],
    [{ notification_type: 'PROBLEM', host_name: 'h', host_problem_id: 'x' }, ['host_problem_id']],
    [{ notification_type: 'PROBLEM', host_name: 'h', service_desc: 'a', service_description: 'b', service_problem_id: '3' }, ['service_description']],
    [{ notification_type: 'PROBLEM', host_name: 'h', host_problem_id: '1', author: 'a', notification_author: 'b', host_ack_author: 'c' }, ['notification_author', 'host_ack_author']],
  ])('%j', async (body, paths) => {
    for (const res of [await postJson(url(), body, AUTH), await postForm(body as Record<string, string>)]) {
      expect(res.status).toBe(400);
      expect((res.json.errors as Array<{ path: string }>).map((e) => e.path)).toEqual(paths);
    }
    expect(await daemon.store.repos.faults.countByState()).toEqual({});
  });
});

describe('bad numbers in Nagios JSON get 400 and store nothing', () => {
  test.each([
    [{ notification_type: 'PROBLEM', host_name: 'h', host_problem_id: -1 }, ['host_problem_id']],
    [{ notification_type: 'PROBLEM', host_name: 'h', host_problem_id: 1.5 }, ['host_problem_id']],
    [{ notification_type: 'PROBLEM', host_name: 'h', host_problem_id: 1, timet: 1.5e9 + 0.5 }, ['timet']],
    [{ notification_type: 'PROBLEM', host_name: 'h', host_problem_id: 1, attempt: true }, ['attempt']],
    [{ notification_type: 'PROBLEM', host_name: 7, host_problem_id: 1 }, ['host_name']],
  ])('%j', async (body, paths) => {
    const res = await postJson(url(), body, AUTH);
    expect(res.status).toBe(400);
    expect((res.json.errors as Array<{ path: string }>).map((e) => e.path)).toEqual(paths);
    expect(await daemon.store.repos.faults.countByState()).toEqual({});
  });
});

describe('the shipped notify script', () => {
  const fields = (f: Record<string, string>) => Object.entries(f).map(([k, v]) => `${k}=${v}`);

  test('sends every field intact: quotes, shell characters, newlines, non-ASCII', async () => {
    const output = `DISK CRITICAL - "/srv" at 99% $(rm -rf /) \`id\` ; it's Grüße ✓`;
    const longOutput = 'line two\\nline three with a \\\\ backslash';
    await run(NOTIFY, [daemon.url, 'nag-token-1', ...fields(service('PROBLEM', { service_output: output, long_service_output: longOutput }))], {
      env: { ...process.env, FAULTDESK_NAGIOS_URL: 'https://nagios.example/nagios4' },
    });
    const [fault] = await faults();
    const detail = await getJson<{ alerts: Array<{ annotations: Record<string, string>; generatorURL: string }> }>(`${daemon.url}/api/v1/faults/${fault!.id}`, VIEWER);
    expect(detail.alerts[0]!.annotations.output).toBe(output);
    expect(detail.alerts[0]!.annotations.long_output).toBe('line two\nline three with a \\ backslash');
    expect(detail.alerts[0]!.generatorURL).toBe('https://nagios.example/nagios4/cgi-bin/extinfo.cgi?type=2&host=db1&service=Root%20Partition');
  });

  /** The environment Nagios gives a notification command with enable_environment_macros=1. */
  function environmentMacros(f: Record<string, string>): Record<string, string> {
    const macros: Record<string, string | undefined> = {
      NAGIOS_NOTIFICATIONTYPE: f.notification_type,
      NAGIOS_HOSTNAME: f.host_name,
      NAGIOS_HOSTADDRESS: f.host_address,
      NAGIOS_HOSTSTATE: f.host_state,
      NAGIOS_HOSTSTATETYPE: 'HARD',
      NAGIOS_HOSTATTEMPT: '1',
      NAGIOS_HOSTOUTPUT: f.host_output ?? 'PING OK',
      NAGIOS_LONGHOSTOUTPUT: '',
      NAGIOS_HOSTPROBLEMID: f.host_problem_id ?? '0',
      NAGIOS_LASTHOSTPROBLEMID: f.last_host_problem_id ?? '0',
      NAGIOS_SERVICEDESC: f.service_desc,
      NAGIOS_SERVICESTATE: f.service_state,
      NAGIOS_SERVICESTATETYPE: f.state_type,
      NAGIOS_SERVICEATTEMPT: f.attempt,
      NAGIOS_SERVICEOUTPUT: f.service_output,
      NAGIOS_LONGSERVICEOUTPUT: f.long_service_output,
      NAGIOS_SERVICEPROBLEMID: f.service_problem_id,
      NAGIOS_LASTSERVICEPROBLEMID: f.last_service_problem_id,
      NAGIOS_NOTIFICATIONAUTHOR: f.author,
      NAGIOS_NOTIFICATIONCOMMENT: f.comment,
      NAGIOS_TIMET: f.timet,
    };
    return Object.fromEntries(Object.entries(macros).filter((e): e is [string, string] => e[1] !== undefined));
  }

  test('with --env, sends the environment macros intact, and nothing in them reaches a shell', async () => {
    const tmp = tempDir();
    later.push(tmp.cleanup);
    const marker = (name: string) => path.join(tmp.dir, name);
    const output = `DISK CRITICAL - "/srv" can't grow $(touch ${marker('out-subst')}) \`touch ${marker('out-tick')}\` x'; touch ${marker('out-quote')}; echo 'y`;
    const author = `O'Brien "Bob" $(touch ${marker('author-subst')}) \`touch ${marker('author-tick')}\``;
    const comment = `can't fix: "disk" full; $(touch ${marker('subst')}) \`touch ${marker('tick')}\` x'; touch ${marker('quote')}; echo 'y "; touch ${marker('dquote')}; echo " a|b & c<d>e ~f — Grüße ✓`;
    const env = { ...process.env, FAULTDESK_NAGIOS_URL: 'https://nagios.example/nagios4' };
    const state = { service_output: output, long_service_output: 'line two\\nline three' };
    await run(NOTIFY, ['--env', 'service', daemon.url, 'nag-token-1'], { env: { ...env, ...environmentMacros(service('PROBLEM', state)) } });
    const ack = service('ACKNOWLEDGEMENT', { ...state, author, comment });
    await run(NOTIFY, ['--env', 'service', daemon.url, 'nag-token-1'], { env: { ...env, ...environmentMacros(ack) } });
    await drain(daemon);

    const [fault] = await faults();
    const detail = await faultDetail(fault!.id as string);
    expect(detail.alerts[0]!.annotations.output).toBe(output);
    expect(detail.alerts[0]!.annotations.long_output).toBe('line two\nline three');
    expect(detail.alerts[0]!.generatorURL).toBe('https://nagios.example/nagios4/cgi-bin/extinfo.cgi?type=2&host=db1&service=Root%20Partition');
    expect(detail.timeline.entries.find((e) => e.event === 'comment')?.detail).toBe(`Acknowledged in Nagios by ${author}: ${comment}`);
    expect((await comments()).bodies).toEqual([`Acknowledged in Nagios by ${author}: ${comment}`]);
    expect(readdirSync(tmp.dir)).toEqual([]);
  });

  test('with --env host, sends a host notification from the host macros', async () => {
    const host = { notification_type: 'PROBLEM', host_name: 'edge-7', host_address: '192.0.2.7', host_state: 'DOWN', host_output: 'PING CRITICAL - Packet loss = 100%', host_problem_id: '9' };
    // A host notification's service macros are empty.
    const env = { ...environmentMacros(host), NAGIOS_SERVICEDESC: '', NAGIOS_SERVICEPROBLEMID: '', NAGIOS_TIMET: '1795521600' };
    await run(NOTIFY, ['--env', 'host', daemon.url, 'nag-token-1'], { env: { ...process.env, ...env } });
    expect((await faults())[0]).toMatchObject({ category: 'nagios-host-down', key: '{host="edge-7"}', severity: 9 });
  });

  test('with --env but without environment macros, fails with a message that says what to enable', async () => {
    await expect(run(NOTIFY, ['--env', 'service', daemon.url, 'nag-token-1'])).rejects.toMatchObject({
      code: 3,
      stderr: expect.stringContaining('enable_environment_macros=1'),
    });
    await expect(run(NOTIFY, ['--env', 'service', daemon.url, 'nag-token-1', 'comment=x'])).rejects.toMatchObject({ code: 3, stderr: expect.stringContaining('usage') });
    expect(await faults()).toHaveLength(0);
  });

  test('fails with a message when faultdesk refuses it', async () => {
    await expect(run(NOTIFY, [daemon.url, 'wrong-token', ...fields(service('PROBLEM'))])).rejects.toMatchObject({
      code: 22,
      stderr: expect.stringContaining('faultdesk-notify: could not deliver'),
    });
    expect(await faults()).toHaveLength(0);
  });

  test('retries while faultdesk is unreachable, within its bound, and delivers once it is back', async () => {
    const port = daemon.address.port;
    const other = tempDir();
    const config = testConfig(other.dir, { FAULTDESK_LISTEN: `127.0.0.1:${port}` });
    config.auth.sources.nagios = { bearer_token: 'nag-token-1' };
    config.auth.viewer = VIEWER_CREDENTIALS;
    await daemon.stop();
    const sending = run(NOTIFY, [`http://127.0.0.1:${port}`, 'nag-token-1', ...fields(service('PROBLEM'))], {
      env: { ...process.env, FAULTDESK_NOTIFY_MAX_TIME: '20' },
    });
    await new Promise((r) => setTimeout(r, 2500));
    daemon = await startTestDaemon(config, clock);
    await sending;
    expect((await faults()).length).toBe(1);
    later.push(other.cleanup);
  });
});
