import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { insertOrders } from "../tests/support/seed.js";
import type { B1Result } from "./b1-callbacks.js";
import { callbackRun, ordersFor, warmUp } from "./lib/callbacks.js";
import { type Figures, figures, log, round } from "./lib/figures.js";
import { PROFILE_DIR, printProfile } from "./lib/profile.js";
import type { BenchTarget } from "./lib/settings.js";

export type B4Result = Figures & {
  ordersInDb: number;
  p99RatioToB1: number;
  peakRssMb: number;
  verified: boolean;
  insertSeconds: number;
  meanBatch: number;
};

/**
 * B4: B1 again on a table grown by `growth` past orders, on a fresh server: its p99 against B1's
 * and the server's peak memory. Returns the figures and, with --profile, the CPU profile's path.
 */
export async function runB4(
  t: BenchTarget,
  b1: B1Result | undefined,
): Promise<{ b4: B4Result; profile: string | undefined }> {
  const { settings, kind, db, seed: s } = t;
  const t0 = performance.now();
  log(`${kind}: B4: inserting ${settings.growth.toLocaleString("en")} past orders`);
  await insertOrders(db, s, { prefix: "h", count: settings.growth, kind: "history" });
  const insertSeconds = (performance.now() - t0) / 1000;
  log(`${kind}: B4: inserted in ${insertSeconds.toFixed(1)} s`);
  const profileDir = join(PROFILE_DIR, `${kind}-b4`);
  if (settings.profile) mkdirSync(profileDir, { recursive: true });
  const server = await t.startServer(settings.profile ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []);
  try {
    await insertOrders(db, s, { prefix: "v", count: 30_000, kind: "pending" });
    const warm = await warmUp(settings, server, s, "v", 30_000);
    const n = ordersFor(settings, warm.rps);
    await insertOrders(db, s, { prefix: "g", count: n, kind: "pending" });
    const r = await callbackRun(settings, server, db, s, "g", n);
    const [{ n: total } = { n: 0 }] = await db.raw.all<{ n: number }>("SELECT COUNT(*) AS n FROM deposits");
    const rss = server.peakRssMb();
    const b4: B4Result = {
      ...figures(r.load, r.cpu),
      ordersInDb: Number(total),
      p99RatioToB1: b1 ? round(r.load.p99 / b1.p99)! : Number.NaN,
      peakRssMb: round(rss, 1)!,
      verified: r.verified,
      insertSeconds: round(insertSeconds, 1)!,
      meanBatch: r.meanBatch,
    };
    log(
      `${kind}: B4 ${r.load.rps.toFixed(0)}/s p50 ${r.load.p50.toFixed(2)} ms p99 ${r.load.p99.toFixed(2)} ms ` +
        `with ${Number(total).toLocaleString("en")} orders, peak RSS ${rss.toFixed(0)} MB, verified=${r.verified}`,
    );
    await server.stop();
    const profile = settings.profile
      ? printProfile(profileDir, `${kind}-b4`, "B4's warm-up and B4")
      : undefined;
    return { b4, profile };
  } finally {
    await server.stop().catch(() => {});
  }
}
