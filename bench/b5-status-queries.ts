import type { PsphubProcess } from "../tests/support/processes.js";
import {
  createScratchDatabase,
  type DbKind,
  insertOrders,
  ORDER,
  orderCredits,
  seed,
} from "../tests/support/seed.js";
import { startStatusStub } from "../tests/support/status-stub.js";
import { cpuMeter, log, round } from "./lib/figures.js";
import type { Settings } from "./lib/settings.js";

export type B5Result = {
  orders: number;
  /** The schedule's first delay: when a lost callback's order is first queried. */
  firstDelayS: number;
  /** From API-1's success (every order at once) until the last order was settled by a query. */
  settledS: number;
  /** settledS / firstDelayS (target ≤ 1.1: the schedule's own time plus 10 %). */
  ratio: number;
  queriesPerOrder: number;
  serverCpuS: number;
  verified: boolean;
};

/**
 * The status-query worker's settings for B5 (and for B1–B4 with --worker): the server's defaults
 * (64 queries at once per process; with 16, PostgreSQL's round trips per query left the last of
 * 10 000 orders at 1.28× the first delay on 2 cores), set explicitly so a bench run does not
 * depend on the environment.
 */
export const WORKER_ENV = { STATUS_QUERY_POLL_MS: "1000", STATUS_QUERY_CONCURRENCY: "64" };

/**
 * B5: `b5Orders` pending orders of an integration with API-3 on whose callbacks are all lost:
 * a backend that never calls back and answers every status query as paid
 * (tests/support/status-stub.ts: a stub that answers at once, so B5 measures the CRM alone). Every
 * order's API-1 succeeded at the same moment, so their first queries fall due together within the
 * ±5 % jitter of the first delay. Measured: the time until the last order is settled, against
 * that delay. Every order must be credited exactly once.
 */
export async function runB5(
  settings: Settings,
  kind: DbKind,
  startServer: (
    db: Awaited<ReturnType<typeof createScratchDatabase>>,
    env: Record<string, string>,
  ) => Promise<PsphubProcess>,
): Promise<B5Result> {
  const n = settings.b5Orders;
  const delayS = settings.b5DelayS;
  const db = await createScratchDatabase(kind, "b5");
  try {
    const s = await seed(db, { clients: 1_000 });
    const stub = await startStatusStub({
      merchantId: s.merchantId,
      token: s.token,
      amountText: ORDER.amountText,
      currency: "USD",
    });
    try {
      await db.raw.exec(
        "UPDATE psp_integrations SET app_url = ?, status_query_enabled = 1, status_query_schedule = ?",
        [stub.url, JSON.stringify([delayS, 300, 300, 300, 300, 300, 3600, 86_400])],
      );
      await insertOrders(db, s, { prefix: "s", count: n, kind: "pending" });
      const server = await startServer(db, WORKER_ENV);
      const cpu = cpuMeter(server);
      // API-1 "succeeded" for every order now: the first query of each at the delay ±5 %, as the
      // server schedules it (status-query-schedule.ts).
      const t0 = Date.now();
      await db.raw.exec(
        `UPDATE deposits SET status_query_step = 0, status_query_due_at = CAST(? AS BIGINT)
           + CAST(? * (0.95 + 0.1 * ((CAST(SUBSTR(order_no, 2) AS INTEGER) * 7919) % 1000) / 1000.0) AS BIGINT)
         WHERE order_no LIKE 's%'`,
        [t0, delayS * 1000],
      );
      log(`${kind}: B5: ${n} orders, API-3 on, callbacks lost; first queries due ${delayS} s ±5 % from now`);
      const deadline = t0 + delayS * 1000 * 3;
      for (;;) {
        const [row] = await db.raw.all<{ n: number | string }>(
          "SELECT COUNT(*) AS n FROM deposits WHERE order_no LIKE 's%' AND status <> 'succeeded'",
        );
        if (Number(row?.n) === 0) break;
        if (Date.now() > deadline) throw new Error(`B5: ${row?.n} orders still open at 3× the first delay`);
        await new Promise((r) => setTimeout(r, 250));
      }
      const [last] = await db.raw.all<{ at: number | string }>(
        "SELECT MAX(finalized_at) AS at FROM deposits WHERE order_no LIKE 's%'",
      );
      const used = cpu();
      await server.stop();
      const settledS = (Number(last?.at) - t0) / 1000;
      const credits = await orderCredits(db, "s");
      const verified =
        credits.size === n &&
        [...credits.values()].every(
          (c) => c.status === "succeeded" && c.credits === 1 && c.credited === ORDER.creditMinor,
        );
      const queries = [...stub.queries.values()].reduce((a, b) => a + b, 0);
      const result: B5Result = {
        orders: n,
        firstDelayS: delayS,
        settledS: round(settledS, 2)!,
        ratio: round(settledS / delayS, 3)!,
        queriesPerOrder: round(queries / n, 3)!,
        serverCpuS: round(used.serverMs / 1000, 1)!,
        verified,
      };
      log(
        `${kind}: B5 every order settled ${result.settledS} s after API-1 (first delay ${delayS} s, ratio ${result.ratio}, target ≤ 1.1); ` +
          `${result.queriesPerOrder} queries per order, server CPU ${result.serverCpuS} s, verified=${verified}`,
      );
      return result;
    } finally {
      await stub.close();
    }
  } finally {
    await db.drop();
  }
}
