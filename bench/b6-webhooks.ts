import { seedWebhookEndpoint } from "../apps/server/src/test/webhook-fixtures.js";
import { type PsphubProcess, REPO_ROOT, startScript } from "../tests/support/processes.js";
import { insertOrders, type ScratchDb, seed, successBodies, withContext } from "../tests/support/seed.js";
import { CALLBACK_PATH, callbackHeaders, callbackRun, ordersFor, warmUp } from "./lib/callbacks.js";
import { log, round } from "./lib/figures.js";
import { percentile, runPaced } from "./lib/load.js";
import type { Settings } from "./lib/settings.js";

export type B6Result = {
  /** B1's closed-loop credit rate without any endpoint, the mean of the runs before and after. */
  offRps: number;
  /** The same load with two endpoints subscribed to every event. */
  onRps: number;
  /** onRps / offRps. */
  ratio: number;
  /**
   * The callbacks' answer time, p99 ms, without endpoints (the first run) and with: with them it
   * includes the time backpressure held a callback (docs/webhooks.md#backpressure).
   */
  offCallbackP99: number;
  onCallbackP99: number;
  /** Events (two per credit) and deliveries (two endpoints each) of the run with webhooks on. */
  events: number;
  deliveries: number;
  duplicates: number;
  /** From the event's commit to its arrival at the receiver, ms (the run at B1's rate). */
  lagP50: number;
  lagP99: number;
  lagMax: number;
  /** The same lag with callbacks evenly spaced at `--rate` per second (a load the worker keeps up with). */
  pacedRate: number;
  pacedLagP50: number;
  pacedLagP99: number;
  pacedLagMax: number;
  /** Every delivery arrived, none twice, and every credit checked (B1's checks). */
  verified: boolean;
};

type SinkStats = { events: number; deliveries: number; duplicates: number; lags: number[] };

/**
 * B6: B1's load (distinct success callbacks, closed loop, the run's connections and duration),
 * three times on one server: without endpoints, with two endpoints subscribed to every event
 * (a receiver process answering 204 at once), and without again, so the machine's drift shows
 * in the two runs around the one measured. Reported: the rate with webhooks over without, and
 * how long after its commit each event reached the receiver (p50/p99; target p99 < 1 s). A
 * closed loop saturates the server: the worker keeps its lag by backpressure, which holds
 * callbacks while it is behind (docs/webhooks.md#backpressure), so the rate with webhooks is what
 * the worker can deliver, and the callbacks' p99 includes the hold. A run before it sends
 * callbacks evenly spaced at `--rate` (open loop, B3's generator) to show the lag of a load below
 * saturation, on an empty queue.
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
    const pacedCount = Math.ceil(settings.rate * settings.durationS);
    await insertOrders(db, s, { prefix: "p", count: pacedCount, kind: "pending" });
    const pacedBodies = successBodies(s, "p", pacedCount);
    const paced = await runPaced({
      url: server.url,
      path: CALLBACK_PATH,
      headers: callbackHeaders(s),
      body: (i) => pacedBodies[i]!,
      rate: settings.rate,
      durationS: settings.durationS,
      connections: settings.connections,
    });
    const pacedStats = await drained(db, sink.url, since);
    log(
      `${kind}: B6 with two endpoints, ${settings.rate}/s evenly spaced: ${paced.statuses["204"] ?? 0} credits; ${pacedStats.events}/${pacedStats.expected} deliveries arrived`,
    );

    // The paced run first, on an empty queue: after the closed loop a backlog may still drain.
    await fetch(`${sink.url}/stats`, { method: "DELETE" });
    const onSince = Date.now();
    const on = await segment("y");
    const stats = await drained(db, sink.url, onSince);
    log(
      `${kind}: B6 with two endpoints ${on.load.rps.toFixed(0)}/s; ${stats.events}/${stats.expected} deliveries arrived`,
    );

    await db.raw.exec("UPDATE webhook_endpoints SET deleted_at = 1, enabled = 0");
    const off2 = await segment("z");
    log(`${kind}: B6 without webhooks again ${off2.load.rps.toFixed(0)}/s`);

    const lags = Float64Array.from(stats.lags).sort();
    const pacedLags = Float64Array.from(pacedStats.lags).sort();
    const offRps = (off1.load.rps + off2.load.rps) / 2;
    const result: B6Result = {
      offRps: round(offRps, 0)!,
      onRps: round(on.load.rps, 0)!,
      ratio: round(on.load.rps / offRps, 3)!,
      offCallbackP99: round(off1.load.p99, 1)!,
      onCallbackP99: round(on.load.p99, 1)!,
      events: stats.expected / 2,
      deliveries: stats.deliveries,
      duplicates: stats.duplicates,
      lagP50: round(percentile(lags, 50), 1)!,
      lagP99: round(percentile(lags, 99), 1)!,
      lagMax: round(lags.at(-1) ?? Number.NaN, 1)!,
      pacedRate: settings.rate,
      pacedLagP50: round(percentile(pacedLags, 50), 1)!,
      pacedLagP99: round(percentile(pacedLags, 99), 1)!,
      pacedLagMax: round(pacedLags.at(-1) ?? Number.NaN, 1)!,
      verified:
        off1.verified &&
        on.verified &&
        off2.verified &&
        stats.complete &&
        pacedStats.complete &&
        stats.duplicates + pacedStats.duplicates === 0,
    };
    log(
      `${kind}: B6 rate with webhooks ${result.onRps}/s over without ${result.offRps}/s = ${result.ratio}; ` +
        `callback p99 ${result.onCallbackP99} ms with, ${result.offCallbackP99} ms without; ` +
        `delivery lag p50 ${result.lagP50} ms p99 ${result.lagP99} ms max ${result.lagMax} ms (target p99 < 1000); ` +
        `at ${result.pacedRate}/s evenly spaced p50 ${result.pacedLagP50} ms p99 ${result.pacedLagP99} ms max ${result.pacedLagMax} ms; ` +
        `${result.deliveries} deliveries, ${result.duplicates} duplicates, verified=${result.verified}`,
    );
    return result;
  } finally {
    await server.stop();
    await sink.stop();
  }
}

/**
 * Waits until every delivery row written since `since` (the database's count, so credits whose
 * answer came after the load's time limit count too) has reached the sink, or two minutes.
 */
async function drained(
  db: ScratchDb,
  sinkUrl: string,
  since: number,
): Promise<SinkStats & { expected: number; complete: boolean }> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const [row] = await db.raw.all<{ n: number | string }>(
      "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE created_at >= ?",
      [since],
    );
    const expected = Number(row?.n);
    const stats = (await (await fetch(`${sinkUrl}/stats?since=${since}`)).json()) as SinkStats;
    if (stats.events >= expected || Date.now() > deadline)
      return { ...stats, expected, complete: stats.events === expected };
    await new Promise((r) => setTimeout(r, 250));
  }
}
