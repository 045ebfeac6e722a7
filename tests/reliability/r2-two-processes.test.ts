import { afterAll, describe, expect, it } from "vitest";
import { insertOrders, seed } from "../support/seed.js";
import {
  cleanUp,
  expectEachCreditedOnce,
  freshDatabase,
  linesMentioning,
  orderNo,
  pool,
  reportSuccess,
  serve,
} from "./support/harness.js";

// R2: two `psphub serve` processes on one PostgreSQL database, the same success
// callback for each order sent several times, split between them and concurrent: one credit
// per order (the row lock and the ledger's unique index, not luck, decide).

const ORDERS = 300;
const COPIES = 8;

afterAll(cleanUp);

describe("R2 two server processes on one PostgreSQL", () => {
  it(`${ORDERS} orders × ${COPIES} duplicate callbacks split over two processes: one credit per order`, async () => {
    const db = await freshDatabase("postgres", "r2");
    const s = await seed(db, { clients: 40 });
    await insertOrders(db, s, { prefix: "t", count: ORDERS, kind: "pending" });
    const [a, b] = await Promise.all([serve(db), serve(db)]);
    expect(a!.url).not.toBe(b!.url);

    // Every copy of an order goes out at about the same time, alternating between the processes.
    const sends = Array.from({ length: ORDERS * COPIES }, (_, k) => ({
      no: orderNo("t", Math.floor(k / COPIES)),
      server: k % 2 === 0 ? a! : b!,
    }));
    const answers: string[] = [];
    const started = performance.now();
    await pool(sends, 64, async ({ no, server }) => {
      const r = await reportSuccess(() => server.url, s, no, { deadlineMs: 30_000 });
      answers.push(r.kind === "done" ? String(r.status) : `${r.kind}`);
    });
    console.log(
      `[R2] ${sends.length} callbacks over 2 processes in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    await Promise.all([a!.stop(), b!.stop()]);

    expect(answers.filter((x) => x !== "204")).toEqual([]);
    await expectEachCreditedOnce(db, "t", ORDERS);
    // Both processes did work: each logged callbacks for the orders.
    const by = await db.raw.all<{ n: number | string }>(
      "SELECT COUNT(*) AS n FROM callback_logs WHERE verdict = 'duplicate'",
    );
    expect(Number(by[0]!.n)).toBe(ORDERS * (COPIES - 1));
    expect(linesMentioning(s.token)).toEqual([]);
  });
});
