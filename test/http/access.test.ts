import type express from 'express';
import { ACCESS, type Access } from '../../src/http/auth';
import type { Daemon } from '../../src/main';
import { amPayload, fixture, postJson, startTestDaemon, tempDir, testConfig } from '../helpers';

const ADMIN = { Authorization: 'Bearer admin-token-1' };
const VIEWER = { Authorization: 'Bearer viewer-token-1' };
const AM = { Authorization: 'Bearer am-token-1' };

let daemon: Daemon;
let cleanup: () => void;

beforeAll(async () => {
  const tmp = tempDir();
  cleanup = tmp.cleanup;
  const config = testConfig(tmp.dir);
  config.auth.sources.alertmanager = { bearer_token: 'am-token-1' };
  config.auth.admin = { bearer_token: 'admin-token-1' };
  config.auth.viewer = { bearer_token: 'viewer-token-1' };
  daemon = await startTestDaemon(config);
  // A fault with a local ticket and attachments, so the read routes have something to show.
  await postJson(`${daemon.url}/api/v1/alerts/alertmanager`, fixture('am-firing.json'), AM);
  await daemon.outbox.runOnce();
});
afterAll(async () => {
  await daemon.stop();
  cleanup();
});

/** Every route of the Express app, with the auth decision its first handler carries (if any). */
function routeTable(app: express.Express): Array<{ method: string; path: string; access: Access | undefined }> {
  const stack = (app as unknown as { router: { stack: Array<{ route?: { path: string; methods: Record<string, boolean>; stack: Array<{ handle: object }> } }> } }).router.stack;
  return stack
    .filter((layer) => layer.route)
    .flatMap((layer) => {
      const route = layer.route!;
      const access = (route.stack[0]?.handle as { [ACCESS]?: Access })[ACCESS];
      return Object.keys(route.methods).map((m) => ({ method: m.toUpperCase(), path: route.path, access }));
    });
}

async function firstIds() {
  const faults = (await (await fetch(`${daemon.url}/api/v1/faults`, { headers: VIEWER })).json()) as { faults: Array<{ id: string }> };
  const tickets = (await (await fetch(`${daemon.url}/api/v1/tickets`, { headers: VIEWER })).json()) as { tickets: Array<{ id: string; attachments: Array<{ id: string }> }> };
  return { fault: faults.faults[0]!.id, ticket: tickets.tickets[0]!.id, attachment: tickets.tickets[0]!.attachments[0]!.id };
}

function concrete(path: string, ids: { fault: string; ticket: string; attachment: string }): string {
  return path
    .replace(':id/attachments', `${ids.ticket}/attachments`)
    .replace(/^\/tickets\/:id$/, `/tickets/${ids.ticket}`)
    .replace(':attachment', ids.attachment)
    .replace(':id', ids.fault)
    .replace(':file', 'console.css');
}

async function call(method: string, url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method,
    headers: { 'Content-Type': 'application/json', ...headers },
    ...(method === 'POST' ? { body: '{}' } : {}),
  });
  await res.arrayBuffer();
  return res.status;
}

test('every route of the app carries an auth decision', () => {
  const table = routeTable(daemon.app);
  expect(table.length).toBeGreaterThan(10);
  const missing = table.filter((r) => r.access === undefined).map((r) => `${r.method} ${r.path}`);
  expect(missing).toEqual([]);
  // The registrar's own table names the same routes.
  expect(daemon.routes.map((r) => `${r.method} ${r.path}`).sort()).toEqual(table.map((r) => `${r.method} ${r.path}`).sort());
});

test('with credentials configured, every route but health, readiness and /metrics refuses a request without them', async () => {
  const ids = await firstIds();
  const open: string[] = [];
  for (const r of routeTable(daemon.app)) {
    const status = await call(r.method, `${daemon.url}${concrete(r.path, ids)}`);
    if (status !== 401) open.push(`${r.method} ${r.path} → ${status}`);
  }
  // The console's login page, its stylesheet and logout (which only clears the cookie) are open too; POST /login without a token is refused.
  expect(open.sort()).toEqual(['GET /-/healthy → 200', 'GET /-/ready → 200', 'GET /login → 200', 'GET /metrics → 200', 'GET /static/:file → 200', 'POST /logout → 200']);
});

test('the read API answers viewer and admin credentials; actions need admin (403 for a viewer)', async () => {
  const ids = await firstIds();
  const consolePages = ['/', `/faults/${ids.fault}`, '/tickets', `/tickets/${ids.ticket}`, `/tickets/${ids.ticket}/attachments/${ids.attachment}`, '/outbox', '/playground', '/estimates'];
  for (const path of ['/api/v1/faults', `/api/v1/faults/${ids.fault}`, '/api/v1/tickets', `/api/v1/tickets/${ids.ticket}/attachments/${ids.attachment}`, '/api/v1/estimates', '/api/v1/satisfaction', '/api/v1/outbox', ...consolePages]) {
    expect([path, await call('GET', `${daemon.url}${path}`, VIEWER)]).toEqual([path, 200]);
    expect([path, await call('GET', `${daemon.url}${path}`, ADMIN)]).toEqual([path, 200]);
  }
  const explain = await postJson(`${daemon.url}/api/v1/explain`, fixture('am-firing.json'), VIEWER);
  expect(explain.status).toBe(200);

  const rating = await postJson(`${daemon.url}/api/v1/faults/${ids.fault}/satisfaction`, { score: 9 }, VIEWER);
  expect(rating.status).toBe(403);
  expect(rating.json.error).toMatch(/needs the admin role/);
  expect((await postJson(`${daemon.url}/-/reload`, {}, VIEWER)).status).toBe(403);
  expect((await postJson(`${daemon.url}/api/v1/outbox/retry`, {}, VIEWER)).status).toBe(403);
  expect((await postJson(`${daemon.url}/outbox/retry`, {}, VIEWER)).status).toBe(403);
  expect((await postJson(`${daemon.url}/faults/${ids.fault}/ack`, {}, VIEWER)).status).toBe(403);
  expect((await postJson(`${daemon.url}/api/v1/faults/${ids.fault}/satisfaction`, { score: 9 }, ADMIN)).status).toBe(201);
  // A viewer cannot feed alerts; a source's token reads nothing.
  expect((await postJson(`${daemon.url}/api/v1/alerts/alertmanager`, amPayload([]), VIEWER)).status).toBe(401);
  expect(await call('GET', `${daemon.url}/api/v1/faults`, AM)).toBe(401);
  // A source without credentials of its own takes admin's only.
  const generic = [{ status: 'firing', labels: { alertname: 'G', instance: 'g1' } }];
  expect((await postJson(`${daemon.url}/api/v1/alerts/generic`, generic)).status).toBe(401);
  expect((await postJson(`${daemon.url}/api/v1/alerts/generic`, generic, ADMIN)).status).toBe(200);
});

test('/metrics takes a token of its own when auth.metrics sets one', async () => {
  const tmp = tempDir();
  const config = testConfig(tmp.dir);
  config.auth.metrics = { bearer_token: 'scrape-1' };
  config.auth.viewer = { bearer_token: 'viewer-token-1' };
  const d = await startTestDaemon(config);
  try {
    expect(await call('GET', `${d.url}/metrics`)).toBe(401);
    expect(await call('GET', `${d.url}/metrics`, { Authorization: 'Bearer scrape-1' })).toBe(200);
    expect(await call('GET', `${d.url}/metrics`, VIEWER)).toBe(200);
    // The scrape token reads nothing else.
    expect(await call('GET', `${d.url}/api/v1/faults`, { Authorization: 'Bearer scrape-1' })).toBe(401);
    expect(await call('GET', `${d.url}/-/healthy`)).toBe(200);
  } finally {
    await d.stop();
    tmp.cleanup();
  }
});

test('with no credentials at all (the loopback default) every route is open', async () => {
  const tmp = tempDir();
  const d = await startTestDaemon(testConfig(tmp.dir));
  try {
    expect(await call('GET', `${d.url}/api/v1/faults`)).toBe(200);
    expect(await call('GET', `${d.url}/api/v1/outbox`)).toBe(200);
    expect(await call('POST', `${d.url}/-/reload`)).toBe(200);
  } finally {
    await d.stop();
    tmp.cleanup();
  }
});
