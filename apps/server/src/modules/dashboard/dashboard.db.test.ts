import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixedClock } from "../../common/clock.js";
import { newId } from "../../common/ids.js";
import { insertAssistanceItem } from "../../test/assistance-items.js";
import { insertDeposit } from "../../test/callback-client.js";
import { insertPaymentSetup, type PaymentFixture } from "../../test/payment-fixtures.js";
import { createTestApp, seedTenant, type TestApp } from "../../test/test-app.js";
import { openIfClosed } from "../api1-breaker/breaker-repo.js";

const DAY = 86_400_000;
// 14:00 UTC; in UTC+2 (getTimezoneOffset -120) that is 16:00 local.
const T = Date.UTC(2026, 0, 10, 14, 0, 0);
const MIDNIGHT = Date.UTC(2026, 0, 10);

let t: TestApp;
let a: Awaited<ReturnType<typeof seedTenant>>;
let b: Awaited<ReturnType<typeof seedTenant>>;
let fxA: PaymentFixture;
let fxB: PaymentFixture;

beforeAll(async () => {
  t = await createTestApp({ clock: fixedClock(T) });
  a = await seedTenant(t, "dash-a");
  b = await seedTenant(t, "dash-b");
  fxA = await insertPaymentSetup(t.ctx, a.tenantId);
  fxB = await insertPaymentSetup(t.ctx, b.tenantId);
  const dep = (fx: PaymentFixture, at: number, status: string, currency = "USD", amount = 10_000) =>
    insertDeposit(t.ctx, fx, {
      created_at: at,
      status: status as "pending",
      currency,
      decimals: currency === "JPY" ? 0 : 2,
      amount_minor: amount,
    });
  await dep(fxA, T - 60_000, "succeeded", "USD", 12_345);
  await dep(fxA, T - 120_000, "succeeded", "USD", 55);
  await dep(fxA, T - 180_000, "failed", "USD");
  await dep(fxA, T - 3 * DAY, "succeeded", "USD", 100);
  await dep(fxA, T - 40 * DAY, "succeeded", "USD", 999);
  await dep(fxA, T - 60_000, "pending", "JPY", 5_000);
  const open = await dep(fxA, T - 60_000, "processing", "USD", 1);
  await insertAssistanceItem(t.ctx, { id: newId(), tenantId: a.tenantId, depositId: open.id, now: T });
  // Tenant B's orders and queue never show in A's figures.
  await dep(fxB, T - 60_000, "succeeded", "USD", 777_777);
  const bOpen = await dep(fxB, T - 60_000, "processing", "EUR", 1);
  await insertAssistanceItem(t.ctx, { id: newId(), tenantId: b.tenantId, depositId: bOpen.id, now: T });
});
afterAll(async () => t?.close());

describe("GET /api/admin/dashboard", () => {
  it("counts today's deposits per currency and status, volumes as decimal text", async () => {
    const res = await a.viewer.get("/api/admin/dashboard?range=today");
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.currencies.map((c: { currency: string }) => c.currency)).toEqual(["JPY", "USD"]);
    const usd = body.currencies[1];
    expect(usd.byStatus.succeeded).toEqual({ count: 2, volume: "124.00" });
    expect(usd.byStatus.failed).toEqual({ count: 1, volume: "100.00" });
    expect(usd.byStatus.processing).toEqual({ count: 1, volume: "0.01" });
    expect(usd.total).toEqual({ count: 4, volume: "224.01" });
    expect(usd.perDay).toEqual([
      expect.objectContaining({ day: MIDNIGHT, succeeded: 2, failed: 1, processing: 1 }),
    ]);
    expect(body.currencies[0].byStatus.pending).toEqual({ count: 1, volume: "5000" });
    expect(body.review.needsAssistance).toBe(1);
    expect(body.review.byReason).not.toHaveProperty("needs_assistance");
    expect(body.integrations).toEqual([
      expect.objectContaining({
        id: fxA.integrationId,
        breaker: { state: "closed", mode: "on" },
        openAlerts: 0,
        latency: [],
      }),
    ]);
  });

  it("has one point per day over 7 days, and leaves out older orders", async () => {
    const body = (await a.owner.get("/api/admin/dashboard?range=7d")).json();
    const usd = body.currencies.find((c: { currency: string }) => c.currency === "USD");
    expect(usd.perDay).toHaveLength(7);
    expect(usd.perDay[3]).toMatchObject({ day: MIDNIGHT - 3 * DAY, succeeded: 1 });
    expect(usd.byStatus.succeeded.count).toBe(3);
    const month = (await a.owner.get("/api/admin/dashboard?range=30d")).json();
    expect(
      month.currencies.find((c: { currency: string }) => c.currency === "USD").byStatus.succeeded.count,
    ).toBe(3);
  });

  it("shows each tenant only its own figures", async () => {
    const body = (await b.owner.get("/api/admin/dashboard?range=30d")).json();
    expect(body.currencies.map((c: { currency: string }) => c.currency)).toEqual(["EUR", "USD"]);
    expect(body.currencies[1].byStatus.succeeded).toEqual({ count: 1, volume: "7777.77" });
    expect(body.integrations.map((i: { id: string }) => i.id)).toEqual([fxB.integrationId]);
    expect(body.review.needsAssistance).toBe(1);
  });

  it("refuses an unknown range or offset with 400, never 500", async () => {
    for (const q of ["range=1y", "tz=100000", "tz=abc"]) {
      expect((await a.owner.get(`/api/admin/dashboard?${q}`)).statusCode).toBe(400);
    }
  });
});

describe("integration tiles", () => {
  it("show the range's conversion, the breaker, and the API-1 latency per hour from the rollup", async () => {
    const c = await seedTenant(t, "dash-c");
    const fx = await insertPaymentSetup(t.ctx, c.tenantId);
    const minute = (
      at: number,
      latencyBucket: number,
      row: { urls: number; succeeded: number; failed: number },
    ) => {
      const latency = Array.from({ length: 11 }, (_, i) => (i === latencyBucket ? 4 : 0));
      return t.ctx.db
        .insertInto("integration_health_minutes")
        .values({
          integration_id: fx.integrationId,
          minute: at,
          tenant_id: c.tenantId,
          api1_ok: 4,
          api1_failed: 0,
          api1_ok_latency: JSON.stringify(latency),
          api1_failed_latency: "[]",
          urls_issued: row.urls,
          cb_accepted: 0,
          cb_duplicate: 0,
          cb_rejected: 0,
          cb_review: 0,
          status_answers: 0,
          signature_failures: 0,
          amount_mismatches: 0,
          succeeded: row.succeeded,
          failed: row.failed,
          time_to_final: "[]",
        })
        .execute();
    };
    // Two minutes of 10:00 and one of 12:00 today; one of 3 days ago counts over 7 days only.
    await minute(MIDNIGHT + 10 * 3_600_000, 1, { urls: 2, succeeded: 1, failed: 0 });
    await minute(MIDNIGHT + 10 * 3_600_000 + 60_000, 3, { urls: 2, succeeded: 1, failed: 1 });
    await minute(MIDNIGHT + 12 * 3_600_000, 2, { urls: 4, succeeded: 1, failed: 0 });
    await minute(MIDNIGHT - 3 * DAY, 2, { urls: 2, succeeded: 2, failed: 0 });
    await openIfClosed(t.ctx.db, { integrationId: fx.integrationId, tenantId: c.tenantId }, T, "test");

    const today = (await c.viewer.get("/api/admin/dashboard?range=today")).json().integrations[0];
    expect(today).toMatchObject({
      id: fx.integrationId,
      conversion: 3 / 8,
      succeeded: 3,
      failed: 1,
      breaker: { state: "open", mode: "on" },
      // 10:00 merges its two minutes (4 calls at ≤ 50 ms, 4 at ≤ 250 ms: p50 50 ms).
      latency: [
        { at: MIDNIGHT + 10 * 3_600_000, p50: 50 },
        { at: MIDNIGHT + 12 * 3_600_000, p50: 100 },
      ],
    });
    const week = (await c.viewer.get("/api/admin/dashboard?range=7d")).json().integrations[0];
    expect(week).toMatchObject({ conversion: 5 / 10, succeeded: 5 });
    expect(week.latency).toHaveLength(3);
    // Tenant A does not see C's integration.
    const a30 = (await a.owner.get("/api/admin/dashboard?range=30d")).json();
    expect(a30.integrations.map((i: { id: string }) => i.id)).toEqual([fxA.integrationId]);
  });
});
