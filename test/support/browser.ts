import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

/** Debian's Chromium; browser tests drive it with playwright-core (no downloaded browsers). */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Why browser tests cannot run here, or null when they can. */
export const BROWSER_MISSING: string | null = fs.existsSync(CHROMIUM_PATH)
  ? null
  : `no Chromium at ${CHROMIUM_PATH} (install the Debian package "chromium" to run the browser tests)`;

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

export interface LaunchedBrowser {
  context: BrowserContext;
  /** The fresh profile directory, removed by close(). */
  profileDir: string;
  close(): Promise<void>;
}

/** Chromium on a fresh profile directory, 1366×768 (a common laptop) unless told otherwise. */
export async function launchBrowser(viewport = { width: 1366, height: 768 }): Promise<LaunchedBrowser> {
  if (BROWSER_MISSING) throw new Error(BROWSER_MISSING);
  const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-chromium-'));
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    deviceScaleFactor: 1,
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  return {
    context,
    profileDir,
    async close() {
      await context.close().catch(() => {});
      fs.rmSync(profileDir, { recursive: true, force: true });
    },
  };
}
