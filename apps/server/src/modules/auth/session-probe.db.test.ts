import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertClient } from "../../test/payment-fixtures.js";
import { createTestApp, loginClient, seedTenant, type TestApp } from "../../test/test-app.js";

/**
 * The start-up probes of both web apps: 200 whether or not there is a session, so a page that
 * is not logged in yet makes no failed request (and the browser logs none).
 */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t?.close());

const probe = (url: string, cookie?: string, headers: Record<string, string> = {}) =>
  t.app.inject({ method: "GET", url, headers: { ...headers, ...(cookie ? { cookie } : {}) } });

const STAFF = "/api/auth/session";
const PORTAL = "/api/portal/auth/session";

describe("session probes", () => {
  it("answer 200 authenticated:false without a session, with an unknown cookie, and never cached", async () => {
    for (const url of [STAFF, PORTAL]) {
      for (const cookie of [undefined, "psphub_session=nope", "psphub_portal=nope"]) {
        const res = await probe(url, cookie);
        expect(res.statusCode, `${url} ${cookie}`).toBe(200);
        expect(res.json()).toEqual({ authenticated: false });
        expect(res.headers["cache-control"]).toBe("no-store");
      }
    }
  });

  it("answer the same session as `me` while logged in, and authenticated:false after logout", async () => {
    const s = await seedTenant(t);
    const me = (await s.admin.get("/api/auth/me")).json();
    const res = await probe(STAFF, s.admin.cookie);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ authenticated: true, ...me });
    expect(res.json().csrfToken).toBe(s.admin.csrfToken);
    expect(res.json().me).toMatchObject({ id: s.admin.me.id, role: "admin", tenant: { slug: s.slug } });

    expect((await s.admin.post("/api/auth/logout")).statusCode).toBe(204);
    expect((await probe(STAFF, s.admin.cookie)).json()).toEqual({ authenticated: false });
  });

  it("say authenticated:false for a disabled user, an expired session and an API key", async () => {
    const s = await seedTenant(t);
    await t.ctx.db.updateTable("users").set({ disabled: 1 }).where("id", "=", s.viewer.me.id).execute();
    expect((await probe(STAFF, s.viewer.cookie)).json()).toEqual({ authenticated: false });
    expect((await probe(STAFF, s.finance.cookie)).json().authenticated).toBe(true);

    await t.ctx.db
      .updateTable("sessions")
      .set({ expires_at: 1 })
      .where("subject_id", "=", s.finance.me.id)
      .execute();
    expect((await probe(STAFF, s.finance.cookie)).json()).toEqual({ authenticated: false });

    const key = (await s.owner.post("/api/admin/api-keys", { name: "probe", role: "viewer" })).json().key;
    const withKey = await probe(STAFF, undefined, { authorization: `Bearer ${key}` });
    expect(withKey.json()).toEqual({ authenticated: false });
  });

  it("keep the two apps apart: a portal session is no back-office session, and the other way round", async () => {
    const s = await seedTenant(t);
    const c = await insertClient(t.ctx, s.tenantId);
    const portal = await loginClient(t.app, s.slug, c.clientEmail, c.clientPassword);

    const res = await probe(PORTAL, portal.cookie);
    expect(res.json()).toEqual({ authenticated: true, ...(await portal.get("/api/portal/auth/me")).json() });
    expect(res.json().me).toMatchObject({ id: c.clientId, tenant: { id: s.tenantId, slug: s.slug } });

    // The cookie names differ, so send each session under the other app's cookie name too.
    const staffUnderPortalName = s.owner.cookie.replace("psphub_session=", "psphub_portal=");
    const portalUnderStaffName = portal.cookie.replace("psphub_portal=", "psphub_session=");
    expect((await probe(PORTAL, s.owner.cookie)).json()).toEqual({ authenticated: false });
    expect((await probe(PORTAL, staffUnderPortalName)).json()).toEqual({ authenticated: false });
    expect((await probe(STAFF, portal.cookie)).json()).toEqual({ authenticated: false });
    expect((await probe(STAFF, portalUnderStaffName)).json()).toEqual({ authenticated: false });
  });

  it("leave `me` as it was: 401 without a session", async () => {
    expect((await probe("/api/auth/me")).statusCode).toBe(401);
    expect((await probe("/api/portal/auth/me")).statusCode).toBe(401);
  });
});
