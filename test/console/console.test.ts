import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { loadConfig } from '../../src/config';
import { silentLogger } from '../../src/log';
import { startDaemon, type Daemon } from '../../src/main';
import { FakeZendesk } from '../fake-zendesk';
import { amPayload, fixture, FIXTURES, postJson, REPO, tempDir } from '../helpers';
import { haveChromium, launch, screenshotPath } from './browser';

// The console in a real headless Chromium: an on-call engineer logs in, sees a fault that a posted
// alert opened appear without reloading, acknowledges it, retries a parked operation, runs the rule
// playground on the shipped fixtures; a viewer reads but cannot act. Screenshots go to test-results/.

const ADMIN_TOKEN = 'console-admin-secret';
const VIEWER_TOKEN = 'console-viewer-secret';
const AM = { Authorization: 'Bearer console-am-secret' };

// Categories of this test before the shipped rules: one whose tickets go to a Zendesk that refuses them
// (its operations park), one whose ticket templates are hostile.
const RULES = `
categories:
  - name: park-me
    match: ['alertname="ParkMe"']
    fault_key: [service]
    repair_time: { a: 1, b: 0.5 }
    ticket: { system: zendesk }
  - name: hostile
    match: ['alertname="Hostile"']
    fault_key: [service]
    repair_time: { a: 1, b: 0.5 }
    ticket:
      subject: '<script>window.__xss = "subject"</script> {{labels.service}}'
      body: '<img src=x onerror="window.__xss = 1"> [click](javascript:window.__xss=2) {{annotations.description}}'
`;

const run = haveChromium() ? describe : describe.skip;

run('the console in a browser', () => {
  let daemon: Daemon;
  let zendesk: FakeZendesk;
  let cleanup: () => void;
  let browser: { context: BrowserContext; close: () => Promise<void> };
  let page: Page;

  beforeAll(async () => {
    const tmp = tempDir();
    cleanup = tmp.cleanup;
    zendesk = new FakeZendesk();
    await zendesk.start();
    zendesk.failing = { status: 422 };
    writeFileSync(path.join(tmp.dir, 'console-rules.yaml'), RULES);
    writeFileSync(
      path.join(tmp.dir, 'faultdesk.yaml'),
      `auth:\n  admin: { bearer_token: ${ADMIN_TOKEN} }\n  viewer: { bearer_token: ${VIEWER_TOKEN} }\n  sources: { alertmanager: { bearer_token: console-am-secret } }\n` +
        `rules: ["${path.join(tmp.dir, 'console-rules.yaml')}", "${path.join(REPO, 'rules')}"]\n` +
        `tickets:\n  default: local\n  zendesk: { url: "${zendesk.url}", oauth_token: t, requests_per_minute: 100000, concurrency: 4 }\n`,
    );
    daemon = await startDaemon({
      config: loadConfig({ file: path.join(tmp.dir, 'faultdesk.yaml'), env: { FAULTDESK_LISTEN: '127.0.0.1:0', FAULTDESK_STORE_URL: `sqlite:${path.join(tmp.dir, 'db.sqlite')}` } }),
      logger: silentLogger(),
      startWorkers: false,
    });
    browser = await launch();
    page = await browser.context.newPage();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await daemon?.stop();
    await zendesk?.stop();
    cleanup?.();
  });

  const login = async (token: string, name?: string) => {
    await page.goto(`${daemon.url}/`);
    await page.getByLabel('Token').fill(token);
    if (name) await page.getByLabel('Your name').fill(name);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${daemon.url}/`);
  };

  /** Clicks a form's button, confirms in the dialog, and waits for the page the action leads to. */
  const actAndConfirm = async (button: ReturnType<Page['getByRole']>) => {
    await button.click();
    const dialog = page.locator('#confirm-dialog');
    await dialog.waitFor({ state: 'visible' });
    await Promise.all([page.waitForNavigation(), dialog.getByRole('button', { name: 'Confirm' }).click()]);
  };

  test('an admin logs in, sees a new fault appear without a reload, acknowledges it and sees the timeline entry', async () => {
    const first = await page.goto(`${daemon.url}/`);
    expect(first?.status()).toBe(401);
    await page.screenshot({ path: screenshotPath('login') });
    await login(ADMIN_TOKEN, 'Ada On-Call');
    await expect(page.getByTestId('who').textContent()).resolves.toContain('Ada On-Call (admin)');
    expect(await page.locator('tr[data-fault]').count()).toBe(0);

    // The page marks itself; a reload would lose the mark.
    await page.evaluate('window.__mark = 42');
    expect((await postJson(`${daemon.url}/api/v1/alerts/alertmanager`, fixture('am-firing.json'), AM)).status).toBe(200);
    const row = page.locator('tr[data-fault]', { hasText: '127.0.0.1:9999' });
    await row.waitFor({ timeout: 15_000 });
    expect(await page.evaluate('window.__mark')).toBe(42);
    await expect(row.textContent()).resolves.toMatch(/open[\s\S]*high[\s\S]*target-down[\s\S]*Target 127\.0\.0\.1:9999 of job flaky is down/);
    await page.screenshot({ path: screenshotPath('faults'), fullPage: true });

    await row.getByRole('link').first().click();
    await page.waitForURL(/\/faults\//);
    await expect(page.getByTestId('acknowledged-by').textContent()).resolves.toBe('nobody');
    await page.locator('#ack-text').fill('looking at the scrape target');
    await actAndConfirm(page.getByRole('button', { name: 'Acknowledge' }));
    await expect(page.getByTestId('result').textContent()).resolves.toBe('Acknowledged.');
    await expect(page.getByTestId('acknowledged-by').textContent()).resolves.toBe('Ada On-Call');
    const timeline = (await page.getByTestId('timeline').textContent()) ?? '';
    expect(timeline).toMatch(/acknowledged\s+by Ada On-Call: looking at the scrape target/);
    await page.screenshot({ path: screenshotPath('fault'), fullPage: true });

    // The API says the same: the console ran the real action.
    const api = (await (await fetch(`${daemon.url}/api/v1/faults`, { headers: { Authorization: `Bearer ${VIEWER_TOKEN}` } })).json()) as { faults: Array<{ acknowledged: { by: string } | null }> };
    expect(api.faults[0]!.acknowledged?.by).toBe('Ada On-Call');
  });

  test('a comment, by keyboard alone, goes on the timeline; the local ticket shows it', async () => {
    await page.locator('#comment-text').focus();
    await page.keyboard.type('restarted the exporter');
    await page.keyboard.press('Tab');
    await expect(page.evaluate('document.activeElement.textContent')).resolves.toBe('Comment');
    await page.keyboard.press('Enter');
    await page.locator('#confirm-dialog').waitFor({ state: 'visible' });
    // The dialog takes the focus on its first button, Confirm.
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    await expect(page.getByTestId('result').textContent()).resolves.toBe('Comment added.');
    expect(await page.getByTestId('timeline').textContent()).toMatch(/comment\s+by Ada On-Call: restarted the exporter/);
    await daemon.outbox.runOnce();
    await daemon.outbox.runOnce();
    await page.goto(`${daemon.url}/tickets`);
    await page.screenshot({ path: screenshotPath('tickets'), fullPage: true });
    await page.locator('table a', { hasText: '#' }).first().click();
    await expect(page.locator('main').textContent()).resolves.toContain('Acknowledged by Ada On-Call: looking at the scrape target');
    await page.screenshot({ path: screenshotPath('ticket'), fullPage: true });
    // The fault record attached by reference, rendered as the fault is now, through the console's session.
    const record = await page.locator('a', { hasText: /\.md$/ }).first().getAttribute('href');
    const answer = await page.request.get(`${daemon.url}${record}`);
    expect(answer.status()).toBe(200);
    expect(answer.headers()['content-security-policy']).toBe("default-src 'none'; sandbox");
    expect(await answer.text()).toMatch(/^# Fault target-down[\s\S]*Acknowledged by Ada On-Call/);
  });

  test('a parked operation is shown with its reason and retried from the outbox page', async () => {
    const park = amPayload([{ labels: { alertname: 'ParkMe', service: 'billing', severity: 'critical' }, fingerprint: 'aaaabbbbccccdddd' }]);
    const posted = await postJson(`${daemon.url}/api/v1/alerts/alertmanager`, park, AM);
    expect([posted.status, posted.text]).toEqual([200, posted.status === 200 ? posted.text : '']);
    await daemon.outbox.runOnce();
    await page.goto(`${daemon.url}/outbox`);
    const parked = page.getByTestId('parked').locator('tr[data-op]');
    await expect(parked.count()).resolves.toBe(1);
    await expect(parked.first().textContent()).resolves.toMatch(/zendesk[\s\S]*422/);
    await page.screenshot({ path: screenshotPath('outbox'), fullPage: true });
    const id = await parked.first().getAttribute('data-op');

    zendesk.failing = undefined;
    await actAndConfirm(page.getByRole('button', { name: `Retry #${id}` }));
    await expect(page.getByTestId('result').textContent()).resolves.toMatch(/^1 parked operation/);
    await expect(page.getByTestId('parked').locator('tr[data-op]').count()).resolves.toBe(0);
    await daemon.outbox.runOnce();
    expect(zendesk.tickets).toHaveLength(1);
  });

  test('the playground explains the shipped fixtures as explain does, and shows a bad payload\'s fields', async () => {
    for (const file of [path.join(FIXTURES, 'am-firing.json'), '/work/shared/fixtures/am-firing.json', path.join(FIXTURES, 'am-resolved.json')]) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        continue; // the shared copy is only on the build machine
      }
      await page.goto(`${daemon.url}/playground`);
      await page.getByLabel('Payload').fill(text);
      await page.getByRole('button', { name: 'Explain' }).click();
      await page.getByTestId('explanations').waitFor();
      const api = (await postJson(`${daemon.url}/api/v1/explain`, text, { Authorization: `Bearer ${VIEWER_TOKEN}` })).json as { alerts: Array<{ category: string; subject: string }> };
      await expect(page.getByTestId('category').first().textContent()).resolves.toBe(api.alerts[0]!.category);
      await expect(page.getByTestId('subject').first().textContent()).resolves.toBe(api.alerts[0]!.subject);
      expect(api.alerts[0]!.category).toBe('target-down');
    }
    await expect(page.locator('.tried').first().textContent()).resolves.toMatch(/did not match|matched/);
    await page.screenshot({ path: screenshotPath('playground'), fullPage: true });

    await page.getByLabel('Payload').fill('{"alerts": [{"status": 7}]}');
    await page.getByLabel('Source').selectOption('alertmanager');
    await page.getByRole('button', { name: 'Explain' }).click();
    await expect(page.getByTestId('error').textContent()).resolves.toMatch(/invalid alertmanager payload[\s\S]*alerts/);
  });

  test('estimates and satisfaction draw their charts from the locally served Chart.js', async () => {
    const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };
    await postJson(`${daemon.url}/api/v1/faults/${(await firstFault()).id}/satisfaction`, { score: 8 }, admin);
    // A fault its source resolved is a sample of its category's repair time.
    const recovery = amPayload([{ status: 'resolved', endsAt: new Date().toISOString(), labels: { alertname: 'ParkMe', service: 'billing', severity: 'critical' }, fingerprint: 'aaaabbbbccccdddd' }]);
    expect((await postJson(`${daemon.url}/api/v1/alerts/alertmanager`, recovery, AM)).status).toBe(200);
    expect((await firstFault('park-me')).state).toBe('resolved');
    const failed: string[] = [];
    page.on('requestfailed', (r) => failed.push(r.url()));
    await page.goto(`${daemon.url}/estimates`);
    // The repair-time plot of park-me and the satisfaction plot, both drawn by Chart.js.
    const drawn = async () => (await page.evaluate("window.Chart ? [...document.querySelectorAll('canvas[data-chart]')].filter((c) => window.Chart.getChart(c)).length : 0")) as number;
    for (let i = 0; i < 100 && (await drawn()) < 2; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await drawn()).toBe(2);
    await expect(page.locator('main').textContent()).resolves.toMatch(/target-down[\s\S]*8 \(1\)/);
    await expect(page.locator('article.estimate h2').allTextContents()).resolves.toEqual(['park-me']);
    expect(failed).toEqual([]);
    await page.screenshot({ path: screenshotPath('estimates'), fullPage: true });
  });

  test('on a phone the faults page fits the screen', async () => {
    const phone = await browser.context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(`${daemon.url}/`);
    const overflow = await phone.evaluate('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await phone.screenshot({ path: screenshotPath('faults-phone'), fullPage: true });
    // Keyboard: the skip link comes first, then the navigation.
    await phone.keyboard.press('Tab');
    await expect(phone.evaluate('document.activeElement.textContent')).resolves.toBe('Skip to content');
    await phone.close();
  });

  test('labels, annotations, comments and rule templates with <script>, "onmouseover= and javascript: URLs are shown as text', async () => {
    const hostile = amPayload([
      {
        labels: { alertname: 'Hostile', service: '<script>window.__xss = "label"</script>', instance: '"onmouseover="window.__xss = 1" x="' },
        annotations: {
          summary: '<img src=x onerror="window.__xss = 2"> "onmouseover="window.__xss = 3',
          description: '<script>window.__xss = "annotation"</script>',
          runbook_url: 'javascript:window.__xss = 4',
        },
        fingerprint: 'eeeeffff00001111',
      },
    ]) as { alerts: Array<{ generatorURL: string }> };
    hostile.alerts[0]!.generatorURL = 'javascript:window.__xss = 5';
    expect((await postJson(`${daemon.url}/api/v1/alerts/alertmanager`, hostile, AM)).status).toBe(200);
    await daemon.outbox.runOnce();

    /** No markup of the alert's made it into the page: only our own scripts, no handlers, no javascript: links; the text is there as text. */
    const assertInert = async (where: string, text: string) => {
      const found = (await page.evaluate(`(() => ({
        scripts: [...document.scripts].map((s) => s.getAttribute('src')).filter((src) => !(src || '').startsWith('/static/')).length,
        handlers: [...document.querySelectorAll('*')].filter((e) => [...e.attributes].some((a) => a.name.toLowerCase().startsWith('on'))).length,
        jsLinks: [...document.querySelectorAll('a[href]')].filter((a) => a.getAttribute('href').trim().toLowerCase().startsWith('javascript:')).length,
        images: document.querySelectorAll('main img').length,
        xss: window.__xss === undefined ? null : String(window.__xss),
        text: document.body.innerText,
      }))()`)) as { scripts: number; handlers: number; jsLinks: number; images: number; xss: string | null; text: string };
      expect([where, found.scripts, found.handlers, found.jsLinks, found.images, found.xss]).toEqual([where, 0, 0, 0, 0, null]);
      expect([where, found.text.includes(text)]).toEqual([where, true]);
    };

    await page.goto(`${daemon.url}/?category=hostile`);
    const row = page.locator('tr[data-fault]').first();
    await row.hover();
    await assertInert('faults list', '<script>window.__xss = ');
    await assertInert('faults list', '<img src=x onerror="window.__xss = 2">');

    await row.getByRole('link').first().click();
    await page.waitForURL(/\/faults\//);
    for (const cell of await page.locator('td, dd').all()) await cell.hover({ trial: false }).catch(() => undefined);
    await assertInert('fault page', '<script>window.__xss = "annotation"</script>');
    await assertInert('fault page', 'javascript:window.__xss = 5');

    await page.locator('#comment-text').fill('<script>window.__xss = "comment"</script> "onmouseover="window.__xss = 6');
    await actAndConfirm(page.getByRole('button', { name: 'Comment', exact: true }));
    await assertInert('fault page after a comment', '<script>window.__xss = "comment"</script>');

    // The local ticket: the rule's hostile templates rendered, and the record with the alert's text.
    await page.locator('dd a', { hasText: 'local #' }).click();
    await page.waitForURL(/\/tickets\//);
    await assertInert('ticket page', '<script>window.__xss = "subject"</script>');

    await page.goto(`${daemon.url}/playground`);
    await page.getByLabel('Payload').fill(JSON.stringify(hostile));
    await page.getByRole('button', { name: 'Explain' }).click();
    await page.getByTestId('explanations').waitFor();
    await page.locator('details summary', { hasText: 'Body' }).first().click();
    await assertInert('playground', '<script>window.__xss = "subject"</script>');
    await assertInert('playground', '<img src=x onerror="window.__xss = 1">');
    await page.screenshot({ path: screenshotPath('xss-playground'), fullPage: true });
  });

  test('without JavaScript the pages read and an action asks on a page of its own', async () => {
    const plain = await launch({ width: 1280, height: 900 }, false);
    try {
      const p = await plain.context.newPage();
      await p.goto(`${daemon.url}/`);
      await p.getByLabel('Token').fill(ADMIN_TOKEN);
      await p.getByRole('button', { name: 'Log in' }).click();
      await p.waitForURL(`${daemon.url}/`);
      await p.locator('tr[data-fault]', { hasText: '127.0.0.1:9999' }).getByRole('link').first().click();
      await p.waitForURL(/\/faults\//);
      await p.locator('#comment-text').fill('checked without a script');
      await p.getByRole('button', { name: 'Comment', exact: true }).click();
      await expect(p.locator('h1').textContent()).resolves.toBe('Comment on this fault?');
      await p.getByRole('button', { name: 'Confirm' }).click();
      await p.waitForURL(/done=comment/);
      await expect(p.getByTestId('result').textContent()).resolves.toBe('Comment added.');
      expect(await p.getByTestId('timeline').textContent()).toMatch(/comment\s+by admin: checked without a script/);
      for (const path of ['/tickets', '/outbox', '/playground', '/estimates']) {
        await p.goto(`${daemon.url}${path}`);
        await expect(p.locator('h1').count()).resolves.toBe(1);
      }
    } finally {
      await plain.close();
    }
  });

  test('a viewer reads every page but cannot act, not even with a crafted form', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(/\/login/);
    expect((await page.goto(`${daemon.url}/`))?.status()).toBe(401);
    await login(VIEWER_TOKEN);
    await expect(page.getByTestId('who').textContent()).resolves.toContain('viewer (viewer, read only)');
    const fault = await firstFault();
    await page.goto(`${daemon.url}/faults/${fault.id}`);
    await expect(page.getByTestId('read-only').isVisible()).resolves.toBe(true);
    expect(await page.locator('form[action*="/faults/"]').count()).toBe(0);
    await page.goto(`${daemon.url}/outbox`);
    expect(await page.locator('form[action="/outbox/retry"]').count()).toBe(0);

    // The viewer's own CSRF token (from the playground's form) does not make it an admin.
    await page.goto(`${daemon.url}/playground`);
    const csrf = await page.locator('input[name="_csrf"]').first().inputValue();
    const answer = (await page.evaluate(
      `fetch('/faults/${fault.id}/resolve', { method: 'POST', body: new URLSearchParams({ _csrf: ${JSON.stringify(csrf)}, reason: 'x', confirmed: 'yes' }) })
        .then(async (res) => ({ status: res.status, text: await res.text() }))`,
    )) as { status: number; text: string };
    expect(answer.status).toBe(403);
    expect(answer.text).toContain('needs the admin role');
    expect((await firstFault()).state).not.toBe('resolved');
  });

  async function firstFault(category = 'target-down'): Promise<{ id: string; state: string }> {
    const res = await fetch(`${daemon.url}/api/v1/faults`, { headers: { Authorization: `Bearer ${VIEWER_TOKEN}` } });
    const body = (await res.json()) as { faults: Array<{ id: string; state: string; category: string }> };
    return body.faults.find((f) => f.category === category)!;
  }
});
