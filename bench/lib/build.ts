import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../../tests/support/processes.js";

/** Where `buildServer` puts the production bundle (bench's own copy, so apps/server/dist is left alone). */
const BUILD_DIR = join(REPO_ROOT, "bench", ".build");

/**
 * Builds the server bundle into bench/.build with the server's own tsup config (from `serverDir`,
 * default apps/server: another copy of the server builds a "before" bundle to compare with).
 * Returns the bundle's path.
 */
export function buildServer(serverDir = join(REPO_ROOT, "apps", "server"), outDir = BUILD_DIR): string {
  execFileSync("npx", ["tsup", "--out-dir", outDir, "--silent"], {
    cwd: serverDir,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const entry = join(outDir, "psphub.js");
  if (!existsSync(entry)) throw new Error(`the server build produced no ${entry}`);
  return entry;
}
