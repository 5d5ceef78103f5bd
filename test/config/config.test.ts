import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { loadConfig, parseDuration, SourceError } from '../../src/config';
import { createLogger } from '../../src/log';
import { REPO, tempDir } from '../helpers';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

function errorsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    if (err instanceof SourceError) return err.message.split('\n');
    throw err;
  }
  throw new Error('expected an error');
}

describe('config', () => {
  test('the shipped config is valid and gives the documented defaults', () => {
    const config = loadConfig({ file: path.join(REPO, 'config/faultdesk.yaml') });
    expect(config.listen).toBe('127.0.0.1:9095');
    expect(config.store.url).toBe('sqlite:data/faultdesk.db');
    expect(config.rules).toBe('rules/');
    expect(config.tickets.default).toBe('local');
    expect(config.faults.update_interval).toBe(300_000);
    expect(config.faults.reopen_within).toBe(3_600_000);
  });

  test('a bare `tiers:` turns tiers on with the default levels; no key leaves them off', () => {
    expect(loadConfig({ file: write('t.yaml', 'tiers:\n') }).tiers?.levels.map((l) => l.name)).toEqual(['L1', 'L2', 'L3']);
    expect(loadConfig({ file: write('n.yaml', 'log: { level: info }\n') }).tiers).toBeUndefined();
  });

  test('retention: a duration, or 0 to keep everything; 90 days by default; a bad one names the key', () => {
    expect(loadConfig({ file: write('r.yaml', 'retention: 30d\n') }).retention).toBe(30 * 86_400_000);
    expect(loadConfig({ file: write('z.yaml', 'retention: 0\n') }).retention).toBe(0);
    expect(loadConfig({ file: write('d.yaml', 'log: { level: info }\n') }).retention).toBe(90 * 86_400_000);
    expect(errorsOf(() => loadConfig({ file: write('b.yaml', 'retention: 3 months\n') })).join('\n')).toMatch(/b\.yaml:1:\d+: retention/);
  });

  test('no file at all gives the same defaults', () => {
    const config = loadConfig({});
    expect(config.listen).toBe('127.0.0.1:9095');
    expect(config.outbox.concurrency).toBe(4);
  });

  test('an unknown key is an error naming its path and position', () => {
    const file = write('c.yaml', 'listen: 127.0.0.1:1\nstore:\n  url: sqlite:x.db\n  pool: 3\ntypo: 1\n');
    expect(errorsOf(() => loadConfig({ file }))).toEqual([`${file}:4:3: store: unknown key "pool"`, `${file}:5:1: unknown key "typo"`]);
  });

  test('bad values are reported at the value', () => {
    const file = write('c.yaml', 'listen: nowhere\nfaults:\n  update_interval: 5 minutes\n');
    expect(errorsOf(() => loadConfig({ file }))).toEqual([
      expect.stringMatching(new RegExp(`^${file}:1:9: listen: must be host:port`)),
      expect.stringMatching(new RegExp(`^${file}:3:20: faults.update_interval: invalid duration "5 minutes"`)),
    ]);
  });

  test('environment variables override the file', () => {
    const file = write('c.yaml', 'listen: 127.0.0.1:1\nstore: { url: "sqlite:a.db" }\nrules: rules/\n');
    const config = loadConfig({
      file,
      env: { FAULTDESK_LISTEN: '0.0.0.0:9999', FAULTDESK_STORE_URL: 'sqlite:b.db', FAULTDESK_RULES: 'a.yaml,b.yaml', FAULTDESK_LOG_LEVEL: 'debug' },
    });
    expect(config.listen).toBe('0.0.0.0:9999');
    expect(config.store.url).toBe('sqlite:b.db');
    expect(config.rules).toEqual(['a.yaml', 'b.yaml']);
    expect(config.log.level).toBe('debug');
  });

  test('secrets come from *_file, and both forms at once is an error', () => {
    const token = write('token', 's3cr3t-token\n');
    const file = write('c.yaml', `auth:\n  sources:\n    alertmanager: { bearer_token_file: ${token} }\n`);
    const config = loadConfig({ file });
    expect(config.auth.sources.alertmanager?.bearer_token).toBe('s3cr3t-token');
    expect(config.secrets).toContain('s3cr3t-token');

    const both = write('d.yaml', `auth:\n  admin: { bearer_token: abc, bearer_token_file: ${token} }\n`);
    expect(errorsOf(() => loadConfig({ file: both }))).toEqual([
      `${both}:2:31: set either bearer_token or bearer_token_file, not both`,
    ]);
    const missing = write('e.yaml', `auth:\n  admin: { bearer_token_file: ${dir}/nope }\n`);
    expect(errorsOf(() => loadConfig({ file: missing }))[0]).toMatch(/bearer_token_file: cannot read .*nope: ENOENT/);
  });

  test('durations in Prometheus notation', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('2d')).toBe(172_800_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(() => parseDuration('')).toThrow();
    expect(() => parseDuration('5')).toThrow();
    expect(() => parseDuration('m5')).toThrow();
  });

  test('logs never carry a secret, wherever it appears', async () => {
    const stream = new PassThrough();
    const lines: string[] = [];
    stream.on('data', (chunk: Buffer) => lines.push(chunk.toString()));
    const logger = createLogger({ level: 'debug', secrets: ['hunter2-token'], stream });
    logger.info('calling https://x/?token=hunter2-token', { header: 'Bearer hunter2-token', nested: { list: ['hunter2-token'] } });
    logger.error('failed', { err: new Error('auth hunter2-token rejected') });
    await new Promise((r) => setImmediate(r));
    const out = lines.join('');
    expect(out).toContain('<secret>');
    expect(out).toContain('auth <secret> rejected');
    expect(out).not.toContain('hunter2');
  });
});
