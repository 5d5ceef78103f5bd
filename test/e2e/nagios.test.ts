import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync, appendFileSync, mkdirSync, existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Daemon } from '../../src/main';
import { REPO, startTestDaemon, tempDir, testConfig, drain } from '../helpers';
import { ensureDebianPackage } from './ensure-package';
import { nagiosCfg, objects } from './nagios-rig';

// A real Nagios Core 4 from Debian, configured in a private folder with one-second
// intervals, notifying faultdesk through the shipped command definitions and script:
// faultdesk.cfg (environment macros) and faultdesk-args.cfg (macros on the command
// line), each with Nagios' default illegal_macro_output_chars and with ' and " taken
// out of it, as an admin who wants quotes in plugin output would.

jest.setTimeout(240_000);

const TOKEN = 'e2e-nagios-token';
const ADMIN = 'e2e-admin-token';
/** illegal_macro_output_chars as Nagios' sample nagios.cfg (and Debian's) sets it. */
const DEFAULT_LIST = '`~$&|\'"<>';
/** The same without ' and ". */
const EDITED_LIST = '`~$&|<>';

type Commands = 'faultdesk.cfg' | 'faultdesk-args.cfg';

interface Call {
  args: string[];
  env: Record<string, string>;
  exit?: number;
}

/** The Nagios configuration in dir: the shipped command file, a recording shim in front of the script, one host, one service. */
function writeSetup(dir: string, faultdeskUrl: string, commands: Commands, illegalChars: string, environmentMacros: boolean): void {
  mkdirSync(path.join(dir, 'checkresults'));
  mkdirSync(path.join(dir, 'markers'));
  // The shipped definitions, with the script where this checkout has it.
  const shipped = readFileSync(path.join(REPO, 'config/integrations/nagios', commands), 'utf8');
  writeFileSync(path.join(dir, 'faultdesk.cfg'), shipped.split('/usr/local/lib/faultdesk/faultdesk-notify').join(path.join(dir, 'notify')));
  // A shim that records each call's arguments and Nagios' environment macros, runs the shipped script, and records its exit.
  const calls = path.join(dir, 'calls.txt');
  writeFileSync(
    path.join(dir, 'notify'),
    [
      '#!/bin/sh',
      `{ echo '--- call'; for a in "$@"; do printf 'arg %s\\n' "$a"; done; env | grep '^NAGIOS_' | sed 's/^/env /'; } >> ${calls}`,
      `${path.join(REPO, 'config/integrations/nagios/faultdesk-notify')} "$@"`,
      'status=$?',
      `echo "--- exit $status" >> ${calls}`,
      'exit $status',
      '',
    ].join('\n'),
  );
  chmodSync(path.join(dir, 'notify'), 0o755);
  writeFileSync(path.join(dir, 'check-state.sh'), `#!/bin/sh\ncat ${dir}/state.out\nexit $(cat ${dir}/state.code)\n`);
  chmodSync(path.join(dir, 'check-state.sh'), 0o755);
  writeFileSync(path.join(dir, 'resource.cfg'), `$USER20$=${faultdeskUrl}\n$USER21$=${TOKEN}\n`);
  writeFileSync(path.join(dir, 'objects.cfg'), objects(dir));
  writeFileSync(path.join(dir, 'nagios.cfg'), nagiosCfg(dir, { illegalChars, environmentMacros }));
  writeFileSync(path.join(dir, 'state.out'), 'HTTP OK - 200 in 0.01 s');
  writeFileSync(path.join(dir, 'state.code'), '0');
  execFileSync('chown', ['-R', 'nagios:nagios', dir]);
  chmodSync(dir, 0o755);
}

/** One Nagios with one faultdesk behind it, in a folder of its own. */
class Rig {
  private constructor(
    readonly dir: string,
    readonly daemon: Daemon,
    private readonly nagios: ChildProcess,
    private readonly cleanup: () => void,
  ) {}

  /** Each file as its header says: faultdesk.cfg with environment macros, faultdesk-args.cfg without, unless told otherwise. */
  static async start(commands: Commands, illegalChars: string, environmentMacros = commands === 'faultdesk.cfg'): Promise<Rig> {
    const nagiosBin = ensureDebianPackage('nagios4', 'nagios4-core');
    const { dir, cleanup } = tempDir('faultdesk-nagios-');
    const config = testConfig(dir);
    config.auth.sources.nagios = { bearer_token: TOKEN };
    config.auth.admin = { bearer_token: ADMIN };
    const daemon = await startTestDaemon(config);
    try {
      writeSetup(dir, daemon.url, commands, illegalChars, environmentMacros);
      execFileSync(nagiosBin, ['-v', path.join(dir, 'nagios.cfg')], { stdio: 'pipe' });
      // Bounds the script's retries, so no notification outlives the test by long.
      const env = { ...process.env, FAULTDESK_NOTIFY_MAX_TIME: '5' };
      const nagios = spawn(nagiosBin, [path.join(dir, 'nagios.cfg')], { stdio: 'ignore', env });
      return new Rig(dir, daemon, nagios, cleanup);
    } catch (err) {
      await daemon.stop();
      cleanup();
      throw err;
    }
  }

  async stop(): Promise<void> {
    if (this.nagios.exitCode === null && this.nagios.signalCode === null) {
      const exited = new Promise((r) => this.nagios.once('exit', r));
      this.nagios.kill('SIGTERM');
      const killer = setTimeout(() => this.nagios.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
    await this.daemon.stop();
    this.cleanup();
  }

  /** A file that a command smuggled into a macro would create. */
  marker(name: string): string {
    return path.join(this.dir, 'markers', name);
  }

  markers(): string[] {
    return readdirSync(path.join(this.dir, 'markers'));
  }

  log(): string {
    const file = path.join(this.dir, 'nagios.log');
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }

  setState(code: number, output: string): void {
    writeFileSync(path.join(this.dir, 'state.out'), output);
    writeFileSync(path.join(this.dir, 'state.code'), String(code));
  }

  /** An external command, as the CGIs and scripts submit them. */
  command(line: string): void {
    appendFileSync(path.join(this.dir, 'nagios.cmd'), `[${Math.floor(Date.now() / 1000)}] ${line}\n`);
  }

  private forceCheck(): void {
    if (existsSync(path.join(this.dir, 'nagios.cmd'))) this.command(`SCHEDULE_FORCED_SVC_CHECK;web1;Public site;${Math.floor(Date.now() / 1000)}`);
  }

  calls(): Call[] {
    const file = path.join(this.dir, 'calls.txt');
    if (!existsSync(file)) return [];
    const calls: Call[] = [];
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (line === '--- call') calls.push({ args: [], env: {} });
      const call = calls.at(-1);
      if (!call) continue;
      if (line.startsWith('arg ')) call.args.push(line.slice(4));
      else if (line.startsWith('env ')) {
        const [name, ...value] = line.slice(4).split('=');
        call.env[name!] = value.join('=');
      } else if (line.startsWith('--- exit ')) call.exit = Number(line.slice(9));
    }
    return calls;
  }

  async get<T>(route: string): Promise<T> {
    const res = await fetch(`${this.daemon.url}${route}`, { headers: { Authorization: `Bearer ${ADMIN}` } });
    if (!res.ok) throw new Error(`GET ${route}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  async faults() {
    return (await this.get<{ faults: Array<{ id: string; state: string; category: string; key: string }> }>('/api/v1/faults')).faults;
  }

  async fault(id: string) {
    return this.get<{
      alerts: Array<{ annotations: Record<string, string>; labels: Record<string, string> }>;
      timeline: { entries: Array<{ event: string; detail?: string }> };
    }>(`/api/v1/faults/${id}`);
  }

  /** Polls until probe gives a value, forcing checks meanwhile; the error ends with Nagios' log. */
  async waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 60_000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${what}; nagios.log ends:\n${this.log().slice(-3000)}`);
      }
      this.forceCheck();
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  /** Waits until every notification of this type has run to its end, and the shell around it too. */
  async notified(type: string): Promise<Call[]> {
    const typeOf = (c: Call) => c.env.NAGIOS_NOTIFICATIONTYPE ?? c.args.find((a) => a.startsWith('notification_type='))?.slice(18);
    const done = await this.waitFor(`a finished ${type} notification`, () => {
      const calls = this.calls().filter((c) => typeOf(c) === type);
      return calls.length > 0 && calls.every((c) => c.exit !== undefined) ? calls : undefined;
    });
    // A command line that a macro broke out of runs what follows the script after it.
    await new Promise((r) => setTimeout(r, 1500));
    return done;
  }
}

/** What a macro of the command line keeps of a text under an illegal_macro_output_chars list. */
function stripped(text: string, list: string): string {
  return [...text].filter((ch) => !list.includes(ch)).join('');
}

/** Text that runs commands if it ever reaches a shell unquoted: each would leave a marker. */
function hostile(rig: Rig) {
  const m = (name: string) => rig.marker(name);
  return {
    output: `HTTP CRITICAL - "/health" can't answer: 503 $(touch ${m('output-subst')}) \`touch ${m('output-tick')}\` x'; touch ${m('output-quote')}; echo 'y a & b < c > d ~e — Grüße ✓`,
    longOutput: `first detail line\nsecond "detail" line can't $(touch ${m('long-subst')})`,
    // Nagios splits an external command at ";" up to the comment, so an author cannot hold one.
    author: `O'Brien "Bob" $(touch ${m('author-subst')}) \`touch ${m('author-tick')}\``,
    comment: `can't fix: "disk" full; $(touch ${m('comment-subst')}) \`touch ${m('comment-tick')}\` x'; touch ${m('comment-quote')}; echo 'y "; touch ${m('comment-dquote')}; echo " a|b & c<d>e ~f — Grüße ✓`,
  };
}

describe.each([
  ['faultdesk.cfg (environment macros), Nagios’ default illegal_macro_output_chars', 'faultdesk.cfg', DEFAULT_LIST],
  ['faultdesk.cfg (environment macros), illegal_macro_output_chars without quotes', 'faultdesk.cfg', EDITED_LIST],
  ['faultdesk-args.cfg (macros on the command line), Nagios’ default illegal_macro_output_chars', 'faultdesk-args.cfg', DEFAULT_LIST],
] as Array<[string, Commands, string]>)('%s', (_name, commands, list) => {
  let rig: Rig;
  let faultId: string;
  let text: ReturnType<typeof hostile>;
  /** Environment macros carry text as it is; a command line carries what the list leaves of it. */
  const arrives = (t: string) => (commands === 'faultdesk.cfg' ? t : stripped(t, list));

  beforeAll(async () => {
    rig = await Rig.start(commands, list);
    text = hostile(rig);
  });
  afterAll(async () => {
    await rig?.stop();
  });

  test('a service goes CRITICAL: one fault opens, nothing in the plugin output runs, and the output arrives as the setup passes it', async () => {
    rig.setState(2, `${text.output}\n${text.longOutput}`);
    const fault = await rig.waitFor('an open fault', async () => (await rig.faults()).find((f) => f.state === 'open'));
    faultId = fault.id;
    expect(fault).toMatchObject({ category: 'nagios-http', key: '{host="web1",service="Public site"}' });
    await rig.notified('PROBLEM');
    const detail = await rig.fault(fault.id);
    // Nagios itself turns ";" into ":" in the first line of plugin output (base/checks.c), whatever the setup.
    expect(detail.alerts[0]!.annotations.output).toBe(arrives(text.output.replaceAll(';', ':')));
    expect(detail.alerts[0]!.annotations.long_output).toBe(arrives(text.longOutput));
    expect(detail.alerts[0]!.labels).toMatchObject({ monitor: 'nagios', host: 'web1', service: 'Public site', severity: 'critical', plugin: 'http' });
    expect(rig.markers()).toEqual([]);
  });

  test(`an acknowledgement whose author and comment hold ', ", $(...), backticks and ; runs nothing, and reaches the timeline ${commands === 'faultdesk.cfg' ? 'byte for byte' : 'stripped of the listed characters'}`, async () => {
    rig.command(`ACKNOWLEDGE_SVC_PROBLEM;web1;Public site;1;1;0;${text.author};${text.comment}`);
    const expected = `Acknowledged in Nagios by ${arrives(text.author)}: ${arrives(text.comment)}`;
    const entry = await rig.waitFor('the comment on the timeline', async () =>
      (await rig.fault(faultId)).timeline.entries.find((e) => e.event === 'comment'),
    );
    expect(entry.detail).toBe(expected);
    // With environment macros nothing but the admin's URL and token is on the command line.
    const [ack] = await rig.notified('ACKNOWLEDGEMENT');
    if (commands === 'faultdesk.cfg') expect(ack!.args).toEqual(['--env', 'service', rig.daemon.url, TOKEN]);
    await drain(rig.daemon);
    const { tickets } = await rig.get<{ tickets: Array<{ comments: Array<{ body: string }> }> }>('/api/v1/tickets');
    expect(tickets[0]!.comments.map((c) => c.body)).toContain(expected);
    expect(rig.markers()).toEqual([]);
    if (commands === 'faultdesk.cfg') expect(expected).toContain(`O'Brien "Bob"`);
    else expect(expected).toContain('OBrien Bob');
  });

  test('the service recovers: the fault resolves, and the recovery names the problem id', async () => {
    rig.setState(0, 'HTTP OK - 200 in 0.01 s');
    await rig.waitFor('the fault to resolve', async () => ((await rig.faults()).every((f) => f.state === 'resolved') ? true : undefined));
    await drain(rig.daemon);
    const { tickets } = await rig.get<{ tickets: Array<{ status: string }> }>('/api/v1/tickets');
    expect(tickets).toEqual([expect.objectContaining({ status: 'solved' })]);

    // What this Nagios put in the problem-id macros, for the record: the recovery must name the problem's id.
    const macro = (c: Call | undefined, name: string, field: string) =>
      c?.env[`NAGIOS_${name}`] ?? c?.args.find((a) => a.startsWith(`${field}=`))?.slice(field.length + 1);
    const [problem] = await rig.notified('PROBLEM');
    const [recovery] = await rig.notified('RECOVERY');
    const problemId = macro(problem, 'SERVICEPROBLEMID', 'service_problem_id');
    expect(problemId).toMatch(/^[1-9]\d*$/);
    const current = macro(recovery, 'SERVICEPROBLEMID', 'service_problem_id');
    const last = macro(recovery, 'LASTSERVICEPROBLEMID', 'last_service_problem_id');
    expect([current, last]).toContain(problemId);
    if (commands === 'faultdesk-args.cfg' && list === DEFAULT_LIST) {
      const version = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'nagios4-core']).toString();
      process.stdout.write(
        `nagios ${version}: PROBLEM service_problem_id=${problemId}; RECOVERY service_problem_id=${current} last_service_problem_id=${last}: ` +
          `the id is in ${current === problemId ? 'service_problem_id' : 'last_service_problem_id'}\n`,
      );
    }
    expect(rig.markers()).toEqual([]);
  });
});

// Why faultdesk.cfg is the recommended setup: README's warning, checked against the real program.
describe('faultdesk-args.cfg (macros on the command line), illegal_macro_output_chars without quotes', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await Rig.start('faultdesk-args.cfg', EDITED_LIST);
  });
  afterAll(async () => {
    await rig?.stop();
  });

  test('an acknowledgement comment runs as shell code on the Nagios host', async () => {
    rig.setState(2, 'HTTP CRITICAL - 503');
    await rig.waitFor('an open fault', async () => (await rig.faults()).find((f) => f.state === 'open'));
    await rig.notified('PROBLEM');
    expect(rig.markers()).toEqual([]);
    rig.command(`ACKNOWLEDGE_SVC_PROBLEM;web1;Public site;1;1;0;grace;x'; touch ${rig.marker('ran')}; echo 'y`);
    await rig.waitFor('the command in the comment to run', () => (rig.markers().includes('ran') ? true : undefined), 30_000);
  });
});

describe('faultdesk.cfg without enable_environment_macros', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await Rig.start('faultdesk.cfg', DEFAULT_LIST, false);
  });
  afterAll(async () => {
    await rig?.stop();
  });

  test('the notification fails with a message in Nagios’ log that says what to enable', async () => {
    rig.setState(2, 'HTTP CRITICAL - 503');
    // Without environment macros the call does not say what it is about; it is the only one.
    const call = await rig.waitFor('a finished notification', () => rig.calls().find((c) => c.exit !== undefined));
    expect(call).toEqual({ args: ['--env', 'service', rig.daemon.url, TOKEN], env: {}, exit: 3 });
    await rig.waitFor('the failure in nagios.log', () => (rig.log().includes('--env needs enable_environment_macros=1 in nagios.cfg') ? true : undefined), 30_000);
    expect(await rig.faults()).toEqual([]);
  });
});
