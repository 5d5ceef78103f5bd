import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync, appendFileSync, mkdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { Daemon } from '../../src/main';
import { getJson, REPO, startTestDaemon, tempDir, testConfig, drain, VIEWER, VIEWER_CREDENTIALS } from '../helpers';
import { ensureDebianPackage } from './ensure-package';

// A real Nagios Core 4 from Debian, configured in a private folder with one-second
// intervals, notifying faultdesk through the shipped command definitions and script.

jest.setTimeout(240_000);

let nagios: ChildProcess | undefined;
let daemon: Daemon;
let dir: string;
let cleanup: () => void;
const TOKEN = 'e2e-nagios-token';

function objects(d: string): string {
  return `
define timeperiod {
  timeperiod_name 24x7
  alias           always
  sunday 00:00-24:00
  monday 00:00-24:00
  tuesday 00:00-24:00
  wednesday 00:00-24:00
  thursday 00:00-24:00
  friday 00:00-24:00
  saturday 00:00-24:00
}
define command {
  command_name check-up
  command_line /bin/true
}
define command {
  command_name check-state
  command_line ${d}/check-state.sh
}
define host {
  host_name             web1
  address               127.0.0.1
  check_command         check-up
  max_check_attempts    1
  check_interval        3600
  retry_interval        1
  check_period          24x7
  notification_period   24x7
  notification_interval 0
  contacts              faultdesk
}
define service {
  host_name                web1
  service_description      Public site
  check_command            check-state
  max_check_attempts       1
  check_interval           2
  retry_interval           1
  check_period             24x7
  notification_period      24x7
  notification_interval    0
  first_notification_delay 0
  notification_options     w,u,c,r,f,s
  flap_detection_enabled   0
  contacts                 faultdesk
}
`;
}

function nagiosCfg(d: string): string {
  return [
    `log_file=${d}/nagios.log`,
    `cfg_file=${d}/faultdesk.cfg`,
    `cfg_file=${d}/objects.cfg`,
    `resource_file=${d}/resource.cfg`,
    `object_cache_file=${d}/objects.cache`,
    `precached_object_file=${d}/objects.precache`,
    `status_file=${d}/status.dat`,
    'status_update_interval=1',
    `command_file=${d}/nagios.cmd`,
    'check_external_commands=1',
    'command_check_interval=-1',
    `lock_file=${d}/nagios.lock`,
    `temp_file=${d}/nagios.tmp`,
    `temp_path=${d}`,
    `check_result_path=${d}/checkresults`,
    `state_retention_file=${d}/retention.dat`,
    'retain_state_information=0',
    'use_retained_program_state=0',
    'use_retained_scheduling_info=0',
    'interval_length=1',
    'max_service_check_spread=1',
    'max_host_check_spread=1',
    'use_syslog=0',
    'enable_notifications=1',
    'execute_service_checks=1',
    'execute_host_checks=1',
    'enable_flap_detection=0',
    'log_notifications=1',
    'notification_timeout=30',
    // Nagios' default strips " too; we keep ' (the shipped commands quote with it) and the shell's specials.
    "illegal_macro_output_chars=`~$&|'<>",
    'nagios_user=nagios',
    'nagios_group=nagios',
    `query_socket=${d}/nagios.qh`,
    'check_for_orphaned_services=0',
    'check_for_updates=0',
    'bare_update_check=1',
  ].join('\n');
}

function setState(code: number, output: string): void {
  writeFileSync(path.join(dir, 'state.out'), output);
  writeFileSync(path.join(dir, 'state.code'), String(code));
}

function forceCheck(): void {
  const now = Math.floor(Date.now() / 1000);
  const pipe = path.join(dir, 'nagios.cmd');
  if (existsSync(pipe)) appendFileSync(pipe, `[${now}] SCHEDULE_FORCED_SVC_CHECK;web1;Public site;${now}\n`);
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 90_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      const log = existsSync(path.join(dir, 'nagios.log')) ? readFileSync(path.join(dir, 'nagios.log'), 'utf8').slice(-3000) : '';
      throw new Error(`timed out waiting for ${what}; nagios.log ends:\n${log}`);
    }
    forceCheck();
    await new Promise((r) => setTimeout(r, 1000));
  }
}

beforeAll(async () => {
  const nagiosBin = ensureDebianPackage('nagios4', 'nagios4-core');
  ({ dir, cleanup } = tempDir('faultdesk-nagios-'));
  const config = testConfig(dir);
  config.auth.sources.nagios = { bearer_token: TOKEN };
  // With any credential configured, reads need the viewer role.
  config.auth.viewer = VIEWER_CREDENTIALS;
  daemon = await startTestDaemon(config);

  mkdirSync(path.join(dir, 'checkresults'));
  // The shipped definitions, with the script where this checkout has it.
  const shipped = readFileSync(path.join(REPO, 'config/integrations/nagios/faultdesk.cfg'), 'utf8');
  writeFileSync(path.join(dir, 'faultdesk.cfg'), shipped.split('/usr/local/lib/faultdesk/faultdesk-notify').join(path.join(dir, 'notify')));
  // A shim that records each call's arguments, then runs the shipped script.
  writeFileSync(
    path.join(dir, 'notify'),
    `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done >> ${dir}/calls.txt\necho --- >> ${dir}/calls.txt\nexec ${path.join(REPO, 'config/integrations/nagios/faultdesk-notify')} "$@"\n`,
  );
  chmodSync(path.join(dir, 'notify'), 0o755);
  writeFileSync(path.join(dir, 'check-state.sh'), `#!/bin/sh\ncat ${dir}/state.out\nexit $(cat ${dir}/state.code)\n`);
  chmodSync(path.join(dir, 'check-state.sh'), 0o755);
  writeFileSync(path.join(dir, 'resource.cfg'), `$USER20$=${daemon.url}\n$USER21$=${TOKEN}\n`);
  writeFileSync(path.join(dir, 'objects.cfg'), objects(dir));
  writeFileSync(path.join(dir, 'nagios.cfg'), nagiosCfg(dir));
  setState(0, 'HTTP OK - 200 in 0.01 s');
  execFileSync('chown', ['-R', 'nagios:nagios', dir]);
  chmodSync(dir, 0o755);

  execFileSync(nagiosBin, ['-v', path.join(dir, 'nagios.cfg')], { stdio: 'pipe' });
  nagios = spawn(nagiosBin, [path.join(dir, 'nagios.cfg')], { stdio: 'ignore' });
});

afterAll(async () => {
  if (nagios && nagios.exitCode === null) {
    const exited = new Promise((r) => nagios?.once('exit', r));
    nagios.kill('SIGTERM');
    await exited;
  }
  await daemon?.stop();
  cleanup?.();
});

test('a service goes CRITICAL then OK: one fault opens and resolves, with the plugin output intact', async () => {
  const output = 'HTTP CRITICAL - "/health" answered 503 — Grüße, naïve café ✓';
  setState(2, `${output}\nfirst detail line\nsecond detail line`);
  const fault = await waitFor('an open fault', async () => {
    const { faults } = await getJson<{ faults: Array<{ id: string; state: string; category: string; key: string }> }>(`${daemon.url}/api/v1/faults`, VIEWER);
    return faults.find((f) => f.state === 'open');
  });
  expect(fault).toMatchObject({ category: 'nagios-http', key: '{host="web1",service="Public site"}' });
  const detail = await getJson<{ alerts: Array<{ annotations: Record<string, string>; labels: Record<string, string> }> }>(
    `${daemon.url}/api/v1/faults/${fault.id}`,
    VIEWER,
  );
  expect(detail.alerts[0]!.annotations.output).toBe(output);
  expect(detail.alerts[0]!.annotations.long_output).toBe('first detail line\nsecond detail line');
  expect(detail.alerts[0]!.labels).toMatchObject({ monitor: 'nagios', host: 'web1', service: 'Public site', severity: 'critical', plugin: 'http' });

  setState(0, 'HTTP OK - 200 in 0.01 s');
  await waitFor('the fault to resolve', async () => {
    const { faults } = await getJson<{ faults: Array<{ state: string }> }>(`${daemon.url}/api/v1/faults`, VIEWER);
    return faults.length === 1 && faults[0]!.state === 'resolved' ? true : undefined;
  });
  await drain(daemon);
  const { tickets } = await getJson<{ tickets: Array<{ status: string }> }>(`${daemon.url}/api/v1/tickets`, VIEWER);
  expect(tickets).toEqual([expect.objectContaining({ status: 'solved' })]);

  // What this Nagios put in the problem-id macros, for the record: the recovery must name the problem's id.
  const calls = readFileSync(path.join(dir, 'calls.txt'), 'utf8').split('---\n').filter((c) => c.trim() !== '');
  const field = (call: string, name: string) => call.split('\n').find((l) => l.startsWith(`${name}=`))?.slice(name.length + 1);
  const problem = calls.find((c) => field(c, 'notification_type') === 'PROBLEM') ?? '';
  const recovery = calls.find((c) => field(c, 'notification_type') === 'RECOVERY') ?? '';
  const problemId = field(problem, 'service_problem_id');
  expect(problemId).toMatch(/^[1-9]\d*$/);
  const carried = field(recovery, 'service_problem_id') === problemId ? 'service_problem_id' : 'last_service_problem_id';
  expect(field(recovery, carried)).toBe(problemId);
  const version = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'nagios4-core']).toString();
  process.stdout.write(
    `nagios ${version}: PROBLEM service_problem_id=${problemId}; RECOVERY service_problem_id=${field(recovery, 'service_problem_id')} ` +
      `last_service_problem_id=${field(recovery, 'last_service_problem_id')}: the id is in ${carried}\n`,
  );
});
