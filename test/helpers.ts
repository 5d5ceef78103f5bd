import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../src/config';
import { silentLogger } from '../src/log';
import { startDaemon, type Daemon } from '../src/main';
import type { Clock } from '../src/clock';

export const FIXTURES = path.resolve(__dirname, 'fixtures');
export const REPO = path.resolve(__dirname, '..');

export function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8')) as Record<string, unknown>;
}

export function tempDir(prefix = 'faultdesk-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A config on the defaults, with a fresh SQLite file, port 0 and the shipped rules. */
export function testConfig(dir: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    env: {
      FAULTDESK_LISTEN: '127.0.0.1:0',
      FAULTDESK_STORE_URL: `sqlite:${path.join(dir, 'faultdesk.db')}`,
      FAULTDESK_RULES: path.join(REPO, 'rules'),
      ...env,
    },
  });
}

export async function startTestDaemon(config: Config, clock?: Clock): Promise<Daemon> {
  return startDaemon({ config, clock, logger: silentLogger(), startWorkers: false });
}

export interface AmAlert {
  status?: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
  fingerprint: string;
}

/** An Alertmanager webhook v4 payload, shaped like the captured fixtures. */
export function amPayload(alerts: AmAlert[]): Record<string, unknown> {
  const full = alerts.map((a) => ({
    status: a.status ?? 'firing',
    labels: a.labels,
    annotations: a.annotations ?? {},
    startsAt: a.startsAt ?? '2026-11-24T16:25:24.046Z',
    endsAt: a.endsAt ?? '0001-01-01T00:00:00Z',
    generatorURL: 'http://127.0.0.1:19090/graph',
    fingerprint: a.fingerprint,
  }));
  return {
    receiver: 'faultdesk',
    status: full.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    alerts: full,
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://127.0.0.1:9093',
    version: '4',
    groupKey: '{}:{}',
    truncatedAlerts: 0,
  };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json: json as Record<string, unknown> };
}

export async function getJson<T = Record<string, unknown>>(url: string, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(url, { headers });
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Delivers every due outbox operation. */
export async function drain(daemon: Daemon): Promise<void> {
  while ((await daemon.outbox.runOnce()) > 0);
}

/** Viewer credentials for tests that configure a source's token and then read the API. */
export const VIEWER_CREDENTIALS = { bearer_token: 'test-viewer-token' };
export const VIEWER = { Authorization: `Bearer ${VIEWER_CREDENTIALS.bearer_token}` };
