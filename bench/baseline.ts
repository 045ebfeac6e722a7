import { join } from "node:path";
import { REPO_ROOT, startScript } from "../tests/support/processes.js";
import { type Seed, successBodies } from "../tests/support/seed.js";
import { CALLBACK_PATH, callbackHeaders } from "./lib/callbacks.js";
import { cpuMeter, type Figures, figures } from "./lib/figures.js";
import { runLoad } from "./lib/load.js";
import type { Settings } from "./lib/settings.js";

/**
 * The yardstick: a bare node:http server that verifies the same signed callbacks, under the same
 * closed-loop load as B1 (bench/servers/baseline.ts). B1, B2 and B4 are reported as multiples of it.
 */
export async function baselineRun(settings: Settings): Promise<Figures> {
  const token = "baseline-token-0123456789abcdefghijklmnopqrstuv";
  const s = { merchantId: "0".repeat(32), token } as Seed;
  const bodies = successBodies(s, "a", 50_000);
  const server = await startScript(join(REPO_ROOT, "bench", "servers", "baseline.ts"), [token]);
  try {
    const opts = {
      url: server.url,
      path: CALLBACK_PATH,
      headers: callbackHeaders(s),
      body: (i: number) => bodies[i % bodies.length],
      connections: settings.connections,
    };
    await runLoad({ ...opts, durationS: settings.warmupS });
    const cpu = cpuMeter(server);
    const r = await runLoad({ ...opts, durationS: settings.durationS });
    return figures(r, cpu());
  } finally {
    await server.stop();
  }
}
