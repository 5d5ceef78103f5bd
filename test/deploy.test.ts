import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, SourceError } from '../src/config';
import { REPO, tempDir } from './helpers';
import { dockerfileBases } from './e2e/container/podman';

// The shipped ways to run faultdesk: the image's Dockerfile and config. The image itself is built
// and run by test/e2e/container.e2e.ts.

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
    // Exec form: node is PID 1 and gets the signal itself, not a shell.
    expect(runtime).toMatch(/^ENTRYPOINT \["node", "\/app\/dist\/cli\.js"\]$/m);
    expect(runtime).toMatch(/^CMD \["run", "--config", "\/etc\/faultdesk\/faultdesk\.yaml"\]$/m);
    expect(runtime).toMatch(/^COPY config\/container\.yaml \/etc\/faultdesk\/faultdesk\.yaml$/m);
    expect(runtime).toMatch(/^COPY rules \/etc\/faultdesk\/rules$/m);
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
