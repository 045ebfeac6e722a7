import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api1Stub, startApi1Stub } from "../../test/api1-stub.js";
import {
  depositRow,
  expectLedgerInvariant,
  insertDeposit,
  ledgerEntriesOf,
  sendSignedCallback,
  walletBalance,
} from "../../test/callback-client.js";
import { insertPaymentSetup, type PaymentFixture } from "../../test/payment-fixtures.js";
import {
  createTestApp,
  loginClient,
  type Session,
  seedOperator,
  seedTenant,
  type TestApp,
} from "../../test/test-app.js";

/**
 * Suspension: the tenant's portal (login and live sessions) and its deposit creation (portal and
 * staff, before any API-1 call) are refused with 409 tenant_suspended; its back office works;
 * a callback for an order already open is judged and credits exactly once; resume undoes it.
 */
let t: TestApp;
let stub: Api1Stub;
let tenant: Awaited<ReturnType<typeof seedTenant>>;
let fx: PaymentFixture;
let op: Session;
let portal: Session;

const UNAVAILABLE = { code: "tenant_suspended", message: "This service is temporarily unavailable" };

beforeAll(async () => {
  t = await createTestApp({ configOverrides: { allowPrivateAppUrls: true } });
  stub = await startApi1Stub();
  tenant = await seedTenant(t);
  fx = await insertPaymentSetup(t.ctx, tenant.tenantId, { appUrl: stub.url });
  stub.token = fx.token;
  op = await seedOperator(t);
  portal = await loginClient(t.app, tenant.slug, fx.clientEmail, fx.clientPassword);
});
afterAll(async () => {
  await stub?.close();
  await t?.close();
});

const portalLogin = () =>
  t.app.inject({
    method: "POST",
    url: "/api/portal/auth/login",
    payload: { tenant: tenant.slug, email: fx.clientEmail, password: fx.clientPassword },
  });
const portalDeposit = (s: Session) =>
  s.post("/api/portal/deposits", { methodId: fx.methodId, currency: "USD", amount: "100.10" });
const staffDeposit = () =>
  tenant.admin.post("/api/admin/deposits", {
    clientId: fx.clientId,
    methodId: fx.methodId,
    currency: "USD",
    amount: "100.10",
  });
const depositCount = async () =>
  (await t.ctx.db.selectFrom("deposits").select("id").where("tenant_id", "=", tenant.tenantId).execute())
    .length;

describe("suspending and resuming a tenant", () => {
  it("stops the portal and deposit creation, keeps the back office, and still credits a callback exactly once", async () => {
    const open = await insertDeposit(t.ctx, fx);
    const before = await walletBalance(t.ctx, fx.clientId);
    expect(
      (await op.post(`/api/platform/tenants/${tenant.tenantId}/suspend`, { reason: "KYC review" }))
        .statusCode,
    ).toBe(204);

    // The portal: the live session and a new login, with the words the portal shows.
    const live = await portal.get("/api/portal/wallets");
    expect([live.statusCode, live.json().error]).toEqual([409, UNAVAILABLE]);
    expect((await portal.get("/api/portal/auth/session")).json()).toEqual({ authenticated: false });
    const login = await portalLogin();
    expect([login.statusCode, login.json().error]).toEqual([409, UNAVAILABLE]);
    // A wrong password still gets the 401 of a wrong password: the refusal tells no one who is a client.
    const wrong = await t.app.inject({
      method: "POST",
      url: "/api/portal/auth/login",
      payload: { tenant: tenant.slug, email: fx.clientEmail, password: "not the password" },
    });
    expect(wrong.statusCode).toBe(401);

    // Deposit creation, portal and staff, refused before any API-1 call.
    const count = await depositCount();
    const viaPortal = await portalDeposit(portal);
    expect([viaPortal.statusCode, viaPortal.json().error.code]).toEqual([409, "tenant_suspended"]);
    const viaStaff = await staffDeposit();
    expect([viaStaff.statusCode, viaStaff.json().error]).toEqual([409, UNAVAILABLE]);
    expect(stub.requests).toHaveLength(0);
    expect(await depositCount()).toBe(count);

    // The back office keeps working, says the company is suspended, and its audit log says why.
    expect((await tenant.viewer.get("/api/admin/deposits")).statusCode).toBe(200);
    expect((await tenant.viewer.get("/api/auth/me")).json().me.tenant.suspended).toBe(true);
    const audit = await tenant.owner.get("/api/admin/audit?action=tenant.suspend");
    expect(audit.json().items).toEqual([
      expect.objectContaining({
        actorType: "operator",
        actorId: op.me.id,
        targetId: tenant.tenantId,
        before: { suspended: false },
        after: { suspended: true, reason: "KYC review" },
      }),
    ]);

    // Money in flight: the callback is judged, applied and logged as ever, once.
    const a = await sendSignedCallback(t.app, fx, open);
    const b = await sendSignedCallback(t.app, fx, open);
    expect([a.statusCode, b.statusCode]).toEqual([204, 204]);
    expect((await depositRow(t.ctx, open.id)).status).toBe("succeeded");
    expect(await ledgerEntriesOf(t.ctx, open.id)).toHaveLength(1);
    expect(await walletBalance(t.ctx, fx.clientId)).toBe(before + open.creditMinor);
    const logged = await t.ctx.db
      .selectFrom("callback_logs")
      .select("verdict")
      .where("deposit_id", "=", open.id)
      .orderBy("created_at")
      .orderBy("id")
      .execute();
    expect(logged.map((l) => l.verdict).sort()).toEqual(["accepted", "duplicate"]);
    await expectLedgerInvariant(t.ctx);

    // Resume: the portal and deposit creation are back.
    expect(
      (await op.post(`/api/platform/tenants/${tenant.tenantId}/resume`, { reason: "KYC done" })).statusCode,
    ).toBe(204);
    expect((await portal.get("/api/portal/wallets")).statusCode).toBe(200);
    expect((await portalLogin()).statusCode).toBe(200);
    expect((await tenant.viewer.get("/api/auth/session")).json().me.tenant.suspended).toBe(false);
    const created = await staffDeposit();
    expect(created.statusCode, created.body).toBe(201);
    expect(stub.requests).toHaveLength(1);
    const resumed = await tenant.owner.get("/api/admin/audit?action=tenant.resume");
    expect(resumed.json().items).toEqual([
      expect.objectContaining({
        actorType: "operator",
        actorId: op.me.id,
        before: { suspended: true, reason: "KYC review" },
        after: { suspended: false, reason: "KYC done" },
      }),
    ]);
    const trail = await op.get("/api/platform/audit");
    expect(
      trail
        .json()
        .items.map((i: { action: string }) => i.action)
        .slice(0, 2),
    ).toEqual(["tenant.resume", "tenant.suspend"]);
  });

  it("refuses what makes no sense: no reason (400), twice (409), resuming an active tenant (409), an unknown tenant (404)", async () => {
    const other = await seedTenant(t);
    const url = (verb: string, id = other.tenantId) => `/api/platform/tenants/${id}/${verb}`;
    expect((await op.post(url("suspend"), { reason: "  " })).statusCode).toBe(400);
    expect((await op.post(url("suspend"), {})).statusCode).toBe(400);
    expect((await op.post(url("resume"), { reason: "x" })).json().error.code).toBe("not_suspended");
    expect((await op.post(url("suspend"), { reason: "x" })).statusCode).toBe(204);
    expect((await op.post(url("suspend"), { reason: "x" })).json().error.code).toBe("already_suspended");
    expect((await op.post(url("suspend", "no-such-tenant"), { reason: "x" })).statusCode).toBe(404);
    const rows = await t.ctx.db
      .selectFrom("audit_log")
      .select(["action", "actor_type"])
      .where("tenant_id", "=", other.tenantId)
      .where("actor_type", "=", "operator")
      .execute();
    expect(rows).toEqual([{ action: "tenant.suspend", actor_type: "operator" }]);
  });

  it("ends the portal's open live status stream of a suspended company", { timeout: 15_000 }, async () => {
    const other = await seedTenant(t);
    const ofx = await insertPaymentSetup(t.ctx, other.tenantId);
    const client = await loginClient(t.app, other.slug, ofx.clientEmail, ofx.clientPassword);
    const dep = await insertDeposit(t.ctx, ofx);
    const base = await t.app.listen({ port: 0, host: "127.0.0.1" });
    const res = await fetch(`${base}/api/portal/deposits/${dep.orderNo}/events`, {
      headers: { cookie: client.cookie },
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    while (!text.includes("event: status")) {
      const c = await reader.read();
      if (c.done) throw new Error(`stream ended early: ${text}`);
      text += decoder.decode(c.value);
    }
    expect(
      (await op.post(`/api/platform/tenants/${other.tenantId}/suspend`, { reason: "x" })).statusCode,
    ).toBe(204);
    for (let c = await reader.read(); !c.done; c = await reader.read()) text += decoder.decode(c.value);
    expect(text.trim().split("\n\n").at(-1)).toBe('event: end\ndata: {"reason":"session_ended"}');
  });
});
