import { gzipSync } from 'node:zlib';
import type { Daemon } from '../../src/main';
import { amPayload, fixture, startTestDaemon, tempDir, testConfig } from '../helpers';

// The JSON sources' webhooks are answered without Express unless the request is unusual; a query
// string sends the same request through Express. Both must answer alike.
let daemon: Daemon;
let cleanup: () => void;

beforeAll(async () => {
  const tmp = tempDir();
  cleanup = tmp.cleanup;
  const config = testConfig(tmp.dir);
  config.http.max_body_bytes = 4096;
  config.auth.sources.zabbix = { bearer_token: 'zbx-token-1' };
  // Once any credential is configured, every source needs its own (or admin's).
  config.auth.sources.alertmanager = { bearer_token: 'am-token-1' };
  config.auth.sources.generic = { bearer_token: 'gen-token-1' };
  daemon = await startTestDaemon(config);
});
afterAll(async () => {
  await daemon.stop();
  cleanup();
});

const TOKENS: Record<string, string> = { alertmanager: 'am-token-1', generic: 'gen-token-1' };

async function post(path: string, body: string | Buffer, headers: Record<string, string> = {}) {
  const token = TOKENS[/\/alerts\/(\w+)/.exec(path)?.[1] ?? ''];
  const auth: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
  const res = await fetch(`${daemon.url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...auth, ...headers }, body });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type'), auth: res.headers.get('www-authenticate'), body: JSON.parse(text) as Record<string, unknown> };
}

async function bothWays(path: string, body: string | Buffer, headers: Record<string, string> = {}) {
  const fast = await post(path, body, headers);
  const express = await post(`${path}?via=express`, body, headers);
  return { fast, express };
}

const longLabels = amPayload(Array.from({ length: 40 }, (_, i) => ({ labels: { alertname: 'Big', i: String(i) }, fingerprint: `b${i}` })));
const nul = amPayload([{ labels: { alertname: 'X', note: 'a\u0000b' }, fingerprint: 'c1' }]);
const emptyName = amPayload([{ labels: { alertname: 'X', '': 'v' }, fingerprint: 'c2' }]);

test.each([
  ['a valid payload', '/api/v1/alerts/alertmanager', JSON.stringify(fixture('am-firing.json')), {}, 200],
  ['invalid JSON', '/api/v1/alerts/alertmanager', '{"version": "4", ', {}, 400],
  ['a missing field', '/api/v1/alerts/alertmanager', JSON.stringify({ ...fixture('am-firing.json'), version: undefined }), {}, 400],
  ['a NUL in a label', '/api/v1/alerts/alertmanager', JSON.stringify(nul), {}, 400],
  ['an empty label name', '/api/v1/alerts/alertmanager', JSON.stringify(emptyName), {}, 400],
  ['a body over the limit', '/api/v1/alerts/alertmanager', JSON.stringify(longLabels), {}, 413],
  ['missing credentials', '/api/v1/alerts/zabbix', '{}', {}, 401],
  ['a generic payload', '/api/v1/alerts/generic', JSON.stringify([{ status: 'firing', labels: { alertname: 'G', instance: 'g1' } }]), {}, 200],
] as const)('%s: the same answer with and without Express', async (_what, path, body, headers, status) => {
  const { fast, express } = await bothWays(path, body, headers);
  expect(fast.status).toBe(status);
  if (status === 200) {
    // The second delivery of the same alerts is their repeat, in the same fault.
    expect(fast.body).toMatchObject({ status: 'success', received: 1, outcomes: { opened: 1 } });
    expect(express.body).toEqual({ ...fast.body, outcomes: { duplicate: 1 }, transitions: [] });
  } else {
    expect(express).toEqual(fast);
  }
  expect(fast.type).toBe('application/json; charset=utf-8');
  if (status === 401) expect(fast.auth).toMatch(/^Bearer realm="faultdesk zabbix"/);
  if (status === 400) expect(fast.body.error).toMatch(/invalid alertmanager payload|not valid JSON/);
  if (_what === 'a NUL in a label') expect(fast.body.errors).toEqual([{ path: 'alerts.0.labels.note', message: 'must not contain NUL characters' }]);
  if (_what === 'an empty label name') expect(fast.body.errors).toEqual([{ path: 'alerts.0.labels.', message: 'label names must not be empty' }]);
});

test('a gzip-compressed body is left to Express, which inflates it', async () => {
  const body = gzipSync(JSON.stringify(amPayload([{ labels: { alertname: 'Zipped', instance: 'z1' }, fingerprint: 'd1' }])));
  const res = await post('/api/v1/alerts/alertmanager', body, { 'Content-Encoding': 'gzip' });
  expect(res.status).toBe(200);
  expect(res.body.outcomes).toEqual({ opened: 1 });
});

test('both routes count their requests under the same route label', async () => {
  await post('/api/v1/alerts/generic', JSON.stringify([{ status: 'firing', labels: { alertname: 'M', instance: 'm1' } }]));
  const text = await (await fetch(`${daemon.url}/metrics`)).text();
  expect(text).toMatch(/faultdesk_http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/alerts\/generic",code="200"\} [1-9]/);
});
