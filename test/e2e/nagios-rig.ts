import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO } from '../helpers';
import { ensureDebianPackage } from './ensure-package';

// A real Nagios Core 4 (Debian's nagios4-core) in a private folder with one-second intervals,
// notifying faultdesk through the shipped faultdesk.cfg and faultdesk-notify (environment macros),
// as test/e2e/nagios.test.ts sets it up: one host, one service whose state a file decides.

/** One host, web1, always up; one service, "Public site", whose state ${d}/state.code decides. */
export function objects(d: string): string {
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

/**
 * nagios.cfg for a private folder, one-second intervals. `illegalChars` replaces Nagios' default
 * illegal_macro_output_chars; environment macros are on unless told otherwise.
 */
export function nagiosCfg(d: string, { illegalChars, environmentMacros = true }: { illegalChars?: string; environmentMacros?: boolean } = {}): string {
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
    'log_external_commands=1',
    'notification_timeout=30',
    ...(illegalChars !== undefined ? [`illegal_macro_output_chars=${illegalChars}`] : []),
    `enable_environment_macros=${environmentMacros ? 1 : 0}`,
    'nagios_user=nagios',
    'nagios_group=nagios',
    `query_socket=${d}/nagios.qh`,
    'check_for_orphaned_services=0',
    'check_for_updates=0',
    'bare_update_check=1',
  ].join('\n');
}

export class NagiosRig {
  private constructor(
    readonly dir: string,
    private readonly nagios: ChildProcess,
  ) {}

  /** Starts Nagios in `dir` (which must exist), notifying faultdesk at `url` with `token`. */
  static start(dir: string, url: string, token: string): NagiosRig {
    const bin = ensureDebianPackage('nagios4', 'nagios4-core');
    mkdirSync(path.join(dir, 'checkresults'), { recursive: true });
    const shipped = readFileSync(path.join(REPO, 'config/integrations/nagios/faultdesk.cfg'), 'utf8');
    writeFileSync(path.join(dir, 'faultdesk.cfg'), shipped.split('/usr/local/lib/faultdesk/faultdesk-notify').join(path.join(REPO, 'config/integrations/nagios/faultdesk-notify')));
    writeFileSync(path.join(dir, 'check-state.sh'), `#!/bin/sh\ncat ${dir}/state.out\nexit $(cat ${dir}/state.code)\n`);
    chmodSync(path.join(dir, 'check-state.sh'), 0o755);
    writeFileSync(path.join(dir, 'resource.cfg'), `$USER20$=${url}\n$USER21$=${token}\n`);
    writeFileSync(path.join(dir, 'objects.cfg'), objects(dir));
    writeFileSync(path.join(dir, 'nagios.cfg'), nagiosCfg(dir));
    writeFileSync(path.join(dir, 'state.out'), 'HTTP OK - 200 in 0.01 s');
    writeFileSync(path.join(dir, 'state.code'), '0');
    execFileSync('chown', ['-R', 'nagios:nagios', dir]);
    chmodSync(dir, 0o755);
    execFileSync(bin, ['-v', path.join(dir, 'nagios.cfg')], { stdio: 'pipe' });
    const nagios = spawn(bin, [path.join(dir, 'nagios.cfg')], { stdio: 'ignore', env: { ...process.env, FAULTDESK_NOTIFY_MAX_TIME: '5' } });
    return new NagiosRig(dir, nagios);
  }

  get commandFile(): string {
    return path.join(this.dir, 'nagios.cmd');
  }

  async stop(): Promise<void> {
    if (this.nagios.exitCode !== null || this.nagios.signalCode !== null) return;
    const exited = new Promise((r) => this.nagios.once('exit', r));
    this.nagios.kill('SIGTERM');
    const killer = setTimeout(() => this.nagios.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
  }

  log(): string {
    const file = path.join(this.dir, 'nagios.log');
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }

  setState(code: number, output: string): void {
    writeFileSync(path.join(this.dir, 'state.out'), output);
    writeFileSync(path.join(this.dir, 'state.code'), String(code));
  }

  /** One status block of status.dat (servicestatus or hoststatus) as a map, or undefined before Nagios wrote it. */
  serviceStatus(host: string, service: string): Record<string, string> | undefined {
    const file = path.join(this.dir, 'status.dat');
    if (!existsSync(file)) return undefined;
    for (const block of readFileSync(file, 'utf8').split(/\n(?=\w+ \{)/)) {
      if (!block.startsWith('servicestatus {')) continue;
      const fields = Object.fromEntries(
        block
          .split('\n')
          .slice(1)
          .map((l) => l.trim())
          .filter((l) => l.includes('='))
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
      if (fields.host_name === host && fields.service_description === service) return fields;
    }
    return undefined;
  }

  /** Makes Nagios check the service now (the interval is two seconds anyway). */
  forceCheck(): void {
    if (existsSync(this.commandFile)) appendFileSync(this.commandFile, `[${Math.floor(Date.now() / 1000)}] SCHEDULE_FORCED_SVC_CHECK;web1;Public site;${Math.floor(Date.now() / 1000)}\n`);
  }

  async waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 60_000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; nagios.log ends:\n${this.log().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
