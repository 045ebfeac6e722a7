import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  depositRow,
  insertDeposit,
  ledgerEntriesOf,
  sendSignedCallback,
  walletBalance,
} from "../../test/callback-client.js";
import { insertPaymentSetup, type PaymentFixture } from "../../test/payment-fixtures.js";
import { paymentInvariantsAfterEach } from "../../test/payment-invariants.js";
import { createTestApp, seedTenant, type TestApp } from "../../test/test-app.js";

let t: TestApp;
let tenant: Awaited<ReturnType<typeof seedTenant>>;
let other: Awaited<ReturnType<typeof seedTenant>>;
let fx: PaymentFixture;

beforeAll(async () => {
  t = await createTestApp();
  tenant = await seedTenant(t, "manual-a");
  other = await seedTenant(t, "manual-b");
  fx = await insertPaymentSetup(t.ctx, tenant.tenantId);
});
afterAll(async () => t?.close());
paymentInvariantsAfterEach(() => t?.ctx);

const approve = (id: string, body: unknown = { comment: "Bank statement checked" }, s = tenant.finance) =>
  s.post(`/api/admin/deposits/${id}/approve`, body);
const reject = (id: string, body: unknown = { comment: "No payment received" }, s = tenant.finance) =>
  s.post(`/api/admin/deposits/${id}/reject`, body);

describe("manual approve / reject", () => {
  for (const from of ["pending", "processing"] as const) {
    it(`approves a ${from} deposit: succeeded, credited once, timeline and audit`, async () => {
      const dep = await insertDeposit(t.ctx, fx, { status: from });
      const balance = await walletBalance(t.ctx, fx.clientId);
      const res = await approve(dep.id);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({
        id: dep.id,
        orderNo: dep.orderNo,
        status: "succeeded",
        ledgerEntryId: expect.any(String),
        currency: "USD",
        amount: "100.00",
        paidAmount: null,
        fee: "2.80",
        credit: "97.20",
      });
      expect(await walletBalance(t.ctx, fx.clientId)).toBe(balance + 9_720n);
      const events = await t.ctx.db
        .selectFrom("deposit_events")
        .select(["kind", "data"])
        .where("deposit_id", "=", dep.id)
        .execute();
      const manual = events.find((e) => e.kind === "manual");
      expect(JSON.parse(manual!.data)).toEqual({
        action: "approve",
        actorId: tenant.finance.me.id,
        comment: "Bank statement checked",
      });
      expect(JSON.parse(events.find((e) => e.kind === "status_change")!.data)).toEqual({
        from,
        to: "succeeded",
        cause: "manual",
      });
      const audit = await t.ctx.db
        .selectFrom("audit_log")
        .selectAll()
        .where("target_id", "=", dep.id)
        .execute();
      expect(audit.map((a) => [a.action, a.actor_id])).toEqual([["deposit.approve", tenant.finance.me.id]]);
      expect(JSON.parse(audit[0]!.before!)).toEqual({ status: from });
    });
  }

  it("answers and audits the figures it decided: ordered and paid amounts, fee, credit", async () => {
    // Held for review: the PSP reported 80.00 paid for the 100.00 order.
    const dep = await insertDeposit(t.ctx, fx, { status: "processing", paid_amount_minor: 8_000 });
    const res = await approve(dep.id);
    expect(res.json()).toMatchObject({
      status: "succeeded",
      currency: "USD",
      amount: "100.00",
      paidAmount: "80.00",
      fee: "2.80",
      credit: "97.20",
    });
    const audit = await t.ctx.db
      .selectFrom("audit_log")
      .select("after")
      .where("target_id", "=", dep.id)
      .executeTakeFirstOrThrow();
    expect(JSON.parse(audit.after!)).toMatchObject({
      status: "succeeded",
      amount: "100.00",
      paidAmount: "80.00",
      fee: "2.80",
      credit: "97.20",
    });
    const rejected = await insertDeposit(t.ctx, fx, { status: "processing" });
    expect((await reject(rejected.id)).json()).toMatchObject({
      status: "failed",
      amount: "100.00",
      paidAmount: null,
      credit: "97.20",
    });
  });

  it("rejects an open deposit: failed, no credit", async () => {
    const dep = await insertDeposit(t.ctx, fx, { status: "processing" });
    const res = await reject(dep.id);
    expect(res.json()).toMatchObject({ status: "failed", ledgerEntryId: null });
    expect(await depositRow(t.ctx, dep.id)).toMatchObject({
      status: "failed",
      failure_reason: "rejected_by_staff",
    });
    expect(await ledgerEntriesOf(t.ctx, dep.id)).toEqual([]);
  });

  for (const status of ["succeeded", "failed", "expired", "cancelled"] as const) {
    it(`answers 409 for a ${status} deposit and changes nothing`, async () => {
      const dep = await insertDeposit(t.ctx, fx, { status, finalized_at: 1 });
      const before = await depositRow(t.ctx, dep.id);
      for (const res of [await approve(dep.id), await reject(dep.id)]) {
        expect(res.statusCode).toBe(409);
        expect(res.json().error.code).toBe("deposit_not_open");
        expect(res.json().error.message).toContain(`already ${status}`);
      }
      expect(await depositRow(t.ctx, dep.id)).toEqual(before);
      const audit = await t.ctx.db
        .selectFrom("audit_log")
        .select("id")
        .where("target_id", "=", dep.id)
        .execute();
      expect(audit).toEqual([]);
    });
  }

  it("approves once when asked twice, and a later success callback is a duplicate (one credit, two paths)", async () => {
    const dep = await insertDeposit(t.ctx, fx);
    const credits = async () => (await t.ctx.metrics.credits.get()).values[0]?.value ?? 0;
    const before = await credits();
    expect((await approve(dep.id)).statusCode).toBe(200);
    expect((await approve(dep.id)).statusCode).toBe(409);
    expect((await sendSignedCallback(t.app, fx, dep)).statusCode).toBe(204);
    expect(await ledgerEntriesOf(t.ctx, dep.id)).toHaveLength(1);
    // psphub_credits_total counts the one credit, not the repeat or the duplicate.
    expect(await credits()).toBe(before + 1);
  });

  it("credits once when the callback and the approval race", async () => {
    const dep = await insertDeposit(t.ctx, fx);
    const [cb, ok] = await Promise.all([sendSignedCallback(t.app, fx, dep), approve(dep.id)]);
    expect(cb.statusCode).toBe(204);
    expect([200, 409]).toContain(ok.statusCode);
    expect(await ledgerEntriesOf(t.ctx, dep.id)).toHaveLength(1);
  });

  it("requires a comment, the resolve permission and the deposit's tenant", async () => {
    const dep = await insertDeposit(t.ctx, fx);
    expect((await approve(dep.id, {})).statusCode).toBe(400);
    expect((await approve(dep.id, { comment: "" })).statusCode).toBe(400);
    expect((await reject(dep.id, { comment: "x".repeat(501) })).statusCode).toBe(400);
    expect((await approve(dep.id, undefined, tenant.viewer)).statusCode).toBe(403);
    expect((await approve(dep.id, undefined, other.owner)).statusCode).toBe(404);
    expect((await reject("no-such-deposit")).statusCode).toBe(404);
    expect((await depositRow(t.ctx, dep.id)).status).toBe("pending");
  });
});
