import type { Daemon } from '../../src/main';
import { fixture, postJson, startTestDaemon, tempDir, testConfig } from '../helpers';

// The console's sessions and CSRF protection over plain HTTP: what a page of another site, a stolen
// or edited cookie, or a viewer can and cannot make the console do.

const AM = { Authorization: 'Bearer am-1' };

function cookieOf(res: Response): string {
  const set = res.headers.get('set-cookie') ?? '';
  return set.split(';')[0] ?? '';
}

async function csrfOf(url: string, cookie: string): Promise<string> {
  const html = await (await fetch(url, { headers: { Cookie: cookie } })).text();
  return /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
}

function form(url: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return fetch(url, { method: 'POST', redirect: 'manual', headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields) });
}

async function faultsOf(daemon: Daemon, headers: Record<string, string> = {}) {
  return ((await (await fetch(`${daemon.url}/api/v1/faults`, { headers })).json()) as { faults: Array<{ id: string; acknowledged: { by: string } | null }> }).faults;
}

describe('with no credentials (the loopback default)', () => {
  let daemon: Daemon;
  let cleanup: () => void;
  beforeAll(async () => {
    const tmp = tempDir();
    cleanup = tmp.cleanup;
    daemon = await startTestDaemon(testConfig(tmp.dir));
    await postJson(`${daemon.url}/api/v1/alerts/alertmanager`, fixture('am-firing.json'));
  });
  afterAll(async () => {
    await daemon.stop();
    cleanup();
  });

  test('the console opens directly and hands out an anonymous session cookie (HttpOnly, SameSite=Strict; Secure only over TLS)', async () => {
    const res = await fetch(`${daemon.url}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('target-down');
    const set = res.headers.get('set-cookie') ?? '';
    expect(set).toMatch(/^faultdesk_session=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const behindTls = await fetch(`${daemon.url}/`, { headers: { 'X-Forwarded-Proto': 'https' } });
    expect(behindTls.headers.get('set-cookie')).toMatch(/; Secure/);
    // The login page has nothing to do here.
    expect((await fetch(`${daemon.url}/login`, { redirect: 'manual' })).status).toBe(303);
  });

  test('an action needs the session and its CSRF token, from this site: another page cannot make the browser act', async () => {
    const [fault] = await faultsOf(daemon);
    const url = `${daemon.url}/faults/${fault!.id}/ack`;
    const cookie = cookieOf(await fetch(`${daemon.url}/`));
    const csrf = await csrfOf(`${daemon.url}/faults/${fault!.id}`, cookie);
    expect(csrf).not.toBe('');

    expect((await form(url, { confirmed: 'yes' })).status).toBe(403);
    expect((await form(url, { confirmed: 'yes', _csrf: csrf })).status).toBe(403); // no cookie
    expect((await form(url, { confirmed: 'yes', _csrf: 'forged' }, { Cookie: cookie })).status).toBe(403);
    expect((await form(url, { confirmed: 'yes', _csrf: csrf }, { Cookie: cookie, Origin: 'http://evil.example' })).status).toBe(403);
    const other = cookieOf(await fetch(`${daemon.url}/`));
    expect((await form(url, { confirmed: 'yes', _csrf: csrf }, { Cookie: other })).status).toBe(403); // another session's token
    expect((await faultsOf(daemon))[0]!.acknowledged).toBeNull();

    // Without confirmed=yes the answer is a confirmation page and nothing happens.
    const ask = await form(url, { _csrf: csrf }, { Cookie: cookie });
    expect(ask.status).toBe(200);
    expect(await ask.text()).toContain('Acknowledge this fault?');
    expect((await faultsOf(daemon))[0]!.acknowledged).toBeNull();

    const done = await form(url, { confirmed: 'yes', _csrf: csrf }, { Cookie: cookie, Origin: daemon.url });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe(`/faults/${fault!.id}?done=ack`);
    expect((await faultsOf(daemon))[0]!.acknowledged?.by).toBe('anonymous');
  });

  test('a bad action answers as a page with the field that is wrong', async () => {
    const [fault] = await faultsOf(daemon);
    const cookie = cookieOf(await fetch(`${daemon.url}/`));
    const csrf = await csrfOf(`${daemon.url}/faults/${fault!.id}`, cookie);
    const res = await form(`${daemon.url}/faults/${fault!.id}/assign`, { confirmed: 'yes', _csrf: csrf, tier: 'L9' }, { Cookie: cookie });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('<code>tier</code>: no tiers are configured');
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
  });
});

describe('with credentials', () => {
  let daemon: Daemon;
  let cleanup: () => void;
  beforeAll(async () => {
    const tmp = tempDir();
    cleanup = tmp.cleanup;
    const config = testConfig(tmp.dir);
    config.auth.admin = { bearer_token: 'admin-1' };
    config.auth.viewer = { basic_auth: { username: 'sre', password: 'viewer-pass' } };
    config.auth.sources.alertmanager = { bearer_token: 'am-1' };
    daemon = await startTestDaemon(config);
    await postJson(`${daemon.url}/api/v1/alerts/alertmanager`, fixture('am-firing.json'), AM);
  });
  afterAll(async () => {
    await daemon.stop();
    cleanup();
  });

  const login = (token: string, next = '/') => form(`${daemon.url}/login`, { token, next });

  test('a page without a session is the login page (401); a wrong token stays there', async () => {
    const res = await fetch(`${daemon.url}/outbox`);
    expect(res.status).toBe(401);
    const html = await res.text();
    expect(html).toContain('Log in to faultdesk');
    expect(html).toContain('name="next" value="/outbox"');
    const wrong = await login('nope');
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
  });

  test('the session reads the console only: the JSON API still wants the Authorization header', async () => {
    const res = await login('sre:viewer-pass', '/outbox');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/outbox');
    const cookie = cookieOf(res);
    expect((await fetch(`${daemon.url}/outbox`, { headers: { Cookie: cookie } })).status).toBe(200);
    expect((await fetch(`${daemon.url}/api/v1/faults`, { headers: { Cookie: cookie } })).status).toBe(401);
  });

  test('a viewer session cannot act, even with its own CSRF token', async () => {
    const cookie = cookieOf(await login('sre:viewer-pass'));
    const [fault] = await faultsOf(daemon, { Authorization: 'Bearer admin-1' });
    const csrf = await csrfOf(`${daemon.url}/playground`, cookie);
    const res = await form(`${daemon.url}/faults/${fault!.id}/ack`, { confirmed: 'yes', _csrf: csrf }, { Cookie: cookie });
    expect(res.status).toBe(403);
    expect((await faultsOf(daemon, { Authorization: 'Bearer admin-1' }))[0]!.acknowledged).toBeNull();
  });

  test('an edited cookie is refused, and logout ends the session', async () => {
    const cookie = cookieOf(await login('sre:viewer-pass'));
    const [name, value] = cookie.split('=') as [string, string];
    const [payload, mac] = value.split('.') as [string, string];
    const edited = Buffer.from(Buffer.from(payload, 'base64url').toString('utf8').replace('"viewer"', '"admin"')).toString('base64url');
    expect((await fetch(`${daemon.url}/`, { headers: { Cookie: `${name}=${edited}.${mac}` } })).status).toBe(401);

    const out = await fetch(`${daemon.url}/logout`, { method: 'POST', redirect: 'manual', headers: { Cookie: cookie } });
    expect(out.status).toBe(303);
    expect(out.headers.get('set-cookie')).toMatch(/faultdesk_session=; .*Max-Age=0/);
    // A copy of the cookie kept from before is no good any more.
    expect((await fetch(`${daemon.url}/`, { headers: { Cookie: cookie } })).status).toBe(401);
  });

  test('login sends only to pages of this console', async () => {
    for (const next of ['//evil.example/x', 'https://evil.example/', '/\\evil.example']) {
      const res = await login('admin-1', next);
      expect([next, res.headers.get('location')]).toEqual([next, '/']);
    }
  });
});
