import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  callbackError,
  depositRow,
  insertDeposit,
  ledgerEntriesOf,
  sendSignedCallback,
  type TestDeposit,
  walletBalance,
} from "../../test/callback-client.js";
import { insertPaymentSetup, type PaymentFixture } from "../../test/payment-fixtures.js";
import { paymentInvariantsAfterEach } from "../../test/payment-invariants.js";
import { createTestApp, seedTenant, type TestApp } from "../../test/test-app.js";

// Idempotency, contradictions, late successes and the amount policies, through app.inject.

let t: TestApp;
let tenant: Awaited<ReturnType<typeof seedTenant>>;
let exact: PaymentFixture;
let creditPaid: PaymentFixture;
let review: PaymentFixture;

beforeAll(async () => {
  t = await createTestApp();
  tenant = await seedTenant(t, "cb-flows");
  exact = await insertPaymentSetup(t.ctx, tenant.tenantId);
  creditPaid = await insertPaymentSetup(t.ctx, tenant.tenantId, { amountPolicy: "credit_paid" });
  review = await insertPaymentSetup(t.ctx, tenant.tenantId, { amountPolicy: "review" });
});
afterAll(async () => t?.close());
paymentInvariantsAfterEach(() => t?.ctx);

const reviewItems = (depositId: string) =>
  t.ctx.db.selectFrom("review_items").selectAll().where("deposit_id", "=", depositId).execute();
const logsOf = (dep: TestDeposit) =>
  t.ctx.db
    .selectFrom("callback_logs")
    .select(["verdict", "error_type", "http_status"])
    .where("order_no", "=", dep.orderNo)
    .orderBy("created_at")
    .execute();
const amount = (literal: string) => ({ amount: { literal } });

describe("idempotency and status order", () => {
  it("answers a repeated success 204 and credits once", async () => {
    const dep = await insertDeposit(t.ctx, exact);
    const balance = await walletBalance(t.ctx, exact.clientId);
    const a = await sendSignedCallback(t.app, exact, dep);
    const b = await sendSignedCallback(t.app, exact, dep);
    expect([a.statusCode, b.statusCode]).toEqual([204, 204]);
    expect(await ledgerEntriesOf(t.ctx, dep.id)).toHaveLength(1);
    expect(await walletBalance(t.ctx, exact.clientId)).toBe(balance + 9_720n);
    expect((await logsOf(dep)).map((l) => l.verdict).sort()).toEqual(["accepted", "duplicate"]);
  });

  it("moves pending → processing → succeeded; a repeated processing is a 204; a stale one after success is refused", async () => {
    const dep = await insertDeposit(t.ctx, exact);
    expect((await sendSignedCallback(t.app, exact, dep, { status: 2 })).statusCode).toBe(204);
    expect((await depositRow(t.ctx, dep.id)).status).toBe("processing");
    expect((await sendSignedCallback(t.app, exact, dep, { status: 2 })).statusCode).toBe(204);
    expect((await sendSignedCallback(t.app, exact, dep, { status: 1 })).statusCode).toBe(204);
    const stale = await sendSignedCallback(t.app, exact, dep, { status: 2 });
    expect(stale.json()).toEqual(callbackError("payment_status_not_allowed"));
    expect((await depositRow(t.ctx, dep.id)).status).toBe("succeeded");
    expect(await reviewItems(dep.id)).toEqual([]);
    expect((await logsOf(dep)).map((l) => [l.verdict, l.error_type])).toEqual([
      ["accepted", null],
      ["duplicate", null],
      ["accepted", null],
      ["rejected", "payment_status_not_allowed"],
    ]);
  });

  it("refuses a failure after a success with payment_status_not_pending, keeps one conflict item, keeps the credit", async () => {
    const dep = await insertDeposit(t.ctx, exact);
    await sendSignedCallback(t.app, exact, dep);
    for (let i = 0; i < 3; i++) {
      const res = await sendSignedCallback(t.app, exact, dep, { status: 0 });
      expect(res.json()).toEqual(callbackError("payment_status_not_pending"));
    }
    expect((await depositRow(t.ctx, dep.id)).status).toBe("succeeded");
    expect(await ledgerEntriesOf(t.ctx, dep.id)).toHaveLength(1);
    const items = await reviewItems(dep.id);
    expect(items.map((i) => [i.reason, i.status])).toEqual([["conflict", "open"]]);
    expect(JSON.parse(items[0]!.data)).toMatchObject({
      status: 0,
      amount: "100",
      depositStatus: "succeeded",
    });
  });

  it("refuses a success after a failure, keeping it as a conflict item; a repeated failure is a 204", async () => {
    const dep = await insertDeposit(t.ctx, exact);
    expect((await sendSignedCallback(t.app, exact, dep, { status: 0 })).statusCode).toBe(204);
    expect((await sendSignedCallback(t.app, exact, dep, { status: 0 })).statusCode).toBe(204);
    const res = await sendSignedCallback(t.app, exact, dep, { status: 1 });
    expect(res.json()).toEqual(callbackError("payment_status_not_pending"));
    const row = await depositRow(t.ctx, dep.id);
    expect(row.status).toBe("failed");
    expect(row.failure_reason).toBe("psp_reported_failure");
    expect(await ledgerEntriesOf(t.ctx, dep.id)).toEqual([]);
    expect((await reviewItems(dep.id)).map((i) => i.reason)).toEqual(["conflict"]);
  });

  for (const closed of ["expired", "cancelled"] as const) {
    it(`keeps a success for a ${closed} order as a late_success item (once), never credits it`, async () => {
      const dep = await insertDeposit(t.ctx, exact, { status: closed, finalized_at: 1 });
      for (let i = 0; i < 3; i++) {
        const res = await sendSignedCallback(t.app, exact, dep);
        expect(res.json()).toEqual(callbackError("payment_status_not_pending"));
      }
      expect((await depositRow(t.ctx, dep.id)).status).toBe(closed);
      expect(await ledgerEntriesOf(t.ctx, dep.id)).toEqual([]);
      const items = await reviewItems(dep.id);
      expect(items.map((i) => [i.reason, i.status])).toEqual([["late_success", "open"]]);
      expect((await logsOf(dep)).every((l) => l.verdict === "review")).toBe(true);
      // A failure for the closed order needs nobody: refused, logged, no item.
      const fail = await sendSignedCallback(t.app, exact, dep, { status: 0 });
      expect(fail.json()).toEqual(callbackError("payment_status_not_pending"));
      expect(await reviewItems(dep.id)).toHaveLength(1);
    });
  }
});

describe("amount policies", () => {
  it("exact: refuses a different amount, keeps a success for review, changes nothing", async () => {
    const dep = await insertDeposit(t.ctx, exact);
    const res = await sendSignedCallback(t.app, exact, dep, amount("120"));
    expect(res.json()).toEqual(callbackError("payment_amount_not_allowed"));
    const again = await sendSignedCallback(t.app, exact, dep, amount("120.00"));
    expect(again.json()).toEqual(callbackError("payment_amount_not_allowed"));
    expect((await depositRow(t.ctx, dep.id)).status).toBe("pending");
    const items = await reviewItems(dep.id);
    expect(items.map((i) => i.reason)).toEqual(["amount_mismatch"]);
    // Fee on the paid 120.00 by the order's rule: 3.00 + 0.30.
    expect(JSON.parse(items[0]!.data)).toMatchObject({ paidMinor: "12000", creditMinor: "11670" });
    // A failure with a wrong amount is refused too (amount is checked before status), but
    // reports no payment: no item.
    const fail = await sendSignedCallback(t.app, exact, dep, { ...amount("1"), status: 0 });
    expect(fail.json()).toEqual(callbackError("payment_amount_not_allowed"));
    expect(await reviewItems(dep.id)).toHaveLength(1);
    // The right amount still goes through.
    expect((await sendSignedCallback(t.app, exact, dep)).statusCode).toBe(204);
    expect((await ledgerEntriesOf(t.ctx, dep.id)).map((e) => e.amount_minor)).toEqual([9_720]);
  });

  // The fee is the order's rule (2.5 % half up + 0.30, at most 20.00) on the amount paid.
  const paidCases: [string, string, number][] = [
    ["more than ordered", "120", 12_000 - 330],
    ["less than ordered", "50.5", 5_050 - 156],
    ["a little more than the fee", "2", 200 - 35],
    ["less than the fee", "0.2", 0],
    ["exactly the order", "100.00", 9_720],
  ];
  for (const [name, paid, credit] of paidCases) {
    it(`credit_paid: credits the paid amount minus its fee (${name})`, async () => {
      const dep = await insertDeposit(t.ctx, creditPaid);
      const balance = await walletBalance(t.ctx, creditPaid.clientId);
      expect((await sendSignedCallback(t.app, creditPaid, dep, amount(paid))).statusCode).toBe(204);
      const row = await depositRow(t.ctx, dep.id);
      expect(row).toMatchObject({
        status: "succeeded",
        amount_minor: 10_000,
        fee_minor: 280,
        credit_minor: credit,
      });
      expect(row.paid_amount_minor).toBe(Math.round(Number(paid) * 100));
      expect(await walletBalance(t.ctx, creditPaid.clientId)).toBe(balance + BigInt(credit));
      // The same amount again is a duplicate; yet another amount is a conflict kept for review;
      // neither changes the credit.
      expect((await sendSignedCallback(t.app, creditPaid, dep, amount(paid))).statusCode).toBe(204);
      const other = await sendSignedCallback(t.app, creditPaid, dep, amount("999"));
      expect(other.json()).toEqual(callbackError("payment_status_not_pending"));
      expect((await reviewItems(dep.id)).map((i) => i.reason)).toEqual(["conflict"]);
      expect(await ledgerEntriesOf(t.ctx, dep.id)).toHaveLength(1);
    });
  }

  it("review: holds a mismatched success in processing with one item, answers 204; the right amount then credits", async () => {
    const dep = await insertDeposit(t.ctx, review);
    for (let i = 0; i < 2; i++) {
      expect((await sendSignedCallback(t.app, review, dep, amount("80"))).statusCode).toBe(204);
    }
    const held = await depositRow(t.ctx, dep.id);
    expect(held.status).toBe("processing");
    expect(held.paid_amount_minor).toBe(8_000);
    expect(await ledgerEntriesOf(t.ctx, dep.id)).toEqual([]);
    expect((await reviewItems(dep.id)).map((i) => i.reason)).toEqual(["amount_mismatch"]);
    expect((await logsOf(dep)).map((l) => [l.verdict, l.http_status])).toEqual([
      ["review", 204],
      ["review", 204],
    ]);
    expect((await sendSignedCallback(t.app, review, dep)).statusCode).toBe(204);
    expect((await ledgerEntriesOf(t.ctx, dep.id)).map((e) => e.amount_minor)).toEqual([9_720]);
    // A mismatched success after the credit contradicts it: kept as a conflict, never credited.
    const after = await sendSignedCallback(t.app, review, dep, amount("80"));
    expect(after.json()).toEqual(callbackError("payment_status_not_pending"));
    expect((await reviewItems(dep.id)).map((i) => i.reason).sort()).toEqual(["amount_mismatch", "conflict"]);
    expect(await ledgerEntriesOf(t.ctx, dep.id)).toHaveLength(1);
  });

  it("review: a mismatched failure or processing applies (no payment to hold); a mismatched late success is kept", async () => {
    const a = await insertDeposit(t.ctx, review);
    expect((await sendSignedCallback(t.app, review, a, { ...amount("0"), status: 2 })).statusCode).toBe(204);
    expect((await sendSignedCallback(t.app, review, a, { ...amount("0"), status: 0 })).statusCode).toBe(204);
    expect((await depositRow(t.ctx, a.id)).status).toBe("failed");
    expect(await reviewItems(a.id)).toEqual([]);
    const b = await insertDeposit(t.ctx, review, { status: "expired", finalized_at: 1 });
    const late = await sendSignedCallback(t.app, review, b, amount("80"));
    expect(late.json()).toEqual(callbackError("payment_status_not_pending"));
    const items = await reviewItems(b.id);
    expect(items.map((i) => i.reason)).toEqual(["late_success"]);
    expect(JSON.parse(items[0]!.data)).toMatchObject({ paidMinor: "8000", creditMinor: "7770" });
  });
});
