import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api1Stub, startApi1Stub } from "../../test/api1-stub.js";
import {
  callbackError,
  depositRow,
  insertDeposit,
  ledgerEntriesOf,
  sendSignedCallback,
  type TestDeposit,
  walletBalance,
} from "../../test/callback-client.js";
import { insertPaymentSetup, type PaymentFixture, USD } from "../../test/payment-fixtures.js";
import { paymentInvariantsAfterEach } from "../../test/payment-invariants.js";
import { createTestApp, loginClient, seedTenant, type TestApp } from "../../test/test-app.js";
import { encodeCurrencies } from "../deposit-methods/method-model.js";

// A second success with another amount on a succeeded order is kept
// for review as a conflict (never a 204 duplicate, never a credit); a credit of a paid amount
// other than the ordered one has its fee computed on the paid amount with the fee rule stored
// with the order, whatever the method's fee has become since.

let t: TestApp;
let tenant: Awaited<ReturnType<typeof seedTenant>>;
let creditPaid: PaymentFixture;
let review: PaymentFixture;
let exact: PaymentFixture;
const stubs: Api1Stub[] = [];

beforeAll(async () => {
  t = await createTestApp({ configOverrides: { allowPrivateAppUrls: true } });
  tenant = await seedTenant(t, "paid-amount");
  creditPaid = await insertPaymentSetup(t.ctx, tenant.tenantId, { amountPolicy: "credit_paid" });
  review = await insertPaymentSetup(t.ctx, tenant.tenantId, { amountPolicy: "review" });
  exact = await insertPaymentSetup(t.ctx, tenant.tenantId);
});
afterAll(async () => {
  await Promise.all(stubs.map((s) => s.close()));
  await t?.close();
});
paymentInvariantsAfterEach(() => t?.ctx);

const amount = (literal: string) => ({ amount: { literal } });
const reviewItems = (depositId: string) =>
  t.ctx.db
    .selectFrom("review_items")
    .selectAll()
    .where("deposit_id", "=", depositId)
    .orderBy("created_at")
    .execute();
const logsOf = (dep: TestDeposit) =>
  t.ctx.db
    .selectFrom("callback_logs")
    .select(["verdict", "error_type", "http_status"])
    .where("order_no", "=", dep.orderNo)
    .orderBy("created_at")
    .execute();

/** The method's USD fee changed to 10 % + 1.00, no cap (as an admin editing the method would). */
const raiseFee = (methodId: string) =>
  t.ctx.db
    .updateTable("deposit_methods")
    .set({
      currencies: encodeCurrencies([
        { ...USD, feePercentBps: 1_000, feeFixedMinor: 100n, feeMaxMinor: null },
      ]),
    })
    .where("id", "=", methodId)
    .execute();

describe("a second success with another amount on a succeeded order", () => {
  for (const policy of ["credit_paid", "review"] as const) {
    it(`${policy}: is kept for review as a conflict, answered payment_status_not_pending, never credited`, async () => {
      const fx = policy === "credit_paid" ? creditPaid : review;
      const dep = await insertDeposit(t.ctx, fx);
      expect((await sendSignedCallback(t.app, fx, dep)).statusCode).toBe(204);
      const balance = await walletBalance(t.ctx, fx.clientId);

      // The identical repeat stays a duplicate.
      expect((await sendSignedCallback(t.app, fx, dep)).statusCode).toBe(204);
      expect(await reviewItems(dep.id)).toEqual([]);

      // Another amount: perhaps a second, real payment.
      const second = await sendSignedCallback(t.app, fx, dep, { ...amount("90"), transaction_id: "tx-2" });
      expect(second.statusCode).toBe(400);
      expect(second.json()).toEqual(callbackError("payment_status_not_pending"));
      // Its retry folds into the same item.
      const retry = await sendSignedCallback(t.app, fx, dep, { ...amount("90"), transaction_id: "tx-2" });
      expect(retry.json()).toEqual(callbackError("payment_status_not_pending"));

      const items = await reviewItems(dep.id);
      expect(items.map((i) => [i.reason, i.status])).toEqual([["conflict", "open"]]);
      expect(JSON.parse(items[0]!.data)).toMatchObject({
        status: 1,
        paidMinor: "9000",
        transactionId: "tx-2",
        depositStatus: "succeeded",
      });
      expect((await logsOf(dep)).map((l) => [l.verdict, l.error_type, l.http_status])).toEqual([
        ["accepted", null, 204],
        ["duplicate", null, 204],
        ["review", "payment_status_not_pending", 400],
        ["review", "payment_status_not_pending", 400],
      ]);
      expect(await ledgerEntriesOf(t.ctx, dep.id)).toHaveLength(1);
      expect(await walletBalance(t.ctx, fx.clientId)).toBe(balance);
      expect(await depositRow(t.ctx, dep.id)).toMatchObject({
        status: "succeeded",
        paid_amount_minor: 10_000,
        credit_minor: 9_720,
      });

      // The admin sees it, with both amounts.
      const listed = (await tenant.viewer.get("/api/admin/review?reason=conflict&limit=200")).json();
      const item = listed.items.find((i: { id: string }) => i.id === items[0]!.id);
      expect(item).toMatchObject({
        reason: "conflict",
        deposit: { status: "succeeded", amount: "100.00", paidAmount: "100.00", credit: "97.20" },
        claim: { status: 1, paidAmount: "90.00", transactionId: "tx-2" },
      });
      // The order is credited already: it can only be dismissed (a second payment is refunded
      // or booked by hand), never credited a second time.
      const credit = await tenant.admin.post(`/api/admin/review/${item.id}/resolve`, {
        action: "credit",
        comment: "second payment?",
      });
      expect(credit.statusCode).toBe(409);
      expect(await ledgerEntriesOf(t.ctx, dep.id)).toHaveLength(1);
      const dismiss = await tenant.admin.post(`/api/admin/review/${item.id}/resolve`, {
        action: "dismiss",
        comment: "refunded by the PSP",
      });
      expect(dismiss.statusCode).toBe(200);
    });
  }

  it("credit_paid: compares with the amount paid and credited, not the ordered one", async () => {
    const dep = await insertDeposit(t.ctx, creditPaid);
    expect((await sendSignedCallback(t.app, creditPaid, dep, amount("90"))).statusCode).toBe(204);
    // The same paid amount again, spelled differently: a duplicate.
    expect((await sendSignedCallback(t.app, creditPaid, dep, amount("90.00"))).statusCode).toBe(204);
    expect(await reviewItems(dep.id)).toEqual([]);
    // The ordered amount now contradicts what was paid.
    const ordered = await sendSignedCallback(t.app, creditPaid, dep);
    expect(ordered.json()).toEqual(callbackError("payment_status_not_pending"));
    expect((await reviewItems(dep.id)).map((i) => i.reason)).toEqual(["conflict"]);
    expect(await ledgerEntriesOf(t.ctx, dep.id)).toHaveLength(1);
  });

  it("two successes with different amounts at once: one credits, the other is a conflict", async () => {
    const dep = await insertDeposit(t.ctx, creditPaid);
    const answers = await Promise.all([
      sendSignedCallback(t.app, creditPaid, dep, amount("100")),
      sendSignedCallback(t.app, creditPaid, dep, amount("80")),
    ]);
    expect(answers.map((a) => a.statusCode).sort()).toEqual([204, 400]);
    expect(answers.find((a) => a.statusCode === 400)!.json()).toEqual(
      callbackError("payment_status_not_pending"),
    );
    expect((await reviewItems(dep.id)).map((i) => i.reason)).toEqual(["conflict"]);
    expect(await ledgerEntriesOf(t.ctx, dep.id)).toHaveLength(1);
  });

  it("exact: the refused other amount on a succeeded order is kept as a conflict too", async () => {
    const dep = await insertDeposit(t.ctx, exact);
    expect((await sendSignedCallback(t.app, exact, dep)).statusCode).toBe(204);
    const other = await sendSignedCallback(t.app, exact, dep, amount("90"));
    expect(other.json()).toEqual(callbackError("payment_amount_not_allowed"));
    expect((await reviewItems(dep.id)).map((i) => i.reason)).toEqual(["conflict"]);
    expect(await ledgerEntriesOf(t.ctx, dep.id)).toHaveLength(1);
  });
});

describe("the fee of a paid amount", () => {
  // Fixture fee: 2.5 % (rounded half up) + 0.30, at most 20.00.
  const paidCases: [string, string, number][] = [
    ["less than ordered", "50.5", 5_050 - (126 + 30)],
    ["more than ordered", "120", 12_000 - (300 + 30)],
    ["far more: the cap applies", "1000", 100_000 - 2_000],
    ["less than the fee", "0.2", 0],
    ["exactly the order", "100.00", 9_720],
  ];
  for (const [name, paid, credit] of paidCases) {
    it(`credit_paid: the fee is computed on the paid amount (${name})`, async () => {
      const dep = await insertDeposit(t.ctx, creditPaid);
      const balance = await walletBalance(t.ctx, creditPaid.clientId);
      expect((await sendSignedCallback(t.app, creditPaid, dep, amount(paid))).statusCode).toBe(204);
      expect(await depositRow(t.ctx, dep.id)).toMatchObject({
        status: "succeeded",
        amount_minor: 10_000,
        fee_minor: 280,
        credit_minor: credit,
      });
      expect(await walletBalance(t.ctx, creditPaid.clientId)).toBe(balance + BigInt(credit));
    });
  }

  /** An order created through the portal (API-1 answered by a loopback stub), so creation stores its rule. */
  async function createdOrder(policy: "credit_paid" | "review") {
    const stub = await startApi1Stub();
    stubs.push(stub);
    const fx = await insertPaymentSetup(t.ctx, tenant.tenantId, { appUrl: stub.url, amountPolicy: policy });
    stub.token = fx.token;
    const portal = await loginClient(t.app, tenant.slug, fx.clientEmail, fx.clientPassword);
    const res = await portal.inject({
      method: "POST",
      url: "/api/portal/deposits",
      payload: { methodId: fx.methodId, currency: "USD", amount: "100.00" },
    });
    expect(res.statusCode).toBe(201);
    const row = await t.ctx.db
      .selectFrom("deposits")
      .selectAll()
      .where("order_no", "=", res.json().orderNo)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      fee_minor: 280,
      fee_rule_bps: 250,
      fee_rule_fixed_minor: 30,
      fee_rule_max_minor: 2_000,
    });
    const dep: TestDeposit = {
      id: row.id,
      orderNo: row.order_no,
      tenantId: row.tenant_id,
      clientId: row.client_id,
      currency: row.currency,
      decimals: row.decimals,
      amountMinor: 10_000n,
      feeMinor: 280n,
      creditMinor: 9_720n,
    };
    return { fx, dep };
  }

  it("credit_paid: uses the fee rule stored when the order was created, not the method's current one", async () => {
    const { fx, dep } = await createdOrder("credit_paid");
    await raiseFee(fx.methodId);
    expect((await sendSignedCallback(t.app, fx, dep, amount("120"))).statusCode).toBe(204);
    expect((await depositRow(t.ctx, dep.id)).credit_minor).toBe(12_000 - 330);
    expect(await walletBalance(t.ctx, fx.clientId)).toBe(11_670n);
  });

  it("review: the item shows ordered and paid amounts with their fees; crediting it uses the stored rule", async () => {
    const { fx, dep } = await createdOrder("review");
    expect((await sendSignedCallback(t.app, fx, dep, amount("150"))).statusCode).toBe(204);
    await raiseFee(fx.methodId);
    const [stored] = await reviewItems(dep.id);
    const listed = (await tenant.viewer.get("/api/admin/review?reason=amount_mismatch&limit=200")).json();
    const item = listed.items.find((i: { id: string }) => i.id === stored!.id);
    expect(item).toMatchObject({
      deposit: { amount: "100.00", fee: "2.80", credit: "97.20", paidAmount: "150.00" },
      claim: { paidAmount: "150.00", fee: "4.05", credit: "145.95" },
    });
    const res = await tenant.admin.post(`/api/admin/review/${item.id}/resolve`, {
      action: "credit",
      comment: "client paid more",
    });
    expect(res.statusCode).toBe(200);
    expect(await depositRow(t.ctx, dep.id)).toMatchObject({
      status: "succeeded",
      paid_amount_minor: 15_000,
      credit_minor: 14_595,
    });
    expect(await walletBalance(t.ctx, fx.clientId)).toBe(14_595n);
    const audit = await t.ctx.db
      .selectFrom("audit_log")
      .select("after")
      .where("action", "=", "review.resolve")
      .where("target_id", "=", item.id)
      .executeTakeFirstOrThrow();
    expect(JSON.parse(audit.after!)).toMatchObject({
      resolution: "credit",
      amount: "100.00",
      paidAmount: "150.00",
      fee: "4.05",
      credit: "145.95",
    });
  });

  it("review: an item whose stored credit predates the stored rule is credited by the order's rule", async () => {
    const dep = await insertDeposit(t.ctx, review);
    expect((await sendSignedCallback(t.app, review, dep, amount("60"))).statusCode).toBe(204);
    const [stored] = await reviewItems(dep.id);
    // As kept before this change: paid minus the ordered fee.
    const data = { ...JSON.parse(stored!.data), creditMinor: String(6_000 - 280) };
    await t.ctx.db
      .updateTable("review_items")
      .set({ data: JSON.stringify(data) })
      .where("id", "=", stored!.id)
      .execute();
    const res = await tenant.admin.post(`/api/admin/review/${stored!.id}/resolve`, {
      action: "credit",
      comment: "short payment accepted",
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().item.claim).toMatchObject({ paidAmount: "60.00", fee: "1.80", credit: "58.20" });
    expect((await depositRow(t.ctx, dep.id)).credit_minor).toBe(6_000 - 180);
  });
});
