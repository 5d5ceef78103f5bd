import fc from 'fast-check';
import path from 'node:path';
import type { Daemon } from '../../src/main';
import { amPayload, postJson, startTestDaemon, tempDir, testConfig } from '../helpers';

// Whatever arrives at a source endpoint, faultdesk answers 2xx or a 4xx with a
// message, never a 5xx, never crashes, and stores nothing from a refused body.
let daemon: Daemon;
let cleanup: () => void;
beforeAll(async () => {
  const tmp = tempDir();
  cleanup = tmp.cleanup;
  const config = testConfig(tmp.dir, { FAULTDESK_STORE_URL: `sqlite:${path.join(tmp.dir, 'hostile.db')}` });
  config.http.max_body_bytes = 256 * 1024;
  daemon = await startTestDaemon(config);
});
afterAll(async () => {
  await daemon.stop();
  cleanup();
});

const SOURCES = ['alertmanager', 'zabbix', 'nagios', 'generic'] as const;

async function post(source: string, body: string | Buffer, contentType = 'application/json') {
  const res = await fetch(`${daemon.url}/api/v1/alerts/${source}`, { method: 'POST', headers: { 'Content-Type': contentType }, body });
  const text = await res.text();
  return { status: res.status, text };
}

async function alertCount(): Promise<number> {
  const faults = await daemon.store.repos.faults.list({ limit: 100_000, offset: 0 });
  return faults.reduce((n, f) => n + f.alert_count, 0);
}

test('random JSON and random bytes: never a 5xx; a refusal says why and stores nothing', async () => {
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...SOURCES), fc.oneof(fc.json(), fc.uint8Array({ maxLength: 2000 }).map((b) => Buffer.from(b))), async (source, body) => {
      const before = await alertCount();
      const res = await post(source, body as string | Buffer);
      expect(res.status).toBeLessThan(500);
      if (res.status >= 400) {
        expect(JSON.parse(res.text).error).toEqual(expect.any(String));
        expect(await alertCount()).toBe(before);
      }
    }),
    { numRuns: 300 },
  );
});

test('Alertmanager payloads with fields of the wrong type or missing: 400 with the paths, nothing stored', async () => {
  const valid = amPayload([{ labels: { alertname: 'X', instance: 'i' }, fingerprint: 'ab12' }]) as Record<string, unknown>;
  const fields = ['version', 'groupKey', 'receiver', 'status', 'alerts'];
  await fc.assert(
    fc.asyncProperty(fc.subarray(fields, { minLength: 1 }), fc.anything(), fc.boolean(), async (broken, junk, remove) => {
      const body: Record<string, unknown> = { ...valid };
      for (const f of broken) {
        if (remove) delete body[f];
        else body[f] = junk;
      }
      const before = await alertCount();
      const res = await post('alertmanager', JSON.stringify(body));
      if (res.status === 200) return; // the junk happened to be valid
      expect(res.status).toBe(400);
      const paths = (JSON.parse(res.text).errors as Array<{ path: string }>).map((e) => e.path.split('.')[0]);
      expect(paths.some((p) => broken.includes(p!))).toBe(true);
      expect(await alertCount()).toBe(before);
    }),
    { numRuns: 200 },
  );
});

test('long, control-character and non-ASCII label values are stored intact or refused, never a 5xx', async () => {
  await fc.assert(
    fc.asyncProperty(fc.string({ unit: fc.constantFrom('a', '\u0000', '\u0007', '\n', '\u00e9', '\u{1F525}', '"', '\\'), maxLength: 300 }), async (value) => {
      const res = await post('alertmanager', JSON.stringify(amPayload([{ labels: { alertname: 'Weird', v: value }, fingerprint: 'cafe' }])));
      if (value.includes('\u0000')) expect(res.status).toBe(400);
      else expect(res.status).toBe(200);
    }),
    { numRuns: 150 },
  );
  const huge = 'x'.repeat(70_000);
  const res = await post('alertmanager', JSON.stringify(amPayload([{ labels: { alertname: 'Huge', v: huge }, fingerprint: 'beef' }])));
  expect(res.status).toBe(400);
  expect(res.text).toContain('must be at most 65536 characters');
});

test('huge and deeply nested bodies: 413 over the limit, 4xx or 2xx under it', async () => {
  const big = await post('alertmanager', JSON.stringify({ junk: 'x'.repeat(300 * 1024) }));
  expect(big.status).toBe(413);
  const deep = '['.repeat(50_000) + ']'.repeat(50_000);
  expect((await post('generic', deep)).status).toBeLessThan(500);
  const nested = JSON.stringify({ ...amPayload([{ labels: { alertname: 'N' }, fingerprint: '1' }]), extra: JSON.parse('['.repeat(2000) + ']'.repeat(2000)) });
  expect((await post('alertmanager', nested)).status).toBeLessThan(500);
  for (const source of SOURCES) {
    const form = await post(source, 'a=1&b=%ZZ&' + 'c=d&'.repeat(300), 'application/x-www-form-urlencoded');
    expect(form.status).toBeLessThan(500);
  }
});

test('a classic catastrophic-backtracking input against a rule regex answers at once', async () => {
  // rules/10-prometheus.yaml has regex matchers on alertname; RE2 runs in linear time.
  const started = Date.now();
  const res = await postJson(`${daemon.url}/api/v1/alerts/alertmanager`, amPayload([{ labels: { alertname: `${'a'.repeat(50_000)}!` }, fingerprint: 'dead' }]));
  expect(res.status).toBe(200);
  expect(Date.now() - started).toBeLessThan(5_000);
});

test('the human loop\'s actions: random bodies never give a 5xx, and a refused one changes nothing', async () => {
  const id = ((await postJson(`${daemon.url}/api/v1/alerts/generic`, [{ status: 'firing', labels: { alertname: 'Hostile', instance: 'h1' } }])).json.faults as string[])[0]!;
  const snapshot = async () => JSON.stringify(await daemon.store.repos.faults.get(id));
  await fc.assert(
    fc.asyncProperty(fc.constantFrom('ack', 'unack', 'comment', 'close', 'assign', 'resolve'), fc.oneof(fc.json(), fc.uint8Array({ maxLength: 500 }).map((b) => Buffer.from(b))), async (action, body) => {
      const before = await snapshot();
      const res = await fetch(`${daemon.url}/api/v1/faults/${id}/${action}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: body as string | Buffer });
      const text = await res.text();
      expect(res.status).toBeLessThan(500);
      if (res.status >= 400) {
        expect(JSON.parse(text).error).toEqual(expect.any(String));
        expect(await snapshot()).toBe(before);
      }
    }),
    { numRuns: 150 },
  );
});
