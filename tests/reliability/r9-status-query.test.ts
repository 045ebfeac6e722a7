import { afterAll, describe, expect, it } from "vitest";
import { freePort, type PsphubProcess } from "../support/processes.js";
import { insertOrders, seed } from "../support/seed.js";
import { type StatusStub, startStatusStub } from "../support/status-stub.js";
import {
  cleanUp,
  expectEachCreditedOnce,
  freshDatabase,
  linesMentioning,
  ORDER,
  type ScratchDb,
  type Seed,
  serve,
} from "./support/harness.js";

// R9: API-3 status queries settle orders whose callbacks are lost. Real `psphub serve`
// processes on PostgreSQL, API-3 on with a schedule of seconds, and a backend that never calls
// back (tests/support/status-stub.ts): (a) two processes run their workers at once; (b) a
// process is killed -9 while queries are in flight and restarted. Every order is credited once.

const ORDERS = 150;
/** Short leases, so that a dead process's claims come back within the test. */
const WORKER_ENV = {
  ALLOW_PRIVATE_APP_URLS: "true",
  STATUS_QUERY_POLL_MS: "100",
  STATUS_QUERY_CONCURRENCY: "8",
  STATUS_QUERY_LEASE_SECONDS: "4",
};

const stubs: StatusStub[] = [];
afterAll(async () => {
  await cleanUp();
  for (const s of stubs) await s.close();
});

/** A database with `ORDERS` pending orders whose first query is due within 2 s. */
async function setUp(label: string, delayMs: number): Promise<{ db: ScratchDb; s: Seed; stub: StatusStub }> {
  const db = await freshDatabase("postgres", label);
  // The APP_URL is the stub's, which needs the seed's merchant and token first: set it after.
  const s = await seed(db, { clients: 30 });
  const stub = await startStatusStub({
    merchantId: s.merchantId,
    token: s.token,
    amountText: ORDER.amountText,
    currency: "USD",
    delayMs,
  });
  stubs.push(stub);
  await db.raw.exec(
    "UPDATE psp_integrations SET app_url = ?, status_query_enabled = 1, status_query_schedule = ?, status_query_timeout_ms = 2000",
    [stub.url, "[1,1,1,1,1,1,1,1]"],
  );
  await insertOrders(db, s, { prefix: "q", count: ORDERS, kind: "pending" });
  const now = Date.now();
  await db.raw.exec(
    "UPDATE deposits SET status_query_due_at = CAST(? AS BIGINT) + (CAST(SUBSTR(order_no, 2) AS INTEGER) % 2000), status_query_step = 0 WHERE order_no LIKE 'q%'",
    [now],
  );
  return { db, s, stub };
}

async function untilAllSettled(db: ScratchDb, deadlineMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const [row] = await db.raw.all<{ n: number | string }>(
      "SELECT COUNT(*) AS n FROM deposits WHERE order_no LIKE 'q%' AND status <> 'succeeded'",
    );
    if (Number(row?.n) === 0) return Date.now() - started;
    if (Date.now() - started > deadlineMs)
      throw new Error(`${row?.n} orders still open after ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("R9 API-3 status queries on PostgreSQL", () => {
  it(`(a) two processes, ${ORDERS} orders whose callbacks are lost: each queried once and credited once`, async () => {
    const { db, s, stub } = await setUp("r9a", 5);
    const [a, b] = await Promise.all([serve(db, WORKER_ENV), serve(db, WORKER_ENV)]);
    const ms = await untilAllSettled(db, 60_000);
    console.log(`[R9a] ${ORDERS} orders settled by queries over 2 processes in ${ms} ms`);
    await Promise.all([a!.stop(), b!.stop()]);
    await expectEachCreditedOnce(db, "q", ORDERS);
    // Claims split the work: no order was asked twice (a lease never ran out).
    expect(stub.queries.size).toBe(ORDERS);
    expect([...stub.queries.values()].filter((n) => n !== 1)).toEqual([]);
    const [sched] = await db.raw.all<{ n: number | string }>(
      "SELECT COUNT(*) AS n FROM deposits WHERE status_query_due_at IS NOT NULL",
    );
    expect(Number(sched?.n)).toBe(0);
    expect(linesMentioning(s.token)).toEqual([]);
  });

  it(`(b) a process killed -9 during the schedule and restarted: each of ${ORDERS} orders credited once`, async () => {
    const { db, s } = await setUp("r9b", 150);
    const port = await freePort();
    const env = { ...WORKER_ENV, PORT: String(port) };
    let server: PsphubProcess = await serve(db, env);
    // Kill once about a third is settled, with queries in flight (each answer takes 150 ms).
    for (;;) {
      const [row] = await db.raw.all<{ n: number | string }>(
        "SELECT COUNT(*) AS n FROM deposits WHERE order_no LIKE 'q%' AND status = 'succeeded'",
      );
      if (Number(row?.n) >= ORDERS / 3) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await server.kill9();
    const [claimed] = await db.raw.all<{ n: number | string }>(
      "SELECT COUNT(*) AS n FROM deposits WHERE status = 'pending' AND status_query_due_at > ?",
      [Date.now() + 2_000],
    );
    console.log(`[R9b] killed with ${claimed?.n} claims held`);
    // The kill landed with queries in flight: their claims come back when the lease passes.
    expect(Number(claimed?.n)).toBeGreaterThan(0);
    server = await serve(db, env);
    const ms = await untilAllSettled(db, 90_000);
    console.log(`[R9b] the rest settled ${ms} ms after the restart`);
    await server.stop();
    await expectEachCreditedOnce(db, "q", ORDERS);
    expect(linesMentioning(s.token)).toEqual([]);
  });
});
