import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
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

let t: TestApp;
let tenant: Awaited<ReturnType<typeof seedTenant>>;
let other: Awaited<ReturnType<typeof seedTenant>>;
let fx: PaymentFixture;
let otherFx: PaymentFixture;

beforeAll(async () => {
  t = await createTestApp();
  tenant = await seedTenant(t, "review-a");
  other = await seedTenant(t, "review-b");
  fx = await insertPaymentSetup(t.ctx, tenant.tenantId);
  otherFx = await insertPaymentSetup(t.ctx, other.tenantId);
});
afterAll(async () => t?.close());
paymentInvariantsAfterEach(() => t?.ctx);

/** A late success kept for review: the order expired, then the PSP reported the payment. */
async function lateSuccess(f = fx, overrides = {}): Promise<{ dep: TestDeposit; itemId: string }> {
  const dep = await insertDeposit(t.ctx, f, { status: "expired", finalized_at: 1 });
  const res = await sendSignedCallback(t.app, f, dep, overrides);
  expect(res.json().type).toBe("payment_status_not_pending");
  const item = await t.ctx.db
    .selectFrom("review_items")
    .select("id")
    .where("deposit_id", "=", dep.id)
    .executeTakeFirstOrThrow();
  return { dep, itemId: item.id };
}

const resolve = (s = tenant.admin, id: string, body: Record<string, unknown>) =>
  s.post(`/api/admin/review/${id}/resolve`, body);

describe("review queue", () => {
  it("lists items with the order, the client, amounts as decimal text and the callback's claim", async () => {
    const { dep, itemId } = await lateSuccess(fx, { transaction_id: "psp-77", time: 1_700_000_000_000 });
    const res = await tenant.viewer.get("/api/admin/review?status=open&reason=late_success");
    expect(res.statusCode).toBe(200);
    const item = res.json().items.find((i: { id: string }) => i.id === itemId);
    expect(item).toMatchObject({
      reason: "late_success",
      status: "open",
      resolution: null,
      deposit: {
        id: dep.id,
        orderNo: dep.orderNo,
        status: "expired",
        currency: "USD",
        amount: "100.00",
        fee: "2.80",
        credit: "97.20",
        paidAmount: null,
        integrationId: fx.integrationId,
      },
      client: { id: fx.clientId, email: fx.clientEmail },
      claim: {
        status: 1,
        amount: "100",
        paidAmount: "100.00",
        fee: "2.80",
        credit: "97.20",
        transactionId: "psp-77",
        time: 1_700_000_000_000,
      },
    });
    expect(item.callbackLogId).toEqual(expect.any(String));
    expect(res.json().total).toBeGreaterThanOrEqual(1);
  });

  it("filters by status and reason, pages, and shows one tenant only its own items", async () => {
    await lateSuccess();
    await lateSuccess(otherFx);
    const mine = (await tenant.admin.get("/api/admin/review?limit=200")).json();
    const theirs = (await other.admin.get("/api/admin/review?limit=200")).json();
    const depositIds = async (tenantId: string) =>
      (await t.ctx.db.selectFrom("deposits").select("id").where("tenant_id", "=", tenantId).execute()).map(
        (d) => d.id,
      );
    const myDeposits = await depositIds(tenant.tenantId);
    expect(mine.items.every((i: { deposit: { id: string } }) => myDeposits.includes(i.deposit.id))).toBe(
      true,
    );
    expect(theirs.items).toHaveLength(1);
    expect((await tenant.admin.get("/api/admin/review?reason=conflict")).json().items).toEqual([]);
    expect((await tenant.admin.get("/api/admin/review?status=resolved")).json().items).toEqual([]);
    const page = (await tenant.admin.get("/api/admin/review?limit=1&offset=1")).json();
    expect(page.items).toHaveLength(1);
    expect(page.total).toBe(mine.total);
    expect((await tenant.admin.get("/api/admin/review?reason=bogus")).statusCode).toBe(400);
  });

  it("credits a late success exactly once; resolving again answers 409", async () => {
    const { dep, itemId } = await lateSuccess();
    const balance = await walletBalance(t.ctx, fx.clientId);
    const res = await resolve(tenant.finance, itemId, {
      action: "credit",
      comment: "Paid after expiry, confirmed with PSP",
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().ledgerEntryId).toEqual(expect.any(String));
    expect(res.json().item).toMatchObject({
      status: "resolved",
      resolution: "credit",
      deposit: { status: "succeeded" },
    });
    expect(await walletBalance(t.ctx, fx.clientId)).toBe(balance + 9_720n);
    const row = await depositRow(t.ctx, dep.id);
    expect(row).toMatchObject({
      status: "succeeded",
      paid_amount_minor: 10_000,
      transaction_id: `tx-${dep.orderNo}`,
    });

    const again = await resolve(tenant.finance, itemId, { action: "credit", comment: "again" });
    expect(again.statusCode).toBe(409);
    expect(await ledgerEntriesOf(t.ctx, dep.id)).toHaveLength(1);
    // The PSP retrying the late callback now finds the order succeeded: a duplicate.
    expect((await sendSignedCallback(t.app, fx, dep)).statusCode).toBe(204);
    expect(await ledgerEntriesOf(t.ctx, dep.id)).toHaveLength(1);

    const audit = await t.ctx.db
      .selectFrom("audit_log")
      .selectAll()
      .where("action", "=", "review.resolve")
      .where("target_id", "=", itemId)
      .execute();
    expect(audit).toHaveLength(1);
    const events = await t.ctx.db
      .selectFrom("deposit_events")
      .select(["kind", "data"])
      .where("deposit_id", "=", dep.id)
      .execute();
    expect(events.map((e) => e.kind)).toEqual(expect.arrayContaining(["review", "status_change", "ledger"]));
    const change = events.find((e) => e.kind === "status_change")!;
    expect(JSON.parse(change.data)).toEqual({ from: "expired", to: "succeeded", cause: "review" });
  });

  it("lets one of two concurrent resolutions win", async () => {
    const { dep, itemId } = await lateSuccess();
    const results = await Promise.all([
      resolve(tenant.admin, itemId, { action: "credit", comment: "a" }),
      resolve(tenant.finance, itemId, { action: "credit", comment: "b" }),
      resolve(tenant.owner, itemId, { action: "dismiss", comment: "c" }),
    ]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 409, 409]);
    expect((await ledgerEntriesOf(t.ctx, dep.id)).length).toBeLessThanOrEqual(1);
  });

  it("dismisses without touching the deposit", async () => {
    const { dep, itemId } = await lateSuccess();
    const before = await depositRow(t.ctx, dep.id);
    const res = await resolve(tenant.admin, itemId, { action: "dismiss", comment: "Refunded by the PSP" });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      ledgerEntryId: null,
      item: { status: "resolved", resolution: "dismiss", comment: "Refunded by the PSP" },
    });
    expect(await depositRow(t.ctx, dep.id)).toEqual(before);
    expect((await resolve(tenant.admin, itemId, { action: "dismiss", comment: "x" })).statusCode).toBe(409);
  });

  it("refuses to credit a claimed failure or an already credited deposit, leaving the item open for a dismissal", async () => {
    // success, then a contradicting failure: the conflict item claims status 0.
    const dep = await insertDeposit(t.ctx, fx);
    await sendSignedCallback(t.app, fx, dep);
    await sendSignedCallback(t.app, fx, dep, { status: 0 });
    const conflict = await t.ctx.db
      .selectFrom("review_items")
      .selectAll()
      .where("deposit_id", "=", dep.id)
      .executeTakeFirstOrThrow();
    const res = await resolve(tenant.admin, conflict.id, { action: "credit", comment: "try" });
    expect(res.statusCode).toBe(409);
    // An amount mismatch later settled by a correct callback: crediting it would be a second credit.
    const dep2 = await insertDeposit(t.ctx, fx);
    await sendSignedCallback(t.app, fx, dep2, { amount: { literal: "90" } });
    await sendSignedCallback(t.app, fx, dep2);
    const mismatch = await t.ctx.db
      .selectFrom("review_items")
      .selectAll()
      .where("deposit_id", "=", dep2.id)
      .executeTakeFirstOrThrow();
    const res2 = await resolve(tenant.admin, mismatch.id, { action: "credit", comment: "try" });
    expect(res2.statusCode).toBe(409);
    expect(await ledgerEntriesOf(t.ctx, dep2.id)).toHaveLength(1);
    for (const id of [conflict.id, mismatch.id]) {
      const row = await t.ctx.db
        .selectFrom("review_items")
        .select("status")
        .where("id", "=", id)
        .executeTakeFirstOrThrow();
      expect(row.status).toBe("open");
      expect((await resolve(tenant.admin, id, { action: "dismiss", comment: "ok" })).statusCode).toBe(200);
    }
  });

  it("credits a success that contradicted a recorded failure, and a mismatched amount as paid minus fee", async () => {
    const dep = await insertDeposit(t.ctx, fx, {
      failure_reason: "result_false: card declined",
      failure_message: "card declined",
    });
    await sendSignedCallback(t.app, fx, dep, { status: 0 });
    await sendSignedCallback(t.app, fx, dep, { status: 1 });
    const item = await t.ctx.db
      .selectFrom("review_items")
      .selectAll()
      .where("deposit_id", "=", dep.id)
      .executeTakeFirstOrThrow();
    expect(
      (await resolve(tenant.admin, item.id, { action: "credit", comment: "PSP confirmed" })).statusCode,
    ).toBe(200);
    // The success ends the earlier failure: the order no longer shows it (the timeline keeps it).
    expect(await depositRow(t.ctx, dep.id)).toMatchObject({
      status: "succeeded",
      failure_reason: null,
      failure_message: null,
    });

    const dep2 = await insertDeposit(t.ctx, fx);
    await sendSignedCallback(t.app, fx, dep2, { amount: { literal: "150" } });
    const item2 = await t.ctx.db
      .selectFrom("review_items")
      .selectAll()
      .where("deposit_id", "=", dep2.id)
      .executeTakeFirstOrThrow();
    expect(
      (await resolve(tenant.admin, item2.id, { action: "credit", comment: "client paid more" })).statusCode,
    ).toBe(200);
    expect(await depositRow(t.ctx, dep2.id)).toMatchObject({
      status: "succeeded",
      // The fee of the 150.00 paid by the order's rule: 3.75 + 0.30.
      credit_minor: 14_595,
      paid_amount_minor: 15_000,
    });
  });

  it("checks input, permissions and tenant", async () => {
    const { itemId } = await lateSuccess();
    expect((await resolve(tenant.admin, itemId, { action: "credit" })).statusCode).toBe(400);
    expect((await resolve(tenant.admin, itemId, { action: "credit", comment: "   " })).statusCode).toBe(400);
    expect(
      (await resolve(tenant.admin, itemId, { action: "credit", comment: "x".repeat(501) })).statusCode,
    ).toBe(400);
    expect((await resolve(tenant.admin, itemId, { action: "refund", comment: "x" })).statusCode).toBe(400);
    expect((await resolve(tenant.viewer, itemId, { action: "dismiss", comment: "x" })).statusCode).toBe(403);
    expect((await resolve(other.owner, itemId, { action: "dismiss", comment: "x" })).statusCode).toBe(404);
    expect(
      (await resolve(tenant.admin, "no-such-item", { action: "dismiss", comment: "x" })).statusCode,
    ).toBe(404);
    expect((await t.app.inject({ method: "GET", url: "/api/admin/review" })).statusCode).toBe(401);
    const row = await t.ctx.db
      .selectFrom("review_items")
      .select("status")
      .where("id", "=", itemId)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe("open");
  });
});

describe("callback log per integration", () => {
  it("lists an integration's callbacks with filters, tenant-scoped", async () => {
    const dep = await insertDeposit(t.ctx, fx);
    await sendSignedCallback(t.app, fx, dep);
    await sendSignedCallback(t.app, fx, dep);
    await sendSignedCallback(t.app, fx, dep, { currency: "EUR" });
    const url = `/api/admin/integrations/${fx.integrationId}/callbacks`;
    const all = (await tenant.viewer.get(`${url}?limit=200`)).json();
    const mine = all.items.filter((l: { orderNo: string }) => l.orderNo === dep.orderNo);
    expect(mine).toHaveLength(3);
    expect(mine[0]).toMatchObject({
      merchantId: fx.merchantId,
      depositId: dep.id,
      contentType: "application/json",
      remoteAddr: "127.0.0.1",
    });
    expect(mine.every((l: { rawBody: string }) => l.rawBody.includes(dep.orderNo))).toBe(true);
    const dup = (await tenant.viewer.get(`${url}?verdict=duplicate&limit=200`)).json();
    expect(dup.items.every((l: { verdict: string }) => l.verdict === "duplicate")).toBe(true);
    expect(dup.items.some((l: { orderNo: string }) => l.orderNo === dep.orderNo)).toBe(true);
    const cur = (await tenant.viewer.get(`${url}?errorType=payment_currency_not_allowed`)).json();
    expect(cur.items.map((l: { orderNo: string }) => l.orderNo)).toEqual([dep.orderNo]);
    expect(cur.total).toBe(1);
    expect(JSON.stringify(all)).not.toContain(fx.token);
    expect((await other.owner.get(url)).statusCode).toBe(404);
    expect(
      (await tenant.viewer.get(`/api/admin/integrations/${otherFx.integrationId}/callbacks`)).statusCode,
    ).toBe(404);
    expect((await tenant.viewer.get(`${url}?verdict=nope`)).statusCode).toBe(400);
  });
});
