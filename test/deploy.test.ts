import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, realpathSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import * as k8sApps from 'kubernetes-models/apps/v1';
import * as k8sCore from 'kubernetes-models/v1';
import { loadConfig, SourceError } from '../src/config';
import { REPO, tempDir } from './helpers';
import { dockerfileBases } from './e2e/container/podman';

// The shipped ways to run faultdesk: the image's Dockerfile and config, the compose example with
// its secrets script, the Kubernetes example. The image itself is built and run by
// test/e2e/container.e2e.ts.

const DEPLOY = path.join(REPO, 'config/deploy');
const VERSION = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
const read = (file: string) => readFileSync(path.join(REPO, file), 'utf8');

/** Loads a faultdesk config whose secret files live under `secretsDir`, from token files made in a temp folder. */
function loadWithSecrets(text: string, secretsDir: string, env: Record<string, string> = {}) {
  const { dir, cleanup } = tempDir('faultdesk-deploy-');
  try {
    const files = new Set([...text.matchAll(/_file: (\S+?)\s*[},\n]/g)].map((m) => m[1] as string));
    let local = text;
    for (const file of files) {
      expect(path.dirname(file)).toBe(secretsDir);
      writeFileSync(path.join(dir, path.basename(file)), `${path.basename(file)}-value\n`);
      local = local.split(file).join(path.join(dir, path.basename(file)));
    }
    const configFile = path.join(dir, 'faultdesk.yaml');
    writeFileSync(configFile, local);
    return { config: loadConfig({ file: configFile, env }), secretNames: [...files].map((f) => path.basename(f)).sort() };
  } finally {
    cleanup();
  }
}

/** A command from Debian that CI installs (.ci/run); elsewhere its test is skipped, saying so. */
function tool(bin: string, pkg: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'pipe' });
    return true;
  } catch {
    if (process.env.CI) throw new Error(`${bin} is missing (Debian package ${pkg}); .ci/run installs it`);
    process.stderr.write(`\nSKIPPING a deploy test: ${bin} is not installed (Debian package ${pkg}).\n`);
    return false;
  }
}

function run(bin: string, args: string[], cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(bin, args, { cwd, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

describe('the container image', () => {
  const dockerfile = read('Dockerfile');

  test('builds every stage on one exact Node 24 LTS image, runs as the user node with a health check and SIGTERM', () => {
    expect(dockerfileBases(dockerfile)).toEqual([expect.stringMatching(/^docker\.io\/library\/node:24\.\d+\.\d+-bookworm-slim$/)]);
    expect(dockerfile.match(/^FROM /gm)!.length).toBeGreaterThanOrEqual(2);
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^HEALTHCHECK .*\/-\/healthy/ms);
    expect(runtime).toMatch(/^STOPSIGNAL SIGTERM$/m);
    expect(runtime).toMatch(/^VOLUME \["\/var\/lib\/faultdesk"\]$/m);
    // Exec form: node is PID 1 and gets the signal itself, not a shell; a young generation of 8 MiB
    // semi-spaces and one V8 helper thread.
    expect(runtime).toMatch(/^ENTRYPOINT \["node", "--max-semi-space-size=8", "--v8-pool-size=1", "\/app\/dist\/cli\.js"\]$/m);
    expect(runtime).toMatch(/^CMD \["run", "--config", "\/etc\/faultdesk\/faultdesk\.yaml"\]$/m);
    expect(runtime).toMatch(/^COPY config\/container\.yaml \/etc\/faultdesk\/faultdesk\.yaml$/m);
    expect(runtime).toMatch(/^COPY rules \/etc\/faultdesk\/rules$/m);
  });

  test('npm start gives node the flags the image gives it (the benchmarks take them from npm start)', () => {
    const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
    const start = (JSON.parse(read('package.json')) as { scripts: { start: string } }).scripts.start.split(/\s+/);
    // The words between node and the script; the ENTRYPOINT's own value is pinned by the test above.
    const flags = (words: string[], cli: string) => {
      expect(words[0]).toBe('node');
      expect(words).toContain(cli);
      return words.slice(1, words.indexOf(cli));
    };
    expect(flags(start, 'dist/cli.js')).toEqual(flags(entrypoint, '/app/dist/cli.js'));
  });

  test('keeps secrets and local state out of the build context', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim());
    for (const entry of ['.git', 'node_modules', 'dist', 'config/deploy/secrets', 'secrets', '*.db', '.env']) expect(ignored).toContain(entry);
  });

  test("the image's config listens on every address with every endpoint behind a secret file, the database on the volume", () => {
    const text = read('config/container.yaml');
    const { config, secretNames } = loadWithSecrets(text, '/run/secrets');
    expect(secretNames).toEqual(['faultdesk-admin-token', 'faultdesk-source-token']);
    expect(config.listen).toBe('0.0.0.0:9095');
    expect(config.store.url).toBe('sqlite:/var/lib/faultdesk/faultdesk.db');
    expect(config.rules).toBe('/etc/faultdesk/rules/');
    for (const source of ['alertmanager', 'zabbix', 'nagios', 'generic'] as const) {
      expect(config.auth.sources[source]?.bearer_token).toBe('faultdesk-source-token-value');
    }
    expect(config.auth.admin?.bearer_token).toBe('faultdesk-admin-token-value');
    expect(config.auth.allow_unauthenticated).toBe(false);
  });

  test("without the secrets the image's config is refused, naming the missing file and where it is set", () => {
    if (existsSync('/run/secrets/faultdesk-source-token')) return; // a machine that has them: nothing to show
    let error: unknown;
    try {
      loadConfig({ file: path.join(REPO, 'config/container.yaml') });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SourceError);
    expect((error as Error).message).toMatch(/config\/container\.yaml:\d+:\d+: .*cannot read \/run\/secrets\/faultdesk-source-token: ENOENT/);
  });
});

test("README's podman and docker commands give the image the secrets its config reads, by the same name", () => {
  const section = read('README.md').split('\n## Containers')[1]!.split('\n## ')[0] as string;
  const { secretNames } = loadWithSecrets(read('config/container.yaml'), '/run/secrets');
  const podmanRun = /^podman run [^]*?localhost\/faultdesk:\S+$/m.exec(section)?.[0] ?? '';
  const dockerRun = /^docker run [^]*?localhost\/faultdesk:\S+$/m.exec(section)?.[0] ?? '';
  expect([...podmanRun.matchAll(/--secret (\S+)/g)].map((m) => m[1]).sort()).toEqual(secretNames);
  expect([...dockerRun.matchAll(/:\/run\/secrets\/([^:]+):ro/g)].map((m) => m[1]).sort()).toEqual(secretNames);
  for (const name of secretNames) expect(section).toContain(`podman secret create ${name} -`);
  expect(podmanRun).toContain(`localhost/faultdesk:${VERSION}`);
});

describe('the compose example', () => {
  const compose = parse(readFileSync(path.join(DEPLOY, 'compose.yaml'), 'utf8'));
  let tmp: { dir: string; cleanup: () => void };
  let deploy: string;

  // A copy of the repository's layout, so the script writes its secrets there and not into the repository.
  beforeAll(() => {
    tmp = tempDir('faultdesk-compose-');
    deploy = path.join(tmp.dir, 'config/deploy');
    mkdirSync(deploy, { recursive: true });
    for (const f of ['compose.yaml', 'faultdesk.yaml', 'nginx.conf', 'setup-secrets.sh']) cpSync(path.join(DEPLOY, f), path.join(deploy, f));
    symlinkSync(path.join(REPO, 'rules'), path.join(tmp.dir, 'rules'));
    symlinkSync(path.join(REPO, 'Dockerfile'), path.join(tmp.dir, 'Dockerfile'));
  });
  afterAll(() => tmp.cleanup());

  test('setup-secrets.sh, run from any folder, makes every file compose.yaml needs, beside compose.yaml, and keeps them on a second run', () => {
    const script = path.join(deploy, 'setup-secrets.sh');
    execFileSync(script, [], { cwd: tmp.dir, stdio: 'pipe' });
    const secrets = path.join(deploy, 'secrets');
    expect(statSync(secrets).mode & 0o777).toBe(0o700);
    const referenced = [
      ...Object.values(compose.secrets as Record<string, { file: string }>).map((s) => s.file),
      ...[compose.services.faultdesk.env_file].flat(),
    ];
    const contents = referenced.map((f: string) => {
      const file = path.resolve(deploy, f);
      expect(file.startsWith(`${secrets}/`)).toBe(true);
      return readFileSync(file, 'utf8');
    });
    const tokens = ['faultdesk-source-token', 'faultdesk-admin-token', 'postgres-password'].map((n) => readFileSync(path.join(secrets, n), 'utf8').trim());
    for (const t of tokens) expect(t).toMatch(/^[0-9a-f]{48}$/);
    expect(new Set(tokens).size).toBe(3);
    // faultdesk reaches the database with the password postgres was given.
    const env = readFileSync(path.join(secrets, 'store.env'), 'utf8');
    expect(env).toBe(`FAULTDESK_STORE_URL=postgres://faultdesk:${tokens[2]}@postgres:5432/faultdesk\n`);
    expect(statSync(path.join(secrets, 'store.env')).mode & 0o077).toBe(0);

    execFileSync(script, [], { cwd: deploy, stdio: 'pipe' });
    expect(referenced.map((f: string) => readFileSync(path.resolve(deploy, f), 'utf8'))).toEqual(contents);
  });

  test("the replicas' config reads the secrets compose mounts, and the rules compose mounts", () => {
    const service = compose.services.faultdesk;
    expect(service.image).toBe(`localhost/faultdesk:${VERSION}`);
    expect(service.deploy.replicas).toBe(2);
    expect(service.volumes).toEqual(expect.arrayContaining(['./faultdesk.yaml:/etc/faultdesk/faultdesk.yaml:ro', '../../rules:/etc/faultdesk/rules:ro']));
    const { config, secretNames } = loadWithSecrets(readFileSync(path.join(DEPLOY, 'faultdesk.yaml'), 'utf8'), '/run/secrets', {
      FAULTDESK_STORE_URL: 'postgres://faultdesk:x@postgres:5432/faultdesk',
    });
    expect(secretNames).toEqual([...service.secrets].sort());
    expect(config.listen).toBe('0.0.0.0:9095');
    expect(config.rules).toBe('/etc/faultdesk/rules/');
    expect(config.auth.admin?.bearer_token).toBe('faultdesk-admin-token-value');
  });

  test('docker-compose (Debian) accepts it against the Compose schema, and refuses a misspelt key', async () => {
    if (!tool('docker-compose', 'docker-compose')) return;
    const ok = await run('docker-compose', ['-f', path.join(deploy, 'compose.yaml'), 'config'], tmp.dir);
    expect(ok).toMatchObject({ code: 0 });
    const resolved = parse(ok.out);
    expect(resolved.secrets['faultdesk-admin-token'].file).toBe(path.join(deploy, 'secrets/faultdesk-admin-token'));
    expect(resolved.services.faultdesk.environment.FAULTDESK_STORE_URL).toMatch(/^postgres:\/\/faultdesk:[0-9a-f]{48}@postgres:5432\/faultdesk$/);
    expect(resolved.services.faultdesk.build.context).toBe(tmp.dir);

    const bad = path.join(deploy, 'compose-misspelt.yaml');
    writeFileSync(bad, readFileSync(path.join(deploy, 'compose.yaml'), 'utf8').replace('stop_grace_period:', 'stop_grace_periode:'));
    const refused = await run('docker-compose', ['-f', bad, 'config', '-q'], tmp.dir);
    expect(refused.code).not.toBe(0);
    expect(refused.out).toContain("Unsupported config option for services.faultdesk: 'stop_grace_periode'");
  });

  test('podman-compose (Debian) turns it into podman commands: two replicas with their secrets, config and rules', async () => {
    if (!tool('podman-compose', 'podman-compose')) return;
    // --dry-run still runs podman's look-ups (and would create the network): a podman that answers
    // every look-up with "yes" keeps this test free of side effects; the commands are printed.
    const fake = path.join(tmp.dir, 'podman');
    writeFileSync(fake, '#!/bin/sh\n[ "$1" = --version ] && echo "podman version 4.3.1"\nexit 0\n', { mode: 0o755 });
    const r = await run('podman-compose', ['--podman-path', fake, '--dry-run', '-p', 'fdtest', '-f', path.join(deploy, 'compose.yaml'), 'up', '-d'], tmp.dir);
    expect(r).toMatchObject({ code: 0 });
    const runs = r.out.split('\n').filter((l) => l.startsWith(`${fake} run --name=fdtest_faultdesk_`));
    expect(runs).toHaveLength(2);
    for (const line of runs) {
      expect(line).toContain(`--env-file ${path.join(deploy, 'secrets/store.env')}`);
      expect(line).toContain(`-v ${path.join(deploy, 'faultdesk.yaml')}:/etc/faultdesk/faultdesk.yaml:ro`);
      expect(line).toContain(`-v ${realpathSync(path.join(tmp.dir, 'rules'))}:/etc/faultdesk/rules:ro`);
      expect(line).toContain('--volume ./secrets/faultdesk-source-token:/run/secrets/faultdesk-source-token:ro');
      expect(line).toContain('--volume ./secrets/faultdesk-admin-token:/run/secrets/faultdesk-admin-token:ro');
      expect(line).toMatch(/--healthcheck-command .*\/-\/ready/);
      expect(line.endsWith(` localhost/faultdesk:${VERSION}`)).toBe(true);
    }
  });
});

describe('the Kubernetes example', () => {
  const docs = parseAllDocuments(read('config/deploy/kubernetes.yaml')).map((d) => d.toJS());
  const byKind = (kind: string) => docs.find((d) => d.kind === kind);

  /** The kubernetes-models class for a manifest, or undefined for a kind it has no schema for. */
  function model(doc: { apiVersion: string; kind: string }): { validate(): void } | undefined {
    const group: Record<string, unknown> = doc.apiVersion === 'v1' ? k8sCore : doc.apiVersion === 'apps/v1' ? k8sApps : {};
    const Model = group[doc.kind] as (new (d: unknown) => { validate(): void }) | undefined;
    return Model ? new Model(doc) : undefined;
  }

  test('every manifest is valid against the Kubernetes schemas (kubernetes-models), and a broken one is not', () => {
    expect(docs.map((d) => d.kind)).toEqual(['ConfigMap', 'Deployment', 'Service']);
    for (const doc of docs) {
      const m = model(doc);
      expect(m).toBeDefined();
      expect(() => m!.validate()).not.toThrow();
    }
    const broken = structuredClone(byKind('Deployment'));
    broken.spec.template.spec.containers[0].imagePullPolicy = 'Sometimes';
    delete broken.spec.template.spec.containers[0].volumeMounts[0].mountPath;
    expect(() => model(broken)!.validate()).toThrow(/imagePullPolicy must be equal to one of the allowed values|mountPath/);
  });

  test('a locally built image, pulled only if missing, run as the image user, with a grace period longer than the daemon needs', () => {
    const pod = byKind('Deployment').spec.template.spec;
    const container = pod.containers[0];
    expect(container.image).toBe(`localhost/faultdesk:${VERSION}`);
    expect(container.imagePullPolicy).toBe('IfNotPresent');
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(25);
    expect(container.readinessProbe.httpGet.path).toBe('/-/ready');
    expect(container.livenessProbe.httpGet.path).toBe('/-/healthy');
  });

  test('config and rules come from ConfigMaps mounted where the config and the command look for them', () => {
    const pod = byKind('Deployment').spec.template.spec;
    const container = pod.containers[0];
    const mount = (volume: (v: Record<string, unknown>) => boolean) => {
      const v = pod.volumes.find(volume);
      expect(v).toBeDefined();
      return container.volumeMounts.find((m: { name: string }) => m.name === v.name).mountPath as string;
    };
    const configDir = mount((v) => (v.configMap as { name?: string } | undefined)?.name === byKind('ConfigMap').metadata.name);
    const rulesDir = mount((v) => (v.configMap as { name?: string } | undefined)?.name === 'faultdesk-rules');
    const secretsDir = mount((v) => (v.secret as { secretName?: string } | undefined)?.secretName === 'faultdesk-tokens');
    const configKey = Object.keys(byKind('ConfigMap').data)[0] as string;
    expect(container.args).toEqual(['run', '--config', `${configDir}/${configKey}`]);

    const { config, secretNames } = loadWithSecrets(byKind('ConfigMap').data[configKey], secretsDir, {
      FAULTDESK_STORE_URL: 'postgres://faultdesk:x@postgres:5432/faultdesk',
    });
    expect(config.rules).toBe(`${rulesDir}/`);
    expect(config.listen).toBe('0.0.0.0:9095');
    // The keys of the tokens secret are the files the instructions make (setup-secrets.sh's names).
    expect(secretNames).toEqual(['faultdesk-admin-token', 'faultdesk-source-token']);
    const header = read('config/deploy/kubernetes.yaml').split('\n---')[0] as string;
    for (const name of secretNames) expect(header).toContain(`--from-file=config/deploy/secrets/${name}`);
    expect(header).toContain('kubectl create configmap faultdesk-rules --from-file=rules/');
  });
});
