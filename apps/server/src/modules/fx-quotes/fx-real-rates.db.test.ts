import { type RunningSim, startSim } from "@psphub/psp-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api1Stub, startApi1Stub } from "../../test/api1-stub.js";
import {
  depositRow,
  ledgerEntriesOf,
  sendSignedCallback,
  testDepositOf,
  walletBalance,
} from "../../test/callback-client.js";
import {
  eurCreditingUsd,
  insertPaymentSetup,
  type PaymentFixture,
  USD,
} from "../../test/payment-fixtures.js";
import { paymentInvariantsAfterEach } from "../../test/payment-invariants.js";
import { createTestApp, loginClient, type Session, seedTenant, type TestApp } from "../../test/test-app.js";

/*
 * Deposits priced by the app's own rate lookup (`ctx.fxRates`, modules/fx-rates/rate-lookup.ts)
 * over sources made through the admin routes: a manual table changed between the order and its
 * API-2, and an external API (the simulator on loopback) whose stale answer refuses orders and
 * opens the source's alert until a fresh one (docs/exchange-rates.md).
 */

const SOURCES = "/api/admin/fx/sources";
const UNAVAILABLE = "The EUR → USD exchange rate is not available right now. Try again in a few minutes.";

let t: TestApp;
let tenant: Awaited<ReturnType<typeof seedTenant>>;
let stub: Api1Stub;
let sim: RunningSim;

beforeAll(async () => {
  t = await createTestApp({ configOverrides: { allowPrivateAppUrls: true } });
  tenant = await seedTenant(t, "fx-real-rates");
  stub = await startApi1Stub();
  sim = await startSim({
    port: 0,
    callbackUrl: "http://127.0.0.1:9",
    token: "unused-token-0123456789",
    slowMs: 30_000,
    log: () => {},
  });
});
afterAll(async () => {
  await sim?.close();
  await stub?.close();
  await t?.close();
});
paymentInvariantsAfterEach(() => t?.ctx);

/** A method paying EUR into the USD wallet at `sourceId`'s rate, and its client signed in. */
async function eurMethod(sourceId: string): Promise<{ f: PaymentFixture; portal: Session }> {
  const f = await insertPaymentSetup(t.ctx, tenant.tenantId, {
    appUrl: stub.url,
    currencies: [USD, eurCreditingUsd(sourceId)],
  });
  return { f, portal: await loginClient(t.app, tenant.slug, f.clientEmail, f.clientPassword) };
}

const orderEur = (f: PaymentFixture, portal: Session, amount = "100.00") => {
  stub.token = f.token;
  return portal.post("/api/portal/deposits", { methodId: f.methodId, currency: "EUR", amount });
};

/** The id of a portal order (the portal shows its number only). */
const idOf = async (orderNo: string) =>
  (
    await t.ctx.db
      .selectFrom("deposits")
      .select("id")
      .where("order_no", "=", orderNo)
      .executeTakeFirstOrThrow()
  ).id;

const depositsOf = async (clientId: string) =>
  (await t.ctx.db.selectFrom("deposits").select("id").where("client_id", "=", clientId).execute()).length;

/** The source as the admin list shows it (its open `fx_rate_stale` alert or null). */
const listed = async (id: string) =>
  (await tenant.owner.get(SOURCES)).json().items.find((s: { id: string }) => s.id === id);

describe("the app's rate lookup prices deposits", () => {
  it("a manual rate changed after the order: API-2 credits the LOCKED quote, the ledger shows the locked rate", async () => {
    const made = await tenant.owner.post(SOURCES, { kind: "manual", name: "House rates", ttlSeconds: null });
    expect(made.statusCode, made.body).toBe(201);
    const sourceId: string = made.json().source.id;
    const rateUrl = `${SOURCES}/${sourceId}/rates/EUR/USD`;
    expect((await tenant.owner.put(rateUrl, { rate: "1.0781", markupBps: 50 })).statusCode).toBe(200);
    const { f, portal } = await eurMethod(sourceId);

    const res = await orderEur(f, portal);
    expect(res.statusCode, res.body).toBe(201);
    const dep = await testDepositOf(t.ctx, await idOf(res.json().orderNo));
    // 100.00 EUR, fee 2.50 EUR, 97.50 at 1.0781 less 50 bps = 104.59 USD (markup kept 0.52 USD).
    expect(await depositRow(t.ctx, dep.id)).toMatchObject({
      credit_minor: 10_459,
      account_currency: "USD",
      fx_rate: "1.0781",
      fx_markup_bps: 50,
      fx_markup_minor: 52,
      fx_source_kind: "manual",
      fx_source_id: sourceId,
    });

    // The desk changes the rate before the PSP reports the payment.
    const changed = await tenant.owner.put(rateUrl, { rate: "2.5", markupBps: 0 });
    expect(changed.statusCode, changed.body).toBe(200);
    const preview = await portal.post("/api/portal/deposit-quote", {
      methodId: f.methodId,
      currency: "EUR",
      amount: "100.00",
    });
    expect(preview.json().account).toEqual({ amount: "243.75", currency: "USD" });

    expect((await sendSignedCallback(t.app, f, dep)).statusCode).toBe(204);
    expect(await walletBalance(t.ctx, f.clientId, "USD")).toBe(10_459n);
    expect(await walletBalance(t.ctx, f.clientId, "EUR")).toBe(0n);
    expect((await ledgerEntriesOf(t.ctx, dep.id)).map((e) => Number(e.amount_minor))).toEqual([10_459]);
    const ledger = (await portal.get("/api/portal/ledger")).json();
    expect(ledger.items.find((e: { depositId: string }) => e.depositId === dep.id)).toMatchObject({
      currency: "USD",
      amount: "104.59",
      fx: { paymentAmount: "100.00", paymentCurrency: "EUR", rate: "1.0727095" },
    });
  });

  it("an external API answering stale: 503 fx_rate_unavailable, nothing made, the alert open; a fresh rate resolves it", async () => {
    sim.sim.fx.setRate("EUR", "USD", "1.0781");
    const made = await tenant.owner.post(SOURCES, {
      kind: "external",
      name: "Sim rates",
      url: `${sim.url}/fx/rate`,
      ttlSeconds: 300,
    });
    expect(made.statusCode, made.body).toBe(201);
    const sourceId: string = made.json().source.id;
    sim.sim.fx.setKey(made.json().key);
    const { f, portal } = await eurMethod(sourceId);
    const api1Calls = stub.requests.length;

    sim.sim.fx.setMode("stale");
    try {
      const refused = await orderEur(f, portal);
      expect(refused.statusCode, refused.body).toBe(503);
      expect(refused.headers["retry-after"]).toBe("60");
      expect(refused.json().error).toMatchObject({ code: "fx_rate_unavailable", message: UNAVAILABLE });
    } finally {
      sim.sim.fx.setMode(null);
    }
    expect(await depositsOf(f.clientId)).toBe(0);
    expect(stub.requests.length).toBe(api1Calls);
    expect((await listed(sourceId)).alert).toEqual({ id: expect.any(String), openedAt: expect.any(Number) });

    const res = await orderEur(f, portal);
    expect(res.statusCode, res.body).toBe(201);
    expect(await depositRow(t.ctx, await idOf(res.json().orderNo))).toMatchObject({
      credit_minor: 10_511,
      fx_rate: "1.0781",
      fx_source_kind: "external",
      fx_source_id: sourceId,
    });
    expect(stub.requests.length).toBe(api1Calls + 1);
    expect((await listed(sourceId)).alert).toBeNull();
  });
});
