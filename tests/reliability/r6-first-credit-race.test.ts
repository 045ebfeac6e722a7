import { afterAll, describe, expect, it } from "vitest";
import { insertOrders, ORDER, seed, successBodies } from "../support/seed.js";
import {
  cleanUp,
  expectEachCreditedOnce,
  freshDatabase,
  linesMentioning,
  pool,
  sendCallbackOnce,
  serve,
} from "./support/harness.js";

// R6: new clients' first credits racing over two `psphub serve` processes on
// one PostgreSQL database. Each client has two orders and no wallet yet; the two success
// callbacks of a client go out together, one to each process, so both processes plan the
// client's wallet as new. Every callback is sent ONCE (no retry): each must be answered 204 at
// the first try (the loser of a wallet race must not answer 500), and every order is
// credited exactly once into the client's one wallet.

const CLIENTS = 300;
const PAIRS_AT_ONCE = 16;

afterAll(cleanUp);

describe("R6 first credits of new clients over two processes on one PostgreSQL", () => {
  it(`${CLIENTS} new clients × 2 first callbacks, split over two processes at once: all 204 at the first try, each credited once`, async () => {
    const db = await freshDatabase("postgres", "r6");
    const s = await seed(db, { clients: CLIENTS });
    // Order i belongs to client i % CLIENTS: orders i and i + CLIENTS are one client's two orders.
    await insertOrders(db, s, { prefix: "f", count: 2 * CLIENTS, kind: "pending" });
    const bodies = successBodies(s, "f", 2 * CLIENTS);
    const [a, b] = await Promise.all([serve(db), serve(db)]);

    const statuses: number[] = [];
    const started = performance.now();
    await pool(
      Array.from({ length: CLIENTS }, (_, c) => c),
      PAIRS_AT_ONCE,
      async (c) => {
        const pair = await Promise.all([
          sendCallbackOnce(a!, s.token, bodies[c]!),
          sendCallbackOnce(b!, s.token, bodies[c + CLIENTS]!),
        ]);
        statuses.push(...pair);
      },
    );
    console.log(
      `[R6] ${statuses.length} first-credit callbacks over 2 processes in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    await Promise.all([a!.stop(), b!.stop()]);

    const counts = Object.fromEntries(
      [...new Set(statuses)].map((st) => [st, statuses.filter((x) => x === st).length]),
    );
    expect(counts).toEqual({ 204: 2 * CLIENTS });
    await expectEachCreditedOnce(db, "f", 2 * CLIENTS);
    // One wallet per client, holding both credits.
    const wallets = await db.raw.all<{ client_id: string; n: number | string; balance: number | string }>(
      `SELECT client_id, COUNT(*) AS n, SUM(balance_minor) AS balance FROM wallets WHERE tenant_id = ?
       GROUP BY client_id`,
      [s.tenantId],
    );
    expect(wallets.length).toBe(CLIENTS);
    expect(
      wallets.filter((w) => Number(w.n) !== 1 || Number(w.balance) !== 2 * ORDER.creditMinor).slice(0, 5),
    ).toEqual([]);
    expect(linesMentioning(s.token)).toEqual([]);
  });
});
