import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium } from "playwright-core";

/** Debian's Chromium; never a downloaded browser. `.ci/run` installs it with apt-get. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const hasChromium = existsSync(CHROMIUM);

if (!hasChromium) {
  console.warn(
    `\n[e2e] skipped: no Chromium at ${CHROMIUM}. Install it with \`apt-get install -y chromium\` ` +
      "(CI's .ci/run does) or set CHROMIUM_PATH.\n",
  );
}

export const SCREENSHOT_DIR = join(process.cwd(), "test-results", "screenshots");

export type RunningBrowser = { browser: Browser; close(): Promise<void> };

/**
 * Headless Chromium. playwright-core gives every launch a fresh temporary profile
 * (user-data-dir) of its own and deletes it on close.
 */
export async function launchBrowser(): Promise<RunningBrowser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
      "--disable-dev-shm-usage",
    ],
  });
  return {
    browser,
    async close() {
      await browser.close().catch(() => {});
    },
  };
}

export async function newContext(
  browser: Browser,
  opts: { width?: number; height?: number; mobile?: boolean } = {},
): Promise<BrowserContext> {
  const ctx = await browser.newContext({
    viewport: { width: opts.width ?? 1280, height: opts.height ?? 860 },
    deviceScaleFactor: 1,
    isMobile: opts.mobile ?? false,
    hasTouch: opts.mobile ?? false,
    locale: "en-US",
    timezoneId: "UTC",
  });
  ctx.setDefaultTimeout(15_000);
  return ctx;
}

export function screenshotPath(name: string): string {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return join(SCREENSHOT_DIR, `${name}.png`);
}
