import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Daemon } from '../../src/main';
import { getJson as getJsonAs, REPO, startTestDaemon, tempDir, testConfig, VIEWER, VIEWER_CREDENTIALS } from '../helpers';
import { startZabbix, waitForEventAcknowledgedWith, ZABBIX_ADMIN, type ZabbixHarness } from './zabbix/harness';

// A real Zabbix 6.0 (Debian's server, frontend and zabbix_sender) set up through
// its API by the shipped set-up script: the shipped media type, a user with the
// media, an action, and a host with a trapper item and a trigger. zabbix_sender
// raises the problem, Zabbix's alerter runs the shipped JavaScript, and faultdesk
// opens a fault; another user's acknowledgement reaches faultdesk as an update;
// the value going back to 0 resolves the fault.
jest.setTimeout(180_000);
// Without .ci/run before it, the first run also installs the packages (about a minute) and builds the template database.
const COLD_START_MS = 420_000;

const execFileAsync = promisify(execFile);
const TOKEN = 'e2e-zabbix-token';
const SETUP = path.join(REPO, 'config/integrations/zabbix/setup.mjs');
/** faultdesk's API as a viewer (with any credential configured, reads need the role). */
const getJson = <T>(url: string) => getJsonAs<T>(url, VIEWER);

let dir: string;
let cleanup: () => void;
let daemon: Daemon;
let zabbix: ZabbixHarness | undefined;

interface FaultSummary {
  id: string;
  state: string;
  category: string;
  key: string;
  severity: number;
  ticket: { id: string; status: string } | null;
}
interface FaultDetail extends FaultSummary {
  alerts: Array<{ source: string; sourceId: string; status: string; labels: Record<string, string> }>;
  timeline: { entries: Array<{ event: string; detail?: string }> };
}
interface SetUpResult {
  mediatypeid: string;
  userid: string;
  actionid: string;
  hostGroupIds: string[];
  smokeTest: { host: string; key: string; triggerid: string; groupid: string };
}

/** Polls until probe returns something, with a deadline; a failure shows Zabbix's logs. */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${String(lastError ?? 'no error')})\n${await diagnostics()}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** What faultdesk and Zabbix show, for a failure message. */
async function diagnostics(): Promise<string> {
  const faults = await getJson<{ faults: Array<{ id: string }> }>(`${daemon.url}/api/v1/faults`).catch((err: Error) => ({ faults: [], error: err.message }));
  const details = await Promise.all(faults.faults.map((f) => getJson(`${daemon.url}/api/v1/faults/${f.id}`).catch((err: Error) => err.message)));
  const alerts = await zabbix?.admin
    .call('alert.get', { output: ['alertid', 'eventid', 'p_eventid', 'status', 'error', 'retries', 'subject'] })
    .catch((err: Error) => err.message);
  return `faultdesk faults: ${JSON.stringify(details, null, 1)}\nZabbix alert.get: ${JSON.stringify(alerts, null, 1)}\n${zabbix?.logs() ?? ''}`;
}

beforeAll(async () => {
  ({ dir, cleanup } = tempDir('faultdesk-zabbix-'));
  const config = testConfig(dir);
  config.auth.sources.zabbix = { bearer_token: TOKEN };
  config.auth.viewer = VIEWER_CREDENTIALS;
  daemon = await startTestDaemon(config);
  daemon.outbox.start();
  mkdirSync(path.join(dir, 'zabbix'));
  const started = Date.now();
  zabbix = await startZabbix({ dir: path.join(dir, 'zabbix') });
  process.stderr.write(`Zabbix ${zabbix.version} up in ${Date.now() - started} ms ${JSON.stringify(zabbix.timings)}\n`);
}, COLD_START_MS);

afterAll(async () => {
  await zabbix?.stop();
  await daemon?.stop();
  cleanup?.();
});

test('a problem raised with zabbix_sender opens a fault, another user acknowledges it, the value returns to 0 and the fault resolves', async () => {
  const z = zabbix!;
  // Set up through the API only, with the script an operator runs.
  writeFileSync(path.join(dir, 'token'), `${TOKEN}\n`);
  const setUp = (...extra: string[]) =>
    execFileAsync(
      process.execPath,
      [
        SETUP,
        ...['--zabbix-api', z.frontendUrl, '--zabbix-frontend-url', `${z.frontendUrl}/`],
        ...['--faultdesk-url', daemon.url, '--faultdesk-token-file', path.join(dir, 'token')],
        ...['--smoke-test', '--host-group', 'Linux servers'],
        // The media user joins Admin's user group, so Zabbix tells it who acknowledged.
        ...['--user-group', 'Zabbix administrators'],
        ...extra,
      ],
      { env: { ...process.env, ZABBIX_PASSWORD: ZABBIX_ADMIN.password } },
    );
  // A name that does not exist stops it before it changes anything.
  await expect(setUp('--host-group', 'No such group')).rejects.toMatchObject({ code: 1, stderr: 'setup.mjs: no such host group: No such group\n' });
  expect(await z.admin.call('mediatype.get', { filter: { name: ['faultdesk'] } })).toEqual([]);
  const made = JSON.parse((await setUp()).stdout) as SetUpResult;
  const { host, key, triggerid, groupid } = made.smokeTest;
  const [linux] = await z.admin.call<Array<{ groupid: string }>>('hostgroup.get', { filter: { name: ['Linux servers'] }, output: ['groupid'] });
  expect(made.hostGroupIds).toEqual([linux!.groupid, groupid]);
  // Run again, it updates what it made and makes nothing new.
  expect(JSON.parse((await setUp()).stdout)).toEqual(made);
  const [media] = await z.admin.call<Array<{ parameters: Array<{ name: string; value: string }>; status: string }>>('mediatype.get', {
    mediatypeids: [made.mediatypeid],
    output: ['parameters', 'status'],
  });
  expect(media!.status).toBe('0');
  expect(media!.parameters).toEqual(expect.arrayContaining([{ name: 'faultdesk_url', value: daemon.url }, { name: 'faultdesk_token', value: TOKEN }]));

  // The problem.
  await z.send(host, key, '1');
  const fault = await waitFor('a fault from the Zabbix problem', async () => {
    const { faults } = await getJson<{ faults: FaultSummary[] }>(`${daemon.url}/api/v1/faults`);
    return faults.find((f) => f.state === 'open' && f.ticket) ?? undefined;
  });
  expect(fault).toMatchObject({ category: 'zabbix-other', key: `{host="${host}",alertname="faultdesk smoke test"}`, severity: 8 });
  const [problem] = await z.admin.call<Array<{ eventid: string }>>('problem.get', { objectids: [triggerid], output: ['eventid'] });
  const eventid = problem!.eventid;
  const detail = await getJson<FaultDetail>(`${daemon.url}/api/v1/faults/${fault.id}`);
  expect(detail.alerts).toEqual([
    expect.objectContaining({
      source: 'zabbix',
      sourceId: eventid,
      status: 'firing',
      // {$ZABBIX.URL}, set by the script: a link back to the problem in Zabbix.
      generatorURL: `${z.frontendUrl}/tr_events.php?triggerid=${triggerid}&eventid=${eventid}`,
      labels: expect.objectContaining({ monitor: 'zabbix', host, alertname: 'faultdesk smoke test', severity: 'high', nseverity: '4', trigger_id: triggerid, service: 'faultdesk' }),
    }),
  ]);
  // Zabbix stored the tags the script returned on the event (the event menu's link to the fault).
  await waitFor('the fault link tags on the event', async () => {
    const [event] = await z.admin.call<Array<{ tags: Array<{ tag: string; value: string }> }>>('event.get', { eventids: [eventid], selectTags: 'extend' });
    const tags = Object.fromEntries(event!.tags.map((t) => [t.tag, t.value]));
    return tags.__faultdesk_fault === fault.id && tags.__faultdesk_link === `${daemon.url}/api/v1/faults/${fault.id}` ? true : undefined;
  });

  // Another user than the media user acknowledges it in Zabbix: the update reaches faultdesk as a comment.
  const message = 'Ada is looking at it';
  await z.admin.call('event.acknowledge', { eventids: [eventid], action: 2 | 4, message });
  const ack = await waitForEventAcknowledgedWith(z.admin, eventid, message);
  expect(ack.userid).not.toBe(made.userid);
  const acked = await waitFor('the acknowledgement on the fault', async () => {
    const d = await getJson<FaultDetail>(`${daemon.url}/api/v1/faults/${fault.id}`);
    return d.timeline.entries.some((e) => e.event === 'comment' && /^Zabbix update by Zabbix Administrator \(Admin\): acknowledged/.test(e.detail ?? '')) ? d : undefined;
  });
  // The update carried the link tags back; they are not labels.
  expect(acked.alerts[0]!.labels).toEqual(detail.alerts[0]!.labels);
  const comment = await waitFor('the acknowledgement on the ticket', async () => {
    const { tickets } = await getJson<{ tickets: Array<{ id: string; comments: Array<{ body: string }> }> }>(`${daemon.url}/api/v1/tickets`);
    return tickets.find((t) => t.id === fault.ticket!.id)?.comments.find((c) => c.body.includes(message));
  });
  expect(comment.body).toMatch(/^Zabbix update by Zabbix Administrator \(Admin\): acknowledged/);

  // The value returns to 0: the problem recovers and the fault resolves.
  await z.send(host, key, '0');
  await waitFor('the fault to resolve', async () => {
    const d = await getJson<FaultDetail>(`${daemon.url}/api/v1/faults/${fault.id}`);
    return d.state === 'resolved' && d.ticket?.status === 'solved' ? true : undefined;
  });
  const { faults } = await getJson<{ faults: FaultSummary[] }>(`${daemon.url}/api/v1/faults`);
  expect(faults).toHaveLength(1);

  // Zabbix delivered problem, update and recovery to faultdesk, none failed (it records the
  // outcome of a delivery a moment after faultdesk has answered it).
  const alerts = await waitFor('Zabbix to record its deliveries', async () => {
    const all = await z.admin.call<Array<{ status: string; error: string }>>('alert.get', { actionids: [made.actionid], output: ['status', 'error'] });
    // 0 not sent yet, 3 new: still under way.
    return all.length === 3 && all.every((a) => a.status === '1' || a.status === '2') ? all : undefined;
  });
  expect(alerts).toEqual([
    { alertid: expect.any(String), status: '1', error: '' },
    { alertid: expect.any(String), status: '1', error: '' },
    { alertid: expect.any(String), status: '1', error: '' },
  ]);
  const metrics = await fetch(`${daemon.url}/metrics`, { headers: VIEWER }).then((r) => r.text());
  expect(metrics).toMatch(/faultdesk_alerts_received_total\{source="zabbix",outcome="opened"\} 1\n/);
});
