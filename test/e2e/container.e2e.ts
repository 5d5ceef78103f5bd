import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { FIXTURES, REPO, tempDir } from '../helpers';
import { freshPostgres, POSTGRES } from '../postgres';
import { freePort } from '../process';
import { dockerfileBases, ensureStandin, podman, podmanRun, podmanUnusable } from './container/podman';

// The Dockerfile, built unchanged by Debian's podman on a stand-in of its base image (no image
// registry is reachable here), and the image run as an operator runs it: the shipped config,
// credentials as podman secrets, the database on a named volume. See README, "Containers".

// Each test starts or stops containers (a stop may take the 30 s grace period, a start up to 60 s).
jest.setTimeout(180_000);

const unusable = podmanUnusable();
if (unusable && process.env.CI) {
  // CI must build and run the image: a machine that cannot is a failure, not a skip.
  test('podman can run containers (CI must build and run the image)', () => {
    throw new Error(unusable);
  });
} else if (unusable) {
  process.stderr.write(`\nSKIPPING the container test: ${unusable}.\n`);
  test.skip('the container image (podman cannot run here)', () => undefined);
} else {
  describe('the container image', imageSuite);
}

interface ComposeService {
  env_file: string | string[];
  volumes: string[];
  secrets: string[];
}

interface K8sPod {
  securityContext: { runAsUser: number; runAsGroup: number };
  containers: {
    args: string[];
    volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
    securityContext: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; capabilities?: { drop?: string[] } };
  }[];
  volumes: { name: string; configMap?: { name: string }; secret?: { secretName: string }; emptyDir?: object }[];
}

function imageSuite(): void {
  const id = `${process.pid}-${randomBytes(3).toString('hex')}`;
  const IMAGE = 'localhost/faultdesk:e2e';
  const names = { container: `faultdesk-e2e-${id}`, volume: `faultdesk-e2e-${id}`, source: `faultdesk-e2e-${id}-source`, admin: `faultdesk-e2e-${id}-admin` };
  const SOURCE_TOKEN = randomBytes(16).toString('hex');
  const ADMIN_TOKEN = randomBytes(16).toString('hex');
  const containers: string[] = [];
  let tmp: { dir: string; cleanup: () => void };
  let url = '';
  const log = (line: string) => process.stderr.write(`container e2e: ${line}\n`);

  /** Starts the image as README shows: secrets, a named volume, the port published on loopback only. */
  async function start(name: string, extra: string[] = []): Promise<string> {
    containers.push(name);
    await podman([
      'run', '-d', '--name', name,
      '--secret', `${names.source},target=faultdesk-source-token`,
      '--secret', `${names.admin},target=faultdesk-admin-token`,
      '-v', `${names.volume}:/var/lib/faultdesk`,
      '-p', '127.0.0.1::9095',
      ...extra, IMAGE,
    ]);
    const port = (await podman(['port', name, '9095/tcp'])).trim().split(':').pop();
    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const state = (await podman(['inspect', '--format', '{{.State.Status}}', name])).trim();
      if (state !== 'running') throw new Error(`container ${name} is ${state}:\n${await logs(name)}`);
      if (await fetch(`${base}/-/ready`).then((r) => r.ok, () => false)) return base;
      if (Date.now() > deadline) throw new Error(`container ${name} not ready within 60 s:\n${await logs(name)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async function logs(name: string): Promise<string> {
    const r = await podmanRun(['logs', name]);
    return `${r.stdout}${r.stderr}`.slice(-4000);
  }

  const auth = (token: string) => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    tmp = tempDir('faultdesk-container-');
    const dockerfile = readFileSync(path.join(REPO, 'Dockerfile'), 'utf8');
    const bases = dockerfileBases(dockerfile);
    let t = Date.now();
    for (const base of bases) {
      const made = await ensureStandin(base, log);
      log(`stand-in ${base}: ${made ? `made in ${Math.round((Date.now() - t) / 1000)} s` : 'kept from an earlier run'}`);
      t = Date.now();
    }
    const before = await podmanRun(['image', 'inspect', '--format', '{{.Id}}', IMAGE]);
    // --format docker keeps the HEALTHCHECK (the OCI format has no place for it).
    await podman(['build', '--isolation=chroot', '--format', 'docker', '--pull=never', '-t', IMAGE, REPO], 40 * 60_000);
    log(`image built in ${Math.round((Date.now() - t) / 1000)} s`);
    const after = (await podman(['image', 'inspect', '--format', '{{.Id}}', IMAGE])).trim();
    // The image of the previous run, now untagged: removed by its id (the build cache stays).
    if (before.code === 0 && before.stdout.trim() !== after) await podmanRun(['rmi', before.stdout.trim()]);

    for (const [name, value] of [[names.source, SOURCE_TOKEN], [names.admin, ADMIN_TOKEN]] as const) {
      const file = path.join(tmp.dir, name);
      writeFileSync(file, `${value}\n`, { mode: 0o600 });
      await podman(['secret', 'create', name, file]);
    }
    url = await start(names.container);
  }, 60 * 60_000);

  afterAll(async () => {
    for (const name of containers) await podmanRun(['rm', '-f', '-v', '-t', '0', name]);
    await podmanRun(['volume', 'rm', '-f', names.volume]);
    await podmanRun(['secret', 'rm', names.source, names.admin]);
    tmp?.cleanup();
  }, 120_000);

  test('runs as a user other than root, and its health check passes', async () => {
    const status = await podman(['exec', names.container, 'cat', '/proc/1/status']);
    const uids = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
    expect(uids?.[1]).toBe('1000');
    expect(uids?.[2]).toBe('1000');
    expect((await podman(['image', 'inspect', '--format', '{{json .Config.Healthcheck.Test}}', IMAGE])).trim()).toContain('/-/healthy');
    const health = await podmanRun(['healthcheck', 'run', names.container]);
    expect({ code: health.code, out: health.stdout.trim() }).toEqual({ code: 0, out: '' }); // "unhealthy" and 1 when it fails
    expect(JSON.parse(await podman(['inspect', '--format', '{{json .State.Health}}', names.container]))).toMatchObject({ Status: 'healthy', FailingStreak: 0 });
  });

  test('takes the fixture alert with its token: one fault, one local ticket', async () => {
    const body = readFileSync(path.join(FIXTURES, 'am-firing.json'), 'utf8');
    const post = (headers: Record<string, string>) =>
      fetch(`${url}/api/v1/alerts/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    expect((await post({})).status).toBe(401);
    expect((await post(auth('not-the-token'))).status).toBe(401);
    const res = await post(auth(SOURCE_TOKEN));
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { faults: string[]; outcomes: Record<string, number> };
    expect(answer.outcomes).toEqual({ opened: 1 });
    const faultId = answer.faults[0] as string;

    const fault = (await (await fetch(`${url}/api/v1/faults/${faultId}`, { headers: auth(ADMIN_TOKEN) })).json()) as { state: string; category: string };
    expect(fault).toMatchObject({ state: 'open', category: 'target-down' });
    const deadline = Date.now() + 30_000;
    let tickets: { faultId: string; status: string; subject: string }[] = [];
    while (Date.now() < deadline) {
      tickets = ((await (await fetch(`${url}/api/v1/tickets`, { headers: auth(ADMIN_TOKEN) })).json()) as { tickets: typeof tickets }).tickets;
      if (tickets.length > 0) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(tickets).toEqual([expect.objectContaining({ faultId, status: 'open', subject: expect.stringContaining('TargetDown') })]);
  });

  test('stops cleanly on SIGTERM within the grace period; the database outlives the container; config and rules mount over the image\'s', async () => {
    const faults = async (base: string) => ((await (await fetch(`${base}/api/v1/faults`, { headers: auth(ADMIN_TOKEN) })).json()) as { faults: { id: string }[] }).faults;
    const before = await faults(url);
    expect(before).toHaveLength(1);
    const t = Date.now();
    // podman stop sends the image's STOPSIGNAL (SIGTERM) and kills only after the 30 s grace period.
    await podman(['stop', '-t', '30', names.container], 60_000);
    const seconds = (Date.now() - t) / 1000;
    const state = JSON.parse(await podman(['inspect', '--format', '{{json .State}}', names.container])) as { ExitCode: number; Status: string };
    expect({ status: state.Status, exitCode: state.ExitCode }).toEqual({ status: 'exited', exitCode: 0 });
    expect(seconds).toBeLessThan(30);
    const output = await logs(names.container);
    expect(output).toContain('SIGTERM received, stopping');
    expect(output).toContain('faultdesk stopped');

    // A second container on the same volume, with a config and a rules folder of the operator's own.
    const rules = path.join(tmp.dir, 'rules');
    mkdirSync(rules, { mode: 0o755 });
    copyFileSync(path.join(REPO, 'rules/10-prometheus.yaml'), path.join(rules, '10-prometheus.yaml'));
    const config = path.join(tmp.dir, 'faultdesk.yaml');
    writeFileSync(config, `${readFileSync(path.join(REPO, 'config/container.yaml'), 'utf8')}log: { level: debug }\n`);
    chmodSync(rules, 0o755);
    const again = await start(`${names.container}-2`, ['-v', `${config}:/etc/faultdesk/faultdesk.yaml:ro`, '-v', `${rules}:/etc/faultdesk/rules:ro`]);
    expect((await faults(again)).map((f) => f.id)).toEqual(before.map((f) => f.id));
    const started = (await logs(`${names.container}-2`)).split('\n').find((l) => l.includes('faultdesk listening'));
    expect(JSON.parse(started ?? '{}')).toMatchObject({ rules: 1, level: 'info' });
    expect(await logs(`${names.container}-2`)).toContain('"level":"debug"');
  });

  // The compose example's faultdesk service as compose starts it (its config, rules and secrets
  // mounted, its env file), with the secrets setup-secrets.sh makes, on the image built above from
  // the same Dockerfile. Only the addresses differ: the host's network, so that it reaches the
  // PostgreSQL of the tests, and a loopback port.
  /**
   * Runs the image with `args` (mounts, env) on a fresh PostgreSQL schema, on the host's network
   * so that it reaches the tests' PostgreSQL, at a loopback port; posts the fixture alert with
   * `token`, checks it opens a fault, and that SIGTERM ends it with 0. Returns its startup line.
   */
  async function runOnPostgres(name: string, args: string[], token: string, command: string[] = []): Promise<Record<string, unknown>> {
    const pg = await freshPostgres();
    const port = await freePort();
    containers.push(name);
    try {
      await podman(['run', '-d', '--name', name, '--network', 'host', ...args, '-e', `FAULTDESK_STORE_URL=${pg.url}`, '-e', `FAULTDESK_LISTEN=127.0.0.1:${port}`, IMAGE, ...command]);
      const base = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 60_000;
      while (!(await fetch(`${base}/-/ready`).then((r) => r.ok, () => false))) {
        if (Date.now() > deadline) throw new Error(`${name} did not become ready:\n${await logs(name)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      const res = await fetch(`${base}/api/v1/alerts/alertmanager`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth(token) },
        body: readFileSync(path.join(FIXTURES, 'am-firing.json'), 'utf8'),
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { outcomes: Record<string, number> }).outcomes).toEqual({ opened: 1 });
      const started = JSON.parse((await logs(name)).split('\n').find((l) => l.includes('faultdesk listening')) ?? '{}') as Record<string, unknown>;
      await podman(['stop', '-t', '30', name], 60_000);
      expect((await podman(['inspect', '--format', '{{.State.ExitCode}}', name])).trim()).toBe('0');
      return started;
    } finally {
      await podmanRun(['rm', '-f', '-v', '-t', '0', name]);
      await pg.drop();
    }
  }

  /** A copy of the repository's layout (config/deploy/, rules/) with the secrets setup-secrets.sh makes. */
  function deployCopy(): string {
    const root = path.join(tmp.dir, 'deploy-copy');
    const deploy = path.join(root, 'config/deploy');
    if (existsSync(deploy)) return deploy;
    mkdirSync(deploy, { recursive: true });
    for (const f of ['compose.yaml', 'faultdesk.yaml', 'kubernetes.yaml', 'setup-secrets.sh']) copyFileSync(path.join(REPO, 'config/deploy', f), path.join(deploy, f));
    chmodSync(path.join(deploy, 'setup-secrets.sh'), 0o755);
    symlinkSync(path.join(REPO, 'rules'), path.join(root, 'rules'));
    execFileSync(path.join(deploy, 'setup-secrets.sh'), { stdio: 'pipe' });
    return deploy;
  }

  const skipWithoutPostgres = (what: string) => {
    if (POSTGRES) return false;
    process.stderr.write(`SKIPPING ${what} in the container: no PostgreSQL (see the PostgreSQL tests)\n`);
    return true;
  };

  // The compose example's faultdesk service as compose starts it (its config, rules and secrets
  // mounted, its env file), with the secrets setup-secrets.sh makes, on the image built above from
  // the same Dockerfile. Only the addresses differ.
  test('the compose example runs: its config and the secrets of setup-secrets.sh, on PostgreSQL', async () => {
    if (skipWithoutPostgres('the compose example')) return;
    const deploy = deployCopy();
    const compose = parse(readFileSync(path.join(deploy, 'compose.yaml'), 'utf8')) as { services: Record<string, ComposeService>; secrets: Record<string, { file: string }> };
    const service = compose.services.faultdesk as ComposeService;
    const args = [
      ...[service.env_file].flat().flatMap((f) => ['--env-file', path.resolve(deploy, f)]),
      ...service.volumes.flatMap((v) => {
        const [from, ...rest] = v.split(':');
        return ['-v', [realpathSync(path.resolve(deploy, from as string)), ...rest].join(':')];
      }),
      ...service.secrets.flatMap((name) => ['-v', `${path.resolve(deploy, (compose.secrets[name] as { file: string }).file)}:/run/secrets/${name}:ro`]),
    ];
    const token = readFileSync(path.join(deploy, 'secrets/faultdesk-source-token'), 'utf8').trim();
    expect(await runOnPostgres(`${names.container}-compose`, args, token)).toMatchObject({ store: 'postgres', rules: 6 });
  });

  // The Kubernetes pod as the kubelet would start it: the ConfigMaps and the Secret as folders where
  // the Deployment mounts them, its args, its security context (uid, read-only root, no capabilities).
  test('the Kubernetes example runs: its ConfigMaps and Secret mounted as the pod has them, read-only root, on PostgreSQL', async () => {
    if (skipWithoutPostgres('the Kubernetes example')) return;
    const deploy = deployCopy();
    const docs = parseAllDocuments(readFileSync(path.join(deploy, 'kubernetes.yaml'), 'utf8')).map((d) => d.toJS());
    const pod = docs.find((d) => d.kind === 'Deployment').spec.template.spec as K8sPod;
    const container = pod.containers[0] as K8sPod['containers'][number];
    const volumes = path.join(tmp.dir, 'k8s-volumes');
    const args: string[] = [];
    for (const mount of container.volumeMounts) {
      const volume = pod.volumes.find((v) => v.name === mount.name) as K8sPod['volumes'][number];
      const dir = path.join(volumes, mount.name);
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      chmodSync(dir, 0o755);
      if (volume.configMap?.name === 'faultdesk-rules') {
        // kubectl create configmap faultdesk-rules --from-file=rules/: every file of rules/.
        for (const f of readdirSync(path.join(REPO, 'rules'))) copyFileSync(path.join(REPO, 'rules', f), path.join(dir, f));
      } else if (volume.configMap) {
        const data = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === volume.configMap?.name).data as Record<string, string>;
        for (const [key, value] of Object.entries(data)) writeFileSync(path.join(dir, key), value, { mode: 0o644 });
      } else if (volume.secret?.secretName === 'faultdesk-tokens') {
        for (const key of ['faultdesk-source-token', 'faultdesk-admin-token']) copyFileSync(path.join(deploy, 'secrets', key), path.join(dir, key));
      } else if (!volume.emptyDir) {
        throw new Error(`no stand-in for volume ${mount.name}`);
      }
      args.push('-v', `${dir}:${mount.mountPath}${mount.readOnly ? ':ro' : ''}`);
    }
    const sc = { ...pod.securityContext, ...container.securityContext };
    if (sc.readOnlyRootFilesystem) args.push('--read-only');
    if (sc.allowPrivilegeEscalation === false) args.push('--security-opt', 'no-new-privileges');
    for (const cap of sc.capabilities?.drop ?? []) args.push('--cap-drop', cap);
    args.push('--user', `${sc.runAsUser}:${sc.runAsGroup}`);
    // The pod's args replace the image's CMD, as the arguments after the image do.
    const token = readFileSync(path.join(deploy, 'secrets/faultdesk-source-token'), 'utf8').trim();
    const started = await runOnPostgres(`${names.container}-k8s`, args, token, container.args);
    expect(started).toMatchObject({ store: 'postgres', rules: 6, listen: expect.stringMatching(/^127\.0\.0\.1:/) });
  });

  test('without its secrets it exits at once and names the missing file', async () => {
    const name = `${names.container}-nosecret`;
    containers.push(name);
    const r = await podmanRun(['run', '--name', name, IMAGE], 60_000);
    expect(r.code).toBe(1);
    expect(`${r.stdout}${r.stderr}`).toMatch(/cannot read \/run\/secrets\/faultdesk-(source|admin)-token: ENOENT/);
  });
}
