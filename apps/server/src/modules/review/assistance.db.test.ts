import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixedClock } from "../../common/clock.js";
import { newId } from "../../common/ids.js";
import type { DepositsTable } from "../../infra/db/schema.js";
import { insertAssistanceItem } from "../../test/assistance-items.js";
import {
  depositRow,
  insertDeposit,
  ledgerEntriesOf,
  type TestDeposit,
  walletBalance,
} from "../../test/callback-client.js";
import { insertPaymentSetup, type PaymentFixture } from "../../test/payment-fixtures.js";
import { paymentInvariantsAfterEach } from "../../test/payment-invariants.js";
import { createTestApp, type Session, seedTenant, type TestApp } from "../../test/test-app.js";
import type { AssistanceClaim } from "./review-repo.js";

const NOW = 1_800_000_000_000;
let t: TestApp;
let tenant: Awaited<ReturnType<typeof seedTenant>>;
let other: Awaited<ReturnType<typeof seedTenant>>;
let fx: PaymentFixture;

beforeAll(async () => {
  t = await createTestApp({ clock: fixedClock(NOW) });
  tenant = await seedTenant(t, "assist-a");
  other = await seedTenant(t, "assist-b");
  fx = await insertPaymentSetup(t.ctx, tenant.tenantId);
});
afterAll(async () => t?.close());
paymentInvariantsAfterEach(() => t?.ctx);

/** An order the status-query schedule left unresolved, as the schedule flags it. */
async function flagged(
  overrides: Partial<DepositsTable> = {},
  claim: Partial<AssistanceClaim> = {},
): Promise<{ dep: TestDeposit; itemId: string }> {
  const dep = await insertDeposit(t.ctx, fx, { status: "processing", ...overrides });
  const itemId = newId();
  await insertAssistanceItem(t.ctx, {
    id: itemId,
    tenantId: tenant.tenantId,
    depositId: dep.id,
    now: NOW,
    claim: { depositStatus: overrides.status ?? "processing", ...claim },
  });
  return { dep, itemId };
}

const act = (s: Session, id: string, action: string, body: Record<string, unknown> = {}) =>
  s.post(`/api/admin/review/${id}/${action}`, body);
const setLimits = (limits: Record<string, string>, s: Session = tenant.owner) =>
  s.put("/api/admin/settings/four-eyes", { limits });
const itemRow = (id: string) =>
  t.ctx.db.selectFrom("review_items").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
const auditOf = (id: string) =>
  t.ctx.db
    .selectFrom("audit_log")
    .select(["action", "actor_id", "after"])
    .where("target_id", "=", id)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
const reviewEvents = async (depositId: string) =>
  (
    await t.ctx.db
      .selectFrom("deposit_events")
      .select(["kind", "data"])
      .where("deposit_id", "=", depositId)
      .where("kind", "=", "review")
      .execute()
  ).map((e) => JSON.parse(e.data));

describe("needs-assistance items in the queue", () => {
  it("shows why, queries, the last outcome, the four-eyes limit and per-reason counts", async () => {
    await setLimits({ USD: "50" });
    const { dep, itemId } = await flagged(
      {},
      { why: "not_found", queries: 3, lastOutcome: "order_not_found" },
    );
    const res = await tenant.viewer.get("/api/admin/review?reason=needs_assistance&status=open&limit=200");
    expect(res.statusCode).toBe(200);
    const item = res.json().items.find((i: { id: string }) => i.id === itemId);
    expect(item).toMatchObject({
      reason: "needs_assistance",
      claim: null,
      approval: null,
      deposit: { id: dep.id, status: "processing", credit: "97.20" },
      assistance: {
        why: "not_found",
        queries: 3,
        lastOutcome: "order_not_found",
        depositStatus: "processing",
        fourEyesLimit: "50",
        creditNeedsApproval: true,
      },
    });
    expect(res.json().counts).toMatchObject({
      needs_assistance: expect.any(Number),
      late_success: 0,
      conflict: 0,
      amount_mismatch: 0,
    });
    expect(res.json().counts.needs_assistance).toBeGreaterThanOrEqual(1);
    // The callback review's credit does not take a needs-assistance item.
    const viaResolve = await tenant.admin.post(`/api/admin/review/${itemId}/resolve`, {
      action: "credit",
      comment: "x",
    });
    expect(viaResolve.statusCode).toBe(409);
  });
});

describe("needs-assistance actions", () => {
  it("keep waiting: closes the item and starts a new schedule from its first step", async () => {
    const { dep, itemId } = await flagged({ status_query_step: 8, status_query_due_at: null });
    const res = await act(tenant.finance, itemId, "keep-waiting", {});
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      outcome: "resolved",
      item: { status: "resolved", resolution: "keep_waiting" },
    });
    const row = await depositRow(t.ctx, dep.id);
    expect(row?.status_query_step).toBe(0);
    // The default schedule's first delay, 60 s, within its ±5 % jitter.
    expect(Math.abs((row?.status_query_due_at ?? 0) - (NOW + 60_000))).toBeLessThanOrEqual(3_000);
    expect((await auditOf(itemId)).map((a) => a.action)).toEqual(["review.keep_waiting"]);
    expect(await reviewEvents(dep.id)).toEqual([
      { reviewItemId: itemId, reason: "needs_assistance", resolution: "keep_waiting" },
    ]);
    expect((await act(tenant.admin, itemId, "keep-waiting")).statusCode).toBe(409);
  });

  it("keep waiting uses the integration's own schedule", async () => {
    await t.ctx.db
      .updateTable("psp_integrations")
      .set({ status_query_schedule: "[600,60]" })
      .where("id", "=", fx.integrationId)
      .execute();
    try {
      const { dep, itemId } = await flagged();
      expect(
        (await act(tenant.admin, itemId, "keep-waiting", { comment: "PSP says tomorrow" })).statusCode,
      ).toBe(200);
      const row = await depositRow(t.ctx, dep.id);
      expect(Math.abs((row?.status_query_due_at ?? 0) - (NOW + 600_000))).toBeLessThanOrEqual(30_000);
    } finally {
      await t.ctx.db
        .updateTable("psp_integrations")
        .set({ status_query_schedule: null })
        .where("id", "=", fx.integrationId)
        .execute();
    }
  });

  it("mark failed: fails an open order, closes an expired one as it is, refuses a credited one", async () => {
    const open = await flagged();
    expect((await act(tenant.admin, open.itemId, "mark-failed", {})).statusCode).toBe(400);
    const res = await act(tenant.admin, open.itemId, "mark-failed", { comment: "PSP confirmed no payment" });
    expect(res.statusCode).toBe(200);
    expect(res.json().item).toMatchObject({ resolution: "mark_failed", deposit: { status: "failed" } });
    expect(await depositRow(t.ctx, open.dep.id)).toMatchObject({
      status: "failed",
      failure_reason: "needs_assistance_marked_failed",
    });
    const change = await t.ctx.db
      .selectFrom("deposit_events")
      .select("data")
      .where("deposit_id", "=", open.dep.id)
      .where("kind", "=", "status_change")
      .executeTakeFirstOrThrow();
    expect(JSON.parse(change.data)).toEqual({ from: "processing", to: "failed", cause: "review" });
    expect((await auditOf(open.itemId)).map((a) => a.action)).toEqual(["review.mark_failed"]);

    const expired = await flagged({ status: "expired", finalized_at: NOW });
    expect(
      (await act(tenant.admin, expired.itemId, "mark-failed", { comment: "never paid" })).statusCode,
    ).toBe(200);
    expect((await depositRow(t.ctx, expired.dep.id))?.status).toBe("expired");
    expect((await itemRow(expired.itemId)).status).toBe("resolved");

    const paid = await flagged({ status: "succeeded", finalized_at: NOW });
    const refused = await act(tenant.admin, paid.itemId, "mark-failed", { comment: "no" });
    expect(refused.statusCode).toBe(409);
    expect((await itemRow(paid.itemId)).status).toBe("open");
    expect((await depositRow(t.ctx, paid.dep.id))?.status).toBe("succeeded");
    // Credited meanwhile: the item is dismissed, the deposit untouched.
    const dismissed = await tenant.admin.post(`/api/admin/review/${paid.itemId}/resolve`, {
      action: "dismiss",
      comment: "credited by a late callback",
    });
    expect(dismissed.statusCode).toBe(200);
    expect((await depositRow(t.ctx, paid.dep.id))?.status).toBe("succeeded");
  });

  it("credit at or below the limit: one admin credits at once, also an expired order, also paid minus fee", async () => {
    await setLimits({ USD: "1000.00" });
    const { dep, itemId } = await flagged({ status: "expired", finalized_at: NOW });
    const balance = await walletBalance(t.ctx, fx.clientId);
    expect((await act(tenant.admin, itemId, "credit", {})).statusCode).toBe(400);
    const res = await act(tenant.finance, itemId, "credit", { comment: "PSP statement shows it paid" });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      outcome: "resolved",
      ledgerEntryId: expect.any(String),
      item: { status: "resolved", resolution: "credit", deposit: { status: "succeeded" } },
    });
    expect(await walletBalance(t.ctx, fx.clientId)).toBe(balance + 9_720n);
    expect(await ledgerEntriesOf(t.ctx, dep.id)).toHaveLength(1);
    expect((await auditOf(itemId)).map((a) => a.action)).toEqual(["review.credit"]);

    const other150 = await flagged();
    const paid = await act(tenant.admin, other150.itemId, "credit", {
      comment: "paid more",
      paidAmount: "150.00",
    });
    expect(paid.statusCode).toBe(200);
    // The fee of the 150.00 paid by the order's rule: 3.75 + 0.30.
    expect(await depositRow(t.ctx, other150.dep.id)).toMatchObject({
      status: "succeeded",
      credit_minor: 14_595,
      paid_amount_minor: 15_000,
    });
    const precise = await flagged();
    expect(
      (await act(tenant.admin, precise.itemId, "credit", { comment: "x", paidAmount: "1.005" })).statusCode,
    ).toBe(400);
    expect(
      (await act(tenant.admin, precise.itemId, "credit", { comment: "x", paidAmount: "1e2" })).statusCode,
    ).toBe(400);
    await act(tenant.admin, precise.itemId, "mark-failed", { comment: "cleanup" });
  });

  it("four eyes: above the limit the first admin requests, the same cannot approve, a second approves once", async () => {
    await setLimits({ USD: "50" });
    const { dep, itemId } = await flagged();
    const balance = await walletBalance(t.ctx, fx.clientId);
    const asked = await act(tenant.admin, itemId, "credit", { comment: "client sent a bank slip" });
    expect(asked.statusCode).toBe(200);
    expect(asked.json()).toMatchObject({
      outcome: "awaiting_approval",
      ledgerEntryId: null,
      item: {
        status: "open",
        approval: {
          requestedBy: { id: tenant.admin.me.id, name: "admin" },
          requestedAt: NOW,
          comment: "client sent a bank slip",
          credit: "97.20",
          paidAmount: null,
        },
      },
    });
    expect(await ledgerEntriesOf(t.ctx, dep.id)).toHaveLength(0);
    expect((await depositRow(t.ctx, dep.id))?.status).toBe("processing");

    const same = await act(tenant.admin, itemId, "approve", { comment: "me again" });
    expect(same.statusCode).toBe(409);
    expect(same.json().error.code).toBe("four_eyes_same_person");
    expect((await act(tenant.admin, itemId, "decline", { comment: "withdraw" })).statusCode).toBe(409);
    const again = await act(tenant.finance, itemId, "credit", { comment: "second request" });
    expect(again.statusCode).toBe(409);
    expect((await act(tenant.owner, itemId, "approve", {})).statusCode).toBe(400);

    const approved = await act(tenant.owner, itemId, "approve", { comment: "slip checked" });
    expect(approved.statusCode).toBe(200);
    expect(approved.json()).toMatchObject({
      outcome: "resolved",
      ledgerEntryId: expect.any(String),
      item: { status: "resolved", resolution: "credit", deposit: { status: "succeeded" } },
    });
    expect(await ledgerEntriesOf(t.ctx, dep.id)).toHaveLength(1);
    expect(await walletBalance(t.ctx, fx.clientId)).toBe(balance + 9_720n);
    expect((await act(tenant.finance, itemId, "approve", { comment: "late" })).statusCode).toBe(409);

    const audit = await auditOf(itemId);
    expect(audit.map((a) => a.action)).toEqual(["review.credit_requested", "review.credit_approved"]);
    expect(JSON.parse(audit[1]!.after!)).toMatchObject({
      requestedBy: tenant.admin.me.id,
      approvedBy: tenant.owner.me.id,
      credit: "97.20",
      currency: "USD",
    });
    expect(await reviewEvents(dep.id)).toEqual([
      {
        reviewItemId: itemId,
        reason: "needs_assistance",
        resolution: "credit_requested",
        comment: "client sent a bank slip",
        requestedBy: tenant.admin.me.id,
        requestedByName: "admin",
      },
      {
        reviewItemId: itemId,
        reason: "needs_assistance",
        resolution: "credit_approved",
        comment: "slip checked",
        requestedBy: tenant.admin.me.id,
        requestedByName: "admin",
        approvedBy: tenant.owner.me.id,
        approvedByName: "Owner",
      },
    ]);
  });

  it("four eyes: the approver credits the requested paid amount; a currency without a limit always needs two", async () => {
    await setLimits({ EUR: "1000000" });
    const { dep, itemId } = await flagged();
    const asked = await act(tenant.finance, itemId, "credit", { comment: "paid 150", paidAmount: "150.00" });
    expect(asked.json()).toMatchObject({
      outcome: "awaiting_approval",
      item: { approval: { paidAmount: "150.00", credit: "145.95" } },
    });
    expect((await act(tenant.admin, itemId, "approve", { comment: "ok" })).statusCode).toBe(200);
    expect(await depositRow(t.ctx, dep.id)).toMatchObject({
      credit_minor: 14_595,
      paid_amount_minor: 15_000,
    });
  });

  it("four eyes on a quoted order: the credited (account) currency's limit applies, to the account amount", async () => {
    // 100.00 EUR paid into the USD wallet at 1.0781: 97.50 EUR net credits 105.11 USD.
    const quoted: Partial<DepositsTable> = {
      currency: "EUR",
      amount_minor: 10_000,
      fee_minor: 250,
      credit_minor: 10_511,
      fee_rule_bps: 250,
      fee_rule_fixed_minor: 0,
      fee_rule_max_minor: null,
      account_currency: "USD",
      account_decimals: 2,
      fx_rate: "1.0781",
      fx_markup_bps: 0,
      fx_markup_minor: 0,
      fx_source_kind: "manual",
      fx_source_id: "fx-source",
      fx_source_name: "House rates",
      fx_rate_time: NOW,
      fx_quoted_at: NOW,
    };
    // A EUR limit says nothing of a USD credit: USD has none, so a second admin is needed.
    await setLimits({ EUR: "1000000" });
    const first = await flagged(quoted);
    const asked = await act(tenant.admin, first.itemId, "credit", { comment: "bank slip" });
    expect(asked.json()).toMatchObject({
      outcome: "awaiting_approval",
      item: { approval: { credit: "105.11" } },
    });
    await act(tenant.owner, first.itemId, "decline", { comment: "later" });
    await act(tenant.admin, first.itemId, "mark-failed", { comment: "cleanup" });

    // 105.11 USD is above a 100.00 USD limit, and at most a 110.00 one.
    await setLimits({ USD: "100.00" });
    const second = await flagged(quoted);
    expect((await act(tenant.admin, second.itemId, "credit", { comment: "slip" })).json().outcome).toBe(
      "awaiting_approval",
    );
    await act(tenant.owner, second.itemId, "decline", { comment: "later" });
    await setLimits({ USD: "110.00" });
    const usd = await walletBalance(t.ctx, fx.clientId, "USD");
    const credited = await act(tenant.admin, second.itemId, "credit", { comment: "slip checked" });
    expect(credited.json().outcome).toBe("resolved");
    expect(await walletBalance(t.ctx, fx.clientId, "USD")).toBe(usd + 10_511n);
    expect(await walletBalance(t.ctx, fx.clientId, "EUR")).toBe(0n);
  });

  it("four eyes: a second admin declines, the request is cleared, and a new one may be made", async () => {
    await setLimits({ USD: "10" });
    const { dep, itemId } = await flagged();
    await act(tenant.admin, itemId, "credit", { comment: "please" });
    const declined = await act(tenant.owner, itemId, "decline", { comment: "no proof" });
    expect(declined.statusCode).toBe(200);
    expect(declined.json()).toMatchObject({ outcome: "declined", item: { status: "open", approval: null } });
    expect(await itemRow(itemId)).toMatchObject({
      approval_requested_by: null,
      approval_requested_at: null,
      approval_comment: null,
    });
    expect(JSON.parse((await itemRow(itemId)).data)).not.toHaveProperty("creditRequest");
    expect((await act(tenant.owner, itemId, "approve", { comment: "x" })).statusCode).toBe(409);
    expect(await ledgerEntriesOf(t.ctx, dep.id)).toHaveLength(0);
    expect((await act(tenant.owner, itemId, "credit", { comment: "with proof now" })).json().outcome).toBe(
      "awaiting_approval",
    );
    expect((await auditOf(itemId)).map((a) => a.action)).toEqual([
      "review.credit_requested",
      "review.credit_declined",
      "review.credit_requested",
    ]);
    await act(tenant.admin, itemId, "mark-failed", { comment: "cleanup" });
  });

  it("four eyes: concurrent approvals credit once", async () => {
    await setLimits({ USD: "1" });
    for (let round = 0; round < 3; round++) {
      const { dep, itemId } = await flagged();
      await act(tenant.finance, itemId, "credit", { comment: "request" });
      const results = await Promise.all([
        act(tenant.owner, itemId, "approve", { comment: "a" }),
        act(tenant.admin, itemId, "approve", { comment: "b" }),
        act(tenant.owner, itemId, "decline", { comment: "c" }),
      ]);
      const codes = results.map((r) => r.statusCode);
      expect(codes.filter((c) => c === 200).length).toBeGreaterThanOrEqual(1);
      expect(codes.every((c) => c === 200 || c === 409)).toBe(true);
      const entries = await ledgerEntriesOf(t.ctx, dep.id);
      const approvals = results.filter((r) => r.statusCode === 200 && r.json().outcome === "resolved");
      expect(approvals.length).toBeLessThanOrEqual(1);
      expect(entries).toHaveLength(approvals.length);
      if (approvals.length === 0) await act(tenant.admin, itemId, "mark-failed", { comment: "cleanup" });
    }
  });

  it("answers 404 to another tenant, 403 to a viewer, and changes nothing", async () => {
    await setLimits({ USD: "1" });
    const { dep, itemId } = await flagged();
    await act(tenant.admin, itemId, "credit", { comment: "request" });
    for (const action of ["keep-waiting", "mark-failed", "credit", "approve", "decline"]) {
      expect((await act(other.owner, itemId, action, { comment: "x" })).statusCode, action).toBe(404);
      expect((await act(other.admin, itemId, action, { comment: "x" })).statusCode, action).toBe(404);
      expect((await act(tenant.viewer, itemId, action, { comment: "x" })).statusCode, action).toBe(403);
    }
    expect((await act(tenant.admin, "no-such-item", "credit", { comment: "x" })).statusCode).toBe(404);
    // A callback review item is not a needs-assistance item.
    expect(await itemRow(itemId)).toMatchObject({
      status: "open",
      approval_requested_by: tenant.admin.me.id,
    });
    expect((await depositRow(t.ctx, dep.id))?.status).toBe("processing");
    expect((await other.owner.get("/api/admin/review?reason=needs_assistance")).json().items).toEqual([]);
    await act(tenant.owner, itemId, "decline", { comment: "cleanup" });
    await act(tenant.owner, itemId, "mark-failed", { comment: "cleanup" });
  });
});

describe("four-eyes settings", () => {
  it("owner and admin read and replace the limits, audited; finance and viewer are refused", async () => {
    expect((await setLimits({ USD: "500.00", USDT: "1000" }, tenant.admin)).statusCode).toBe(200);
    expect((await tenant.owner.get("/api/admin/settings/four-eyes")).json()).toEqual({
      limits: { USD: "500.00", USDT: "1000" },
    });
    for (const s of [tenant.finance, tenant.viewer]) {
      expect((await s.get("/api/admin/settings/four-eyes")).statusCode).toBe(403);
      expect((await setLimits({ USD: "1" }, s)).statusCode).toBe(403);
    }
    for (const bad of [{ usd: "1" }, { USD: "1e3" }, { USD: "-1" }, { USD: 5 }, { "": "1" }]) {
      expect((await tenant.owner.put("/api/admin/settings/four-eyes", { limits: bad })).statusCode).toBe(400);
    }
    expect((await other.owner.get("/api/admin/settings/four-eyes")).json()).toEqual({ limits: {} });
    expect((await setLimits({})).statusCode).toBe(200);
    const tenantRow = await t.ctx.db
      .selectFrom("tenants")
      .select("four_eyes_limits")
      .where("id", "=", tenant.tenantId)
      .executeTakeFirstOrThrow();
    expect(tenantRow.four_eyes_limits).toBeNull();
    const audit = await t.ctx.db
      .selectFrom("audit_log")
      .select(["after", "before"])
      .where("tenant_id", "=", tenant.tenantId)
      .where("action", "=", "settings.four_eyes")
      .orderBy("created_at")
      .orderBy("id")
      .execute();
    expect(audit.map((a) => JSON.parse(a.after!))).toContainEqual({
      limits: { USD: "500.00", USDT: "1000" },
    });
  });
});
