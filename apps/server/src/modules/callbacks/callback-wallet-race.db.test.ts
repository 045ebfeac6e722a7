import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../app.js";
import { createAppContext } from "../../app-context.js";
import { writeTransaction } from "../../infra/db/database.js";
import {
  callbackFields,
  callbackJson,
  depositRow,
  expectLedgerInvariant,
  insertDeposit,
  ledgerEntriesOf,
  sendCallback,
  type TestDeposit,
  walletBalance,
} from "../../test/callback-client.js";
import { untilSomeoneWaitsOnALock } from "../../test/lock-waits.js";
import { insertClient, insertPaymentSetup, type PaymentFixture } from "../../test/payment-fixtures.js";
import { paymentInvariantsAfterEach } from "../../test/payment-invariants.js";
import { createTestApp, TEST_PASSWORD, type TestApp } from "../../test/test-app.js";
import { testDbKind } from "../../test/test-database.js";
import { settleResult } from "../settlement/settle.js";
import { createTenant } from "../tenants/create-tenant.js";

// A client's first credit in a currency, while another lane, transaction or process creates the
// same wallet, is answered 204 at the first try: the lane that planned the wallet as new must not
// fail on `ledger_entries_wallet_id_fkey` (PostgreSQL) and answer 500.

let t: TestApp;
let fx: PaymentFixture;

beforeAll(async () => {
  t = await createTestApp();
  const { tenantId } = await createTenant(t.ctx, {
    slug: "first-credit",
    name: "First Credit Ltd",
    owner: { email: "owner@first-credit.test", name: "Owner", password: TEST_PASSWORD },
  });
  fx = await insertPaymentSetup(t.ctx, tenantId);
});
afterAll(async () => t?.close());
paymentInvariantsAfterEach(() => t?.ctx);

/** A client of the fixture's tenant with no wallet yet, and `n` pending orders of its own. */
async function newClientWithOrders(n: number): Promise<{ clientId: string; orders: TestDeposit[] }> {
  const { clientId } = await insertClient(t.ctx, fx.tenantId);
  const orders: TestDeposit[] = [];
  for (let i = 0; i < n; i++) orders.push(await insertDeposit(t.ctx, fx, { client_id: clientId }));
  return { clientId, orders };
}

const successBody = (dep: TestDeposit) => callbackJson(callbackFields(fx, dep), fx.token);

describe("a client's first credit while another transaction creates the same wallet", () => {
  it("answers 204 at the first try and credits both orders into one wallet", async () => {
    const { clientId, orders } = await newClientWithOrders(2);
    const [other, mine] = orders as [TestDeposit, TestDeposit];
    let answer: Promise<{ statusCode: number; body: string }> | undefined;
    // Another lane (or process) credits the client's other order and so creates its wallet; its
    // transaction stays open until the callback has read "no wallet yet" and queued behind it.
    await writeTransaction(t.ctx.db, async (trx) => {
      await settleResult(trx, t.ctx, {
        tenantId: fx.tenantId,
        depositId: other.id,
        to: "succeeded",
        cause: "manual",
      });
      answer = sendCallback(t.app, successBody(mine), { token: fx.token });
      await untilSomeoneWaitsOnALock(t.ctx, "the callback waiting on the open transaction's wallet");
    });
    const res = await answer!;
    expect({ status: res.statusCode, body: res.body }).toEqual({ status: 204, body: "" });

    expect((await depositRow(t.ctx, mine.id)).status).toBe("succeeded");
    expect((await ledgerEntriesOf(t.ctx, mine.id)).map((e) => e.amount_minor)).toEqual([9_720]);
    const wallets = await t.ctx.db
      .selectFrom("wallets")
      .select(["id"])
      .where("client_id", "=", clientId)
      .execute();
    expect(wallets).toHaveLength(1);
    expect(await walletBalance(t.ctx, clientId)).toBe(2n * 9_720n);
    const logs = await t.ctx.db
      .selectFrom("callback_logs")
      .select(["verdict", "http_status"])
      .where("order_no", "=", mine.orderNo)
      .execute();
    expect(logs).toEqual([{ verdict: "accepted", http_status: 204 }]);
  });

  // The race as it happens in production: a new client's two first callbacks at once, in two
  // batch lanes of one server or in two servers (separate pools, as two processes). Before the
  // fix about one callback in 150 of a storm got a 500; with pairs sent together, most pairs.
  it("new clients' first credits in two lanes and two servers at once: every answer 204, each credited once", async () => {
    const pg = testDbKind() === "postgres";
    // SQLite has one writer process: the second server is PostgreSQL's only.
    const ctx2 = pg ? createAppContext(t.ctx.config, { logger: t.ctx.logger }) : undefined;
    const app2 = ctx2 ? await buildApp(ctx2) : undefined;
    try {
      const servers = [t.app, app2 ?? t.app];
      const CLIENTS = pg ? 240 : 40;
      const clients: { clientId: string; orders: TestDeposit[] }[] = [];
      for (let c = 0; c < CLIENTS; c++) clients.push(await newClientWithOrders(2));
      const answers: number[] = [];
      // A few clients at a time, each client's two callbacks together: to one server (its two
      // lanes) for even clients, split over both servers for odd ones.
      let next = 0;
      const worker = async () => {
        for (let c = next++; c < CLIENTS; c = next++) {
          const [a, b] = clients[c]!.orders as [TestDeposit, TestDeposit];
          const res = await Promise.all([
            sendCallback(servers[0]!, successBody(a), { token: fx.token }),
            sendCallback(servers[c % 2]!, successBody(b), { token: fx.token }),
          ]);
          answers.push(...res.map((r) => r.statusCode));
        }
      };
      await Promise.all(Array.from({ length: 4 }, worker));

      const counts = (xs: number[]) =>
        Object.fromEntries([...new Set(xs)].map((s) => [s, xs.filter((x) => x === s).length]));
      expect(counts(answers)).toEqual({ 204: 2 * CLIENTS });
      for (const { clientId, orders } of clients) {
        for (const dep of orders) expect((await ledgerEntriesOf(t.ctx, dep.id)).length).toBe(1);
        expect(await walletBalance(t.ctx, clientId)).toBe(2n * 9_720n);
      }
      await expectLedgerInvariant(t.ctx);
    } finally {
      await app2?.close();
      await ctx2?.close();
    }
  });
});
