import { execFileSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";

/**
 * Builds the web apps once for the whole e2e run (the server serves apps/web/dist). Skipped
 * when Chromium is missing, since every e2e test is skipped then too.
 */
export default function setup(): void {
  const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  if (!existsSync(chromium)) return;
  // Screenshots of this run only (a stale failure shot would mislead).
  rmSync(join(process.cwd(), "test-results", "screenshots"), { recursive: true, force: true });
  const started = Date.now();
  // vitest sets NODE_ENV=test, which would make Vite bundle React's development build.
  execFileSync("npm", ["run", "build", "-w", "@psphub/web"], {
    stdio: "inherit",
    cwd: process.cwd(),
    env: { ...process.env, NODE_ENV: "production" },
  });
  if (!existsSync(join(process.cwd(), "apps", "web", "dist", "portal.html"))) {
    throw new Error("the web build produced no apps/web/dist/portal.html");
  }
  console.log(`[e2e] web apps built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
