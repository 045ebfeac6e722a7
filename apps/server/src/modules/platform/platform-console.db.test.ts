import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixedClock } from "../../common/clock.js";
import { newMerchantId } from "../../common/ids.js";
import {
  callbackFields,
  callbackJson,
  insertDeposit,
  sendCallback,
  sendSignedCallback,
} from "../../test/callback-client.js";
import { insertPaymentSetup } from "../../test/payment-fixtures.js";
import { fillUrl } from "../../test/security-matrix.js";
import {
  createTestApp,
  loginStaff,
  type Session,
  seedOperator,
  seedTenant,
  type TestApp,
} from "../../test/test-app.js";
import { insertCallbackLog } from "../callbacks/callback-log-repo.js";
import { openAlert } from "../integration-health/alert-repo.js";

/** The console's API: creating tenants, the tenant list and tiles, unrouted callbacks, and no client PII anywhere. */
const NOW = Date.UTC(2026, 0, 10, 12);
const clock = fixedClock(NOW);
let t: TestApp;
let op: Session;
beforeAll(async () => {
  t = await createTestApp({ clock });
  op = await seedOperator(t);
});
afterAll(async () => t?.close());

describe("creating a tenant from the console", () => {
  it("creates the tenant and its first owner, who can log in; audited against the new tenant as the operator", async () => {
    const res = await op.post("/api/platform/tenants", {
      slug: "newco",
      name: "New Co",
      owner: { email: "Boss@NewCo.test", name: "Boss", password: "owner password 1" },
    });
    expect(res.statusCode, res.body).toBe(201);
    const { tenantId } = res.json();
    const owner = await loginStaff(t.app, "boss@newco.test", "owner password 1");
    expect(owner.me).toMatchObject({ role: "owner", tenant: { id: tenantId, slug: "newco" } });
    const audit = await t.ctx.db
      .selectFrom("audit_log")
      .select(["actor_type", "actor_id", "action", "ip"])
      .where("tenant_id", "=", tenantId)
      .execute();
    expect(audit).toEqual([
      { actor_type: "operator", actor_id: op.me.id, action: "tenant.create", ip: "127.0.0.1" },
    ]);
    const again = await op.post("/api/platform/tenants", {
      slug: "newco",
      name: "Again",
      owner: { email: "x@newco.test", name: "X", password: "owner password 1" },
    });
    expect([again.statusCode, again.json().error.code]).toEqual([409, "slug_taken"]);
    const bad = await op.post("/api/platform/tenants", { slug: "Bad Slug!", name: "", owner: {} });
    expect(bad.statusCode).toBe(400);
  });
});

describe("tenants and their tiles", () => {
  it("lists every tenant with its status and counts, and a tenant's deposits and callbacks over the last hour and day", async () => {
    const s = await seedTenant(t);
    const fx = await insertPaymentSetup(t.ctx, s.tenantId);
    await insertPaymentSetup(t.ctx, s.tenantId, { enabled: false });
    const day = NOW - (NOW % 86_400_000);
    await insertDeposit(t.ctx, fx, { created_at: day - 1 }); // yesterday: not today, within 24 h
    await insertDeposit(t.ctx, fx, { created_at: NOW - 2 * 3_600_000 }); // today, not the last hour
    const paid = await insertDeposit(t.ctx, fx, { created_at: NOW - 60_000 });
    await insertDeposit(t.ctx, fx, { created_at: NOW - 25 * 3_600_000 }); // older than 24 h
    expect((await sendSignedCallback(t.app, fx, paid)).statusCode).toBe(204);
    expect((await sendSignedCallback(t.app, fx, paid)).statusCode).toBe(204);
    expect((await sendSignedCallback(t.app, fx, paid, { status: 2 })).statusCode).toBe(400);

    const list = await op.get("/api/platform/tenants");
    expect(list.statusCode).toBe(200);
    expect(list.json().items.find((i: { id: string }) => i.id === s.tenantId)).toEqual({
      id: s.tenantId,
      slug: s.slug,
      name: `Tenant ${s.slug}`,
      createdAt: NOW,
      suspendedAt: null,
      suspensionReason: null,
      integrations: 2,
      integrationsEnabled: 1,
      depositsToday: 2,
    });

    const tiles = await op.get(`/api/platform/tenants/${s.tenantId}/health`);
    expect(tiles.statusCode, tiles.body).toBe(200);
    expect(tiles.json()).toMatchObject({
      tenant: { id: s.tenantId, slug: s.slug, suspendedAt: null },
      lastHour: { deposits: { succeeded: 1 }, callbacks: { accepted: 1, duplicate: 1, rejected: 1 } },
      last24h: {
        deposits: { pending: 2, succeeded: 1 },
        callbacks: { accepted: 1, duplicate: 1, rejected: 1 },
      },
      openReviewItems: 0,
    });
    expect(tiles.json().integrations).toHaveLength(2);
    const healthOf = async (id: string) =>
      (await op.get(`/api/platform/tenants/${s.tenantId}/health`))
        .json()
        .integrationHealth.find((h: { integrationId: string }) => h.integrationId === id);
    expect(await healthOf(fx.integrationId)).toEqual({
      integrationId: fx.integrationId,
      breaker: "closed",
      api1Calls: 0,
      api1SuccessRate: null,
      api1P95Ms: null,
      callbacks: 0,
      signatureFailures: 0,
      openAlerts: 0,
    });
    // The breaker and the alerts, as their own modules keep them.
    await t.ctx.db
      .insertInto("api1_breakers")
      .values({
        integration_id: fx.integrationId,
        tenant_id: s.tenantId,
        mode: "on",
        state: "open",
        opened_at: NOW,
        reason: "5 of 6 calls failed",
        probe_until: null,
        updated_at: NOW,
      })
      .execute();
    await openAlert(
      t.ctx.db,
      { tenantId: s.tenantId, integrationId: fx.integrationId, kind: "api1_failing", data: { failed: 5 } },
      NOW,
    );
    expect(await healthOf(fx.integrationId)).toMatchObject({ breaker: "open", openAlerts: 1 });
    expect((await op.get("/api/platform/tenants/no-such-tenant/health")).statusCode).toBe(404);
  });
});

describe("unrouted callbacks", () => {
  it("lists the callbacks no tenant was found for, newest first, paged, with the body as stored", async () => {
    const before = (await op.get("/api/platform/callbacks/unrouted")).json().total as number;
    const unknown = callbackJson(
      callbackFields(
        { merchantId: newMerchantId() },
        { orderNo: "ordernotours", amountMinor: 100n, decimals: 2, currency: "USD" },
      ),
      "some token",
    );
    clock.advance(1_000);
    expect((await sendCallback(t.app, unknown, { token: "some token" })).statusCode).toBe(400);
    clock.advance(1_000);
    expect(
      (await sendCallback(t.app, "{not json", { token: "x", contentType: "application/json" })).statusCode,
    ).toBe(400);
    const page1 = await op.get("/api/platform/callbacks/unrouted?limit=1");
    expect(page1.json().total).toBe(before + 2);
    expect(page1.json().items).toEqual([
      expect.objectContaining({ body: "{not json", merchantId: null, verdict: "rejected", httpStatus: 400 }),
    ]);
    const page2 = await op.get("/api/platform/callbacks/unrouted?limit=1&offset=1");
    expect(page2.json().items).toEqual([
      expect.objectContaining({
        body: unknown,
        orderNo: "ordernotours",
        verdict: "rejected",
        errorType: expect.any(String),
      }),
    ]);
    // The token travels in a header, which is never stored.
    expect(JSON.stringify([page1.json(), page2.json()])).not.toContain("some token");
    expect((await op.get("/api/platform/callbacks/unrouted?limit=0")).statusCode).toBe(400);
    // Each says why.
    expect(page1.json().items[0].errorDetail).toMatch(/offset/);
    expect(page2.json().items[0].errorDetail).toBe("`merchant_id` matches no enabled integration");
  });

  it("counts the last 24 h per source address, the busiest first, throttled requests included", async () => {
    const unknown = (i: number) =>
      callbackJson(
        callbackFields(
          { merchantId: newMerchantId() },
          { orderNo: `srcorder${i}`, amountMinor: 100n, decimals: 2, currency: "USD" },
        ),
        "t",
      );
    const from = (addr: string, body: string) =>
      t.app.inject({
        method: "POST",
        url: "/api/psp/pay/callback",
        payload: body,
        headers: { "content-type": "application/json", "crm-pay-token": "t" },
        remoteAddress: addr,
      });
    for (let i = 0; i < 3; i++) expect((await from("198.51.100.7", unknown(i))).statusCode).toBe(400);
    expect((await from("198.51.100.7", "{bad")).statusCode).toBe(400);
    expect((await from("198.51.100.8", unknown(9))).statusCode).toBe(400);
    await insertCallbackLog(t.ctx.db, {
      tenant_id: null,
      integration_id: null,
      deposit_id: null,
      merchant_id: newMerchantId(),
      order_no: null,
      content_type: "application/json",
      raw_body: "{}",
      verdict: "rejected",
      error_type: "psp_setting_not_found",
      http_status: 429,
      remote_addr: "198.51.100.8",
      created_at: clock.now(),
      request_count: 5,
    });
    // Older than 24 h: not counted.
    await insertCallbackLog(t.ctx.db, {
      tenant_id: null,
      integration_id: null,
      deposit_id: null,
      merchant_id: null,
      order_no: null,
      content_type: null,
      raw_body: "{",
      verdict: "rejected",
      error_type: "request_malformed",
      http_status: 400,
      remote_addr: "198.51.100.9",
      created_at: clock.now() - 24 * 60 * 60 * 1000 - 1,
    });
    const { sources } = (await op.get("/api/platform/callbacks/unrouted/sources")).json();
    const seven = sources.find((s: { remoteAddr: string }) => s.remoteAddr === "198.51.100.7");
    const eight = sources.find((s: { remoteAddr: string }) => s.remoteAddr === "198.51.100.8");
    expect(seven).toEqual({
      remoteAddr: "198.51.100.7",
      requests: 4,
      errorTypes: ["psp_setting_not_found", "request_malformed"],
      lastAt: clock.now(),
    });
    // A summary of throttled requests counts as the requests it stands for.
    expect(eight).toMatchObject({ requests: 1 + 5, errorTypes: ["psp_setting_not_found"] });
    expect(sources.indexOf(eight)).toBeLessThan(sources.indexOf(seven));

    expect(sources.find((s: { remoteAddr: string }) => s.remoteAddr === "198.51.100.9")).toBeUndefined();
  });
});

describe("no client personal data", () => {
  it("no operator answer contains a seeded client's name, e-mail or phone", async () => {
    const s = await seedTenant(t);
    // A paid amount other than the order's goes to review: a review item names the client's order.
    const fx = await insertPaymentSetup(t.ctx, s.tenantId, { amountPolicy: "review" });
    const tag = randomBytes(3).toString("hex");
    const pii = {
      name: `Zebulon Quartermaine ${tag}`,
      email: `zebulon.${tag}@pii.test`,
      phone: "+44 7700 900123",
    };
    const created = await s.owner.post("/api/admin/clients", { ...pii, password: "client password 1" });
    expect(created.statusCode, created.body).toBe(201);
    const dep = await insertDeposit(t.ctx, { ...fx, clientId: created.json().id });
    expect((await sendSignedCallback(t.app, fx, dep, { amount: { literal: "50.00" } })).statusCode).toBe(204);
    expect((await op.get(`/api/platform/tenants/${s.tenantId}/health`)).json().openReviewItems).toBe(1);
    await op.post(`/api/platform/tenants/${s.tenantId}/suspend`, { reason: "PII check" });

    const answers: string[] = [];
    for (const r of t.app.routeTable.filter((r) => r.access === "operator" && r.method === "GET")) {
      const res = await op.get(fillUrl(r.url, { id: s.tenantId }));
      expect(res.statusCode, `${r.url}: ${res.body}`).toBe(200);
      answers.push(res.body);
    }
    expect(answers.length).toBeGreaterThanOrEqual(5);
    const all = answers.join("\n").toLowerCase();
    for (const v of [pii.name, pii.email, pii.phone, pii.phone.replace(/\s/g, ""), "zebulon"]) {
      expect(all).not.toContain(v.toLowerCase());
    }
    expect(all).toContain(s.tenantId);
  });
});
