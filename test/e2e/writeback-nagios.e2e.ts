import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Daemon } from '../../src/main';
import { getJson, postJson, REPO, startTestDaemon, tempDir, testConfig } from '../helpers';
import { NagiosRig } from './nagios-rig';

// Write-back against a real Nagios 4.4.6: a service goes CRITICAL, faultdesk opens a fault, an
// engineer acknowledges it in faultdesk, and Nagios' status shows the service acknowledged (sticky),
// in both ways faultdesk ships: writing nagios.cmd itself, and through the agent script. Nagios'
// ACKNOWLEDGEMENT notification comes back to faultdesk as a comment and opens nothing new.
jest.setTimeout(120_000);

const run = promisify(execFile);
const TOKEN = 'e2e-nagios-wb-token';
const ADMIN_TOKEN = 'e2e-nagios-wb-admin';
const AGENT_TOKEN = 'e2e-nagios-wb-agent';
const ADMIN = { Authorization: `Bearer ${ADMIN_TOKEN}` };

describe.each([['command file'], ['agent']])('%s mode', (mode) => {
  let daemon: Daemon;
  let rig: NagiosRig;
  let cleanup: () => void;
  let dir: string;

  beforeAll(async () => {
    ({ dir, cleanup } = tempDir('faultdesk-nagios-wb-'));
    const config = testConfig(dir);
    config.auth.sources.nagios = { bearer_token: TOKEN };
    config.auth.admin = { bearer_token: ADMIN_TOKEN };
    config.writeback = {
      dry_run: false,
      nagios: mode === 'agent' ? { agent_token: AGENT_TOKEN, author: 'faultdesk' } : { command_file: path.join(dir, 'nagios.cmd'), author: 'faultdesk' },
    };
    daemon = await startTestDaemon(config);
    daemon.outbox.start();
    rig = NagiosRig.start(dir, daemon.url, TOKEN);
  });
  afterAll(async () => {
    await rig?.stop();
    await daemon?.stop();
    cleanup?.();
  });

  const faults = async () => (await getJson<{ faults: Array<{ id: string; state: string }> }>(`${daemon.url}/api/v1/faults`, ADMIN)).faults;

  test('ack in faultdesk: Nagios shows the service acknowledged, and its acknowledgement notification opens nothing new', async () => {
    await rig.waitFor('Nagios to start', () => rig.serviceStatus('web1', 'Public site'));
    rig.setState(2, 'HTTP CRITICAL - 503 Service Unavailable');
    rig.forceCheck();
    const fault = await rig.waitFor('an open fault', async () => (await faults()).find((f) => f.state === 'open'));
    await rig.waitFor('Nagios to see the problem', () => (rig.serviceStatus('web1', 'Public site')?.current_state === '2' ? true : undefined));

    expect((await postJson(`${daemon.url}/api/v1/faults/${fault.id}/ack`, { by: 'grace@acme' }, ADMIN)).status).toBe(200);
    if (mode === 'agent') {
      await rig.waitFor('the command queued for the agent', async () => {
        const { commands } = await getJson<{ commands: unknown[] }>(`${daemon.url}/api/v1/writeback/nagios`, { Authorization: `Bearer ${AGENT_TOKEN}` });
        return commands.length === 1 ? true : undefined;
      });
      writeFileSync(path.join(dir, 'agent-token'), `${AGENT_TOKEN}\n`);
      const env = { ...process.env, FAULTDESK_URL: daemon.url, FAULTDESK_TOKEN_FILE: path.join(dir, 'agent-token'), NAGIOS_COMMAND_FILE: rig.commandFile };
      await run('sh', [path.join(REPO, 'config/integrations/nagios/faultdesk-writeback-agent.sh')], { env });
      const { commands } = await getJson<{ commands: unknown[] }>(`${daemon.url}/api/v1/writeback/nagios`, { Authorization: `Bearer ${AGENT_TOKEN}` });
      expect(commands).toEqual([]);
    }
    const status = await rig.waitFor('Nagios to show the acknowledgement', () => {
      const s = rig.serviceStatus('web1', 'Public site');
      return s?.problem_has_been_acknowledged === '1' ? s : undefined;
    });
    // 2: sticky, kept until the service is OK.
    expect(status.acknowledgement_type).toBe('2');
    expect(rig.log()).toMatch(/EXTERNAL COMMAND: ACKNOWLEDGE_SVC_PROBLEM;web1;Public site;2;1;1;grace@acme;Acknowledged in faultdesk: fault /);

    // Nagios notifies the acknowledgement; it comes back as a comment on the same fault.
    const entry = await rig.waitFor('the acknowledgement back on the timeline', async () => {
      const detail = await getJson<{ timeline: { entries: Array<{ event: string; detail?: string }> } }>(`${daemon.url}/api/v1/faults/${fault.id}`, ADMIN);
      return detail.timeline.entries.find((e) => e.event === 'comment' && e.detail?.startsWith('Acknowledged in Nagios'));
    });
    expect(entry.detail).toContain('grace@acme');
    expect(await faults()).toEqual([expect.objectContaining({ id: fault.id, state: 'open' })]);

    // OK again: the fault resolves, and the sticky acknowledgement ends in Nagios by itself.
    rig.setState(0, 'HTTP OK - 200 in 0.01 s');
    rig.forceCheck();
    await rig.waitFor('the fault to resolve', async () => ((await faults()).every((f) => f.state === 'resolved') ? true : undefined));
    await rig.waitFor('the acknowledgement to end', () => (rig.serviceStatus('web1', 'Public site')?.problem_has_been_acknowledged === '0' ? true : undefined));
    const ops = await getJson<{ operations: Array<{ kind: string; state: string }> }>(`${daemon.url}/api/v1/outbox?system=nagios`, ADMIN);
    expect(ops.operations.map((o) => `${o.kind}:${o.state}`).sort()).toEqual(['acknowledge:done', 'release:done']);
  });
});
