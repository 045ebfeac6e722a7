import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAppContext } from "../../app-context.js";
import { fixedClock } from "../../common/clock.js";
import { newId, newOrderNo } from "../../common/ids.js";
import type { CallbackLogsTable } from "../../infra/db/schema.js";
import { BACKGROUND_JOBS } from "../../main.js";
import { insertDeposit } from "../../test/callback-client.js";
import { insertPaymentSetup, type PaymentFixture } from "../../test/payment-fixtures.js";
import { createTestApp, seedTenant, type TestApp } from "../../test/test-app.js";
import { testDbKind } from "../../test/test-database.js";
import { seedWebhookEndpoint, storedWebhookEvents } from "../../test/webhook-fixtures.js";
import { rollUpHealth } from "./health-rollup.js";
import { integrationHealthJob, runDetectors } from "./run-detectors.js";

const MIN = 60_000;
const DAY = 24 * 60 * MIN;
const T = Date.UTC(2026, 0, 10, 14, 0, 30);
const clock = fixedClock(T);

let t: TestApp;
let tenant: Awaited<ReturnType<typeof seedTenant>>;
let other: Awaited<ReturnType<typeof seedTenant>>;

beforeAll(async () => {
  // The clock moves days ahead between tests: sessions last the longest allowed.
  t = await createTestApp({ clock, env: { SESSION_TTL_MINUTES: String(60 * 24 * 30) } });
  tenant = await seedTenant(t, "health-a");
  other = await seedTenant(t, "health-b");
});
afterAll(async () => t?.close());

/** An order and its API-1 call event at `at`. */
async function api1Call(fx: PaymentFixture, at: number, outcome: "ok" | "failed", latencyMs: number) {
  const dep = await insertDeposit(t.ctx, fx, {
    created_at: at,
    expires_at: at + DAY,
    payment_url: outcome === "ok" ? "https://psp.example.com/pay/x" : null,
  });
  await t.ctx.db
    .insertInto("deposit_events")
    .values({
      id: newId(),
      tenant_id: fx.tenantId,
      deposit_id: dep.id,
      kind: "api1_call",
      data: JSON.stringify({
        url: "https://psp.example.com/api1",
        request: {},
        httpStatus: outcome === "ok" ? 200 : 502,
        response: null,
        latencyMs,
        outcome,
        ...(outcome === "ok" ? { paymentUrl: "https://psp.example.com/pay/x" } : { reason: "http_502" }),
      }),
      created_at: at,
    })
    .execute();
  return dep;
}

async function callbackLog(
  fx: PaymentFixture,
  at: number,
  row: Partial<CallbackLogsTable> = {},
  count = 1,
): Promise<void> {
  for (let i = 0; i < count; i++) {
    await t.ctx.db
      .insertInto("callback_logs")
      .values({
        id: newId(),
        tenant_id: fx.tenantId,
        integration_id: fx.integrationId,
        deposit_id: null,
        merchant_id: fx.merchantId,
        order_no: newOrderNo(),
        content_type: "application/json",
        raw_body: "{}",
        verdict: "accepted",
        error_type: null,
        http_status: 200,
        remote_addr: "127.0.0.1",
        created_at: at,
        ...row,
      })
      .execute();
  }
}

async function amountMismatchItem(fx: PaymentFixture, at: number) {
  const dep = await insertDeposit(t.ctx, fx, { status: "processing", expires_at: at + DAY });
  await t.ctx.db
    .insertInto("review_items")
    .values({
      id: newId(),
      tenant_id: fx.tenantId,
      deposit_id: dep.id,
      callback_log_id: null,
      reason: "amount_mismatch",
      dedupe_key: `${dep.id}:amount_mismatch`,
      status: "open",
      resolution: null,
      resolved_by: null,
      comment: null,
      data: "{}",
      created_at: at,
      resolved_at: null,
      approval_requested_by: null,
      approval_requested_at: null,
      approval_comment: null,
    })
    .execute();
}

const openAlerts = async (fx: PaymentFixture) =>
  t.ctx.db
    .selectFrom("alerts")
    .select(["kind", "status"])
    .where("integration_id", "=", fx.integrationId)
    .where("status", "=", "open")
    .execute();

describe("integration health figures", () => {
  it("derives every window's figures from the stored rows, the same on a second run", async () => {
    clock.set(T);
    const fx = await insertPaymentSetup(t.ctx, tenant.tenantId);
    // Last 5 minutes: three calls answered, one failed.
    await api1Call(fx, T - MIN, "ok", 40);
    await api1Call(fx, T - MIN, "ok", 40);
    await api1Call(fx, T - MIN, "ok", 800);
    await api1Call(fx, T - 2 * MIN, "failed", 9_000);
    // The last hour, and the last day only.
    await api1Call(fx, T - 30 * MIN, "ok", 40);
    await api1Call(fx, T - 30 * MIN, "ok", 40);
    await api1Call(fx, T - 2 * 60 * MIN, "ok", 40);
    await callbackLog(fx, T - 30_000, {}, 2);
    await callbackLog(fx, T - 30_000, { verdict: "duplicate" });
    await callbackLog(fx, T - 30_000, {
      verdict: "rejected",
      error_type: "psp_token_invalid",
      http_status: 401,
    });
    await callbackLog(fx, T - 30_000, { verdict: "rejected", error_type: "payment_amount_not_allowed" });
    await callbackLog(fx, T - 30_000, { verdict: "review", error_type: "payment_status_not_pending" });
    await callbackLog(fx, T - 30_000, { source: "status_query" });
    await amountMismatchItem(fx, T - 30_000);
    // Final statuses: 9 minutes and 1 minute after the order; expiry and an API-1 failure do not count.
    await insertDeposit(t.ctx, fx, { status: "succeeded", created_at: T - 10 * MIN, finalized_at: T - MIN });
    await insertDeposit(t.ctx, fx, { status: "failed", created_at: T - 3 * MIN, finalized_at: T - 2 * MIN });
    await insertDeposit(t.ctx, fx, { status: "expired", created_at: T - 40 * MIN, finalized_at: T - MIN });
    await insertDeposit(t.ctx, fx, {
      status: "failed",
      payment_url: null,
      created_at: T - MIN,
      finalized_at: T - MIN,
    });
    // Pending past its TTL.
    await insertDeposit(t.ctx, fx, { created_at: T - 60 * MIN, expires_at: T - 1_000 });

    await rollUpHealth(t.ctx);
    const first = await tenant.viewer.get(`/api/admin/integrations/${fx.integrationId}/health`);
    expect(first.statusCode).toBe(200);
    const h = first.json();
    expect(h.pendingBeyondTtl).toBe(1);
    expect(h.windows["5m"]).toEqual({
      api1: {
        calls: 4,
        ok: 3,
        failed: 1,
        successRate: 0.75,
        latencyMs: {
          ok: { p50: 50, p95: 1_000, p99: 1_000 },
          failed: { p50: 10_000, p95: 10_000, p99: 10_000 },
        },
      },
      callbacks: { accepted: 2, duplicate: 1, rejected: 2, review: 1, statusQueryAnswers: 1 },
      paymentUrlsIssued: 3,
      succeeded: 1,
      failed: 1,
      conversion: 1 / 3,
      timeToFinalMs: { p50: 60_000, p95: 600_000 },
      signatureFailures: 1,
      amountMismatches: 2,
    });
    expect(h.windows["1h"].api1).toMatchObject({ calls: 6, ok: 5 });
    expect(h.windows["1h"].paymentUrlsIssued).toBe(5);
    expect(h.windows["24h"].api1).toMatchObject({ calls: 7, ok: 6 });

    // Idempotent: a second run (another process, or the next tick) changes nothing.
    clock.advance(10_000);
    await rollUpHealth(t.ctx);
    const second = (await tenant.viewer.get(`/api/admin/integrations/${fx.integrationId}/health`)).json();
    expect(second.windows).toEqual(h.windows);

    const all = (await tenant.viewer.get("/api/admin/health")).json();
    const mine = all.integrations.find((i: { id: string }) => i.id === fx.integrationId);
    expect(mine).toMatchObject({
      enabled: true,
      pendingBeyondTtl: 1,
      lastCallbackAt: T - 30_000,
      openAlerts: 0,
    });
    expect(mine.windows["5m"].api1.calls).toBe(4);
  });

  it("the health job is a background job", () => {
    expect(BACKGROUND_JOBS).toContain(integrationHealthJob);
  });
});

describe("detectors, with a fake clock", () => {
  it("callback silence opens when URLs go out without callbacks at an hour that usually has them, and resolves", async () => {
    await seedWebhookEndpoint(t.ctx, tenant.tenantId, { url: "https://hooks.example.com/psphub" });
    const fx = await insertPaymentSetup(t.ctx, tenant.tenantId);
    const now = T + 8 * DAY;
    // The same hour on each of the last 7 days: callbacks (the job rolls each day up as it happens).
    for (let d = 7; d >= 1; d--) {
      clock.set(now - d * DAY);
      await callbackLog(fx, now - d * DAY - 5 * MIN, {}, 6);
      await integrationHealthJob(t.ctx);
    }
    clock.set(now);
    for (let i = 0; i < 4; i++) await api1Call(fx, now - (10 - i) * MIN, "ok", 40);
    await integrationHealthJob(t.ctx);
    expect(await openAlerts(fx)).toEqual([{ kind: "callback_silence", status: "open" }]);
    const listed = (await tenant.viewer.get("/api/admin/alerts?status=open")).json();
    const alert = listed.items.find((a: { integrationId: string }) => a.integrationId === fx.integrationId);
    expect(alert.data).toMatchObject({ urlsIssued: 4, callbacks: 0, usualCallbacksThisHour: 6 });
    expect(alert.subject).toEqual({ kind: "integration", id: fx.integrationId, name: expect.any(String) });

    // A callback arrives: resolved.
    clock.advance(MIN);
    await callbackLog(fx, clock.now());
    await integrationHealthJob(t.ctx);
    expect(await openAlerts(fx)).toEqual([]);
    // Each change wrote its webhook event in its own transaction (the outbox).
    const events = await storedWebhookEvents(t.ctx, tenant.tenantId);
    const mine = events.filter((e) => (e.data.subject as { id: string }).id === fx.integrationId);
    expect(mine.map((e) => [e.type, e.data.kind, e.data.status])).toEqual([
      ["alert.opened", "callback_silence", "open"],
      ["alert.resolved", "callback_silence", "resolved"],
    ]);
  });

  it("silence at an hour that is usually quiet opens nothing", async () => {
    const fx = await insertPaymentSetup(t.ctx, tenant.tenantId);
    const now = T + 9 * DAY;
    clock.set(now);
    for (let i = 0; i < 4; i++) await api1Call(fx, now - (10 - i) * MIN, "ok", 40);
    await integrationHealthJob(t.ctx);
    expect(await openAlerts(fx)).toEqual([]);
  });

  it("API-1 failing opens at the failure rate over enough calls, and resolves when the window moves on", async () => {
    const fx = await insertPaymentSetup(t.ctx, tenant.tenantId);
    const now = T + 10 * DAY;
    clock.set(now);
    for (let i = 0; i < 6; i++) await api1Call(fx, now - MIN, "failed", 10_000);
    for (let i = 0; i < 4; i++) await api1Call(fx, now - MIN, "ok", 100);
    await integrationHealthJob(t.ctx);
    expect(await openAlerts(fx)).toEqual([{ kind: "api1_failing", status: "open" }]);
    clock.advance(6 * MIN);
    await integrationHealthJob(t.ctx);
    expect(await openAlerts(fx)).toEqual([]);
  });

  it("signature failures and amount mismatches spiking open their alerts", async () => {
    const fx = await insertPaymentSetup(t.ctx, tenant.tenantId);
    const now = T + 11 * DAY;
    clock.set(now);
    await callbackLog(
      fx,
      now - MIN,
      { verdict: "rejected", error_type: "psp_token_invalid", http_status: 401 },
      5,
    );
    for (let i = 0; i < 3; i++) await amountMismatchItem(fx, now - MIN);
    await callbackLog(fx, now - MIN, { verdict: "rejected", error_type: "payment_amount_not_allowed" }, 2);
    await integrationHealthJob(t.ctx);
    const open = (await openAlerts(fx)).map((a) => a.kind).sort();
    expect(open).toEqual(["amount_mismatches", "signature_failures"]);
    clock.advance(6 * MIN);
    await integrationHealthJob(t.ctx);
    expect(await openAlerts(fx)).toEqual([]);
  });

  it("two processes running the detectors at once open one alert", async () => {
    const fx = await insertPaymentSetup(t.ctx, tenant.tenantId);
    const now = T + 12 * DAY;
    clock.set(now);
    await callbackLog(
      fx,
      now - MIN,
      { verdict: "rejected", error_type: "psp_token_invalid", http_status: 401 },
      6,
    );
    await rollUpHealth(t.ctx);
    await seedWebhookEndpoint(t.ctx, tenant.tenantId, { url: "https://hooks.example.com/two" });
    // A second process is PostgreSQL's case: SQLite is one process, whose one writer a second
    // context in this process would wait for while holding the event loop (better-sqlite3 is
    // synchronous); there, concurrent runs in one process.
    const pg = testDbKind() === "postgres";
    const ctx2 = pg ? createAppContext(t.ctx.config, { clock, logger: t.ctx.logger }) : t.ctx;
    try {
      const results = await Promise.all([runDetectors(t.ctx), runDetectors(ctx2), runDetectors(t.ctx)]);
      expect(results.reduce((n, r) => n + r.opened, 0)).toBe(1);
    } finally {
      if (pg) await ctx2.close();
    }
    const rows = await t.ctx.db
      .selectFrom("alerts")
      .selectAll()
      .where("integration_id", "=", fx.integrationId)
      .execute();
    expect(rows).toHaveLength(1);
    // …and one alert.opened webhook event, written by the one insert that opened it.
    const opened = (await storedWebhookEvents(t.ctx, tenant.tenantId)).filter(
      (e) => e.type === "alert.opened" && (e.data.subject as { id: string }).id === fx.integrationId,
    );
    expect(opened).toHaveLength(1);
  });
});

describe("alerts API", () => {
  it("acknowledges once, audited; another tenant sees and touches none of it", async () => {
    const fx = await insertPaymentSetup(t.ctx, tenant.tenantId);
    const now = T + 13 * DAY;
    clock.set(now);
    await callbackLog(
      fx,
      now - MIN,
      { verdict: "rejected", error_type: "psp_token_invalid", http_status: 401 },
      5,
    );
    await integrationHealthJob(t.ctx);
    const open = (
      await tenant.viewer.get(`/api/admin/alerts?status=open&integrationId=${fx.integrationId}`)
    ).json();
    expect(open.total).toBe(1);
    const id = open.items[0].id;

    // Isolation: the other tenant gets 404s and empty lists.
    expect((await other.admin.post(`/api/admin/alerts/${id}/acknowledge`)).statusCode).toBe(404);
    expect((await other.viewer.get(`/api/admin/integrations/${fx.integrationId}/health`)).statusCode).toBe(
      404,
    );
    const theirs = (await other.viewer.get("/api/admin/alerts")).json();
    expect(theirs.items).toEqual([]);
    const theirHealth = (await other.viewer.get("/api/admin/health")).json();
    expect(theirHealth.integrations.map((i: { id: string }) => i.id)).not.toContain(fx.integrationId);
    expect(await storedWebhookEvents(t.ctx, other.tenantId)).toEqual([]);

    // A viewer may not acknowledge; an admin may, once.
    expect((await tenant.viewer.post(`/api/admin/alerts/${id}/acknowledge`)).statusCode).toBe(403);
    const ack = await tenant.admin.post(`/api/admin/alerts/${id}/acknowledge`);
    expect(ack.statusCode).toBe(200);
    expect(ack.json().alert).toMatchObject({
      status: "open",
      acknowledgedBy: tenant.admin.me.id,
      acknowledgedAt: now,
    });
    clock.advance(1_000);
    const again = await tenant.owner.post(`/api/admin/alerts/${id}/acknowledge`);
    expect(again.json().alert).toMatchObject({ acknowledgedBy: tenant.admin.me.id, acknowledgedAt: now });
    const audits = await t.ctx.db
      .selectFrom("audit_log")
      .select(["actor_id", "tenant_id"])
      .where("action", "=", "alert.acknowledge")
      .where("target_id", "=", id)
      .execute();
    expect(audits).toEqual([{ actor_id: tenant.admin.me.id, tenant_id: tenant.tenantId }]);
  });
});
