import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { REPO } from '../helpers';

/** Debian's chromium (apt-get install chromium; .ci/run installs it). playwright-core downloads no browser. */
export const CHROMIUM = process.env.FAULTDESK_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.join(REPO, 'test-results', 'console');

/** Whether the browser is there; elsewhere the browser tests are skipped, saying so (in CI a missing browser fails). */
export function haveChromium(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI) throw new Error(`${CHROMIUM} is missing (Debian package chromium); .ci/run installs it`);
  process.stderr.write(`\nSKIPPING the console's browser tests: ${CHROMIUM} is not installed (Debian package chromium).\n`);
  return false;
}

/** A headless Chromium with a fresh profile and no network of its own (no updates, sync or QUIC). */
export async function launch(viewport = { width: 1280, height: 900 }, javaScriptEnabled = true): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const profile = mkdtempSync(path.join(tmpdir(), 'faultdesk-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    javaScriptEnabled,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export function screenshotPath(name: string): string {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return path.join(SCREENSHOTS, `${name}.png`);
}
