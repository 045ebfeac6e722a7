import { seedWebhookEndpoint } from "../apps/server/src/test/webhook-fixtures.js";
import { type PsphubProcess, REPO_ROOT, startScript } from "../tests/support/processes.js";
import { insertOrders, type ScratchDb, seed, withContext } from "../tests/support/seed.js";
import { callbackRun, ordersFor, warmUp } from "./lib/callbacks.js";
import { log, round } from "./lib/figures.js";
import { percentile } from "./lib/load.js";
import type { Settings } from "./lib/settings.js";

export type B6Result = {
  /** B1's closed-loop credit rate without any endpoint, the mean of the runs before and after. */
  offRps: number;
  /** The same load with two endpoints subscribed to every event. */
  onRps: number;
  /** onRps / offRps. */
  ratio: number;
  /** Events (two per credit) and deliveries (two endpoints each) of the run with webhooks on. */
  events: number;
  deliveries: number;
  duplicates: number;
  /** From the event's commit to its arrival at the receiver, ms. */
  lagP50: number;
  lagP99: number;
  lagMax: number;
  verified: boolean;
};

type SinkStats = { events: number; deliveries: number; duplicates: number; lags: number[] };

/**
 * B6: B1's load (distinct success callbacks, closed loop, the run's connections and duration),
 * three times on one server: without endpoints, with two endpoints subscribed to every event
 * (a receiver process answering 204 at once), and without again, so the machine's drift shows
 * in the two runs around the one measured. Reported: the rate with webhooks over without, and
 * how long after its commit each event reached the receiver (p50/p99; target p99 < 1 s).
 */
export async function runB6(
  settings: Settings,
  kind: ScratchDb["kind"],
  db: ScratchDb,
  startServer: () => Promise<PsphubProcess>,
): Promise<B6Result> {
  const s = await seed(db, { clients: 1_000 });
  await insertOrders(db, s, { prefix: "w", count: 30_000, kind: "pending" });
  const sink = await startScript(`${REPO_ROOT}bench/servers/webhook-sink.ts`);
  const server = await startServer();
  try {
    const warm = await warmUp(settings, server, s, "w", 30_000);
    const n = ordersFor(settings, warm.rps);
    const segment = async (prefix: string) => {
      await insertOrders(db, s, { prefix, count: n, kind: "pending" });
      return callbackRun(settings, server, db, s, prefix, n);
    };
    const off1 = await segment("x");
    log(`${kind}: B6 without webhooks ${off1.load.rps.toFixed(0)}/s`);

    const since = Date.now();
    await withContext(db, async (ctx) => {
      await seedWebhookEndpoint(ctx, s.tenantId, { url: `${sink.url}/a` });
      await seedWebhookEndpoint(ctx, s.tenantId, { url: `${sink.url}/b` });
    });
    const on = await segment("y");
    const expected = 4 * on.credited; // deposit.succeeded and wallet.credited, to two endpoints
    let stats: SinkStats = { events: 0, deliveries: 0, duplicates: 0, lags: [] };
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      stats = (await (await fetch(`${sink.url}/stats?since=${since}`)).json()) as SinkStats;
      if (stats.events >= expected) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    log(
      `${kind}: B6 with two endpoints ${on.load.rps.toFixed(0)}/s; ${stats.events}/${expected} deliveries arrived`,
    );
    await db.raw.exec("UPDATE webhook_endpoints SET deleted_at = 1, enabled = 0");
    const off2 = await segment("z");
    log(`${kind}: B6 without webhooks again ${off2.load.rps.toFixed(0)}/s`);

    const lags = Float64Array.from(stats.lags).sort();
    const offRps = (off1.load.rps + off2.load.rps) / 2;
    const result: B6Result = {
      offRps: round(offRps, 0)!,
      onRps: round(on.load.rps, 0)!,
      ratio: round(on.load.rps / offRps, 3)!,
      events: 2 * on.credited,
      deliveries: stats.deliveries,
      duplicates: stats.duplicates,
      lagP50: round(percentile(lags, 50), 1)!,
      lagP99: round(percentile(lags, 99), 1)!,
      lagMax: round(lags.at(-1) ?? Number.NaN, 1)!,
      verified: off1.verified && on.verified && off2.verified && stats.events === expected,
    };
    log(
      `${kind}: B6 rate with webhooks ${result.onRps}/s over without ${result.offRps}/s = ${result.ratio}; ` +
        `delivery lag p50 ${result.lagP50} ms p99 ${result.lagP99} ms max ${result.lagMax} ms (target p99 < 1000); ` +
        `${result.deliveries} deliveries, ${result.duplicates} duplicates, verified=${result.verified}`,
    );
    return result;
  } finally {
    await server.stop();
    await sink.stop();
  }
}
