import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKGROUND_JOBS } from "../../main.js";
import { createTestApp, loginStaff, seedTenant, TEST_PASSWORD, type TestApp } from "../../test/test-app.js";
import { testDbKind } from "../../test/test-database.js";
import { deleteExpiredSessionsJob } from "./session-repo.js";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t?.close());

describe("back-office auth", () => {
  it("logs in, sets an httpOnly SameSite cookie, and answers /me with the CSRF token", async () => {
    const s = await seedTenant(t);
    const res = await t.app.inject({
      method: "POST",
      url: "/api/auth/login",
      payload: { email: `owner@${s.slug}.test`, password: TEST_PASSWORD },
    });
    expect(res.statusCode).toBe(200);
    const cookie = res.cookies.find((c) => c.name === "psphub_session");
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.sameSite).toBe("Lax");
    // PUBLIC_BASE_URL is https here, so the cookie is Secure (COOKIE_SECURE's default).
    expect(cookie?.secure).toBe(true);
    expect(cookie?.path).toBe("/");
    // The session secret is only in the cookie, never in the JSON a script can read.
    expect(res.body).not.toContain(cookie!.value);
    const me = await s.owner.get("/api/auth/me");
    expect(me.statusCode).toBe(200);
    expect(me.json().me.role).toBe("owner");
    expect(me.json().me.permissions).toContain("users:manage");
    const viewer = await loginStaff(t.app, `viewer@${s.slug}.test`, TEST_PASSWORD);
    expect(viewer.me.permissions).toEqual([
      "settings:read",
      "methods:read",
      "clients:read",
      "deposits:read",
      "withdrawals:read",
    ]);
    expect(me.json().csrfToken).toBe(s.owner.csrfToken);
  });

  it("sets the portal session cookie the same way, and no Secure flag on a plain-http deployment", async () => {
    const s = await seedTenant(t);
    await s.owner.post("/api/admin/clients", {
      name: "C",
      email: "c@cookie.test",
      password: "client pass 123",
    });
    const res = await t.app.inject({
      method: "POST",
      url: "/api/portal/auth/login",
      payload: { tenant: s.slug, email: "c@cookie.test", password: "client pass 123" },
    });
    expect(res.statusCode).toBe(200);
    const cookie = res.cookies.find((c) => c.name === "psphub_portal");
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Lax", secure: true, path: "/" });

    const plain = await createTestApp({ env: { PUBLIC_BASE_URL: "http://localhost:3000" } });
    try {
      const p = await seedTenant(plain);
      const login = await plain.app.inject({
        method: "POST",
        url: "/api/auth/login",
        payload: { email: `owner@${p.slug}.test`, password: TEST_PASSWORD },
      });
      const c = login.cookies.find((x) => x.name === "psphub_session");
      expect(c).toMatchObject({ httpOnly: true, sameSite: "Lax" });
      expect(c?.secure).toBeFalsy();
    } finally {
      await plain.close();
    }
  });

  it("refuses a wrong password and an unknown email with the same answer", async () => {
    const s = await seedTenant(t);
    const wrong = await t.app.inject({
      method: "POST",
      url: "/api/auth/login",
      payload: { email: `owner@${s.slug}.test`, password: "nope-nope-nope" },
    });
    const unknown = await t.app.inject({
      method: "POST",
      url: "/api/auth/login",
      payload: { email: "nobody@nowhere.test", password: "nope-nope-nope" },
    });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json()).toEqual(unknown.json());
  });

  it("answers 401 without a session, and logout ends the session", async () => {
    expect((await t.app.inject({ method: "GET", url: "/api/auth/me" })).statusCode).toBe(401);
    const s = await seedTenant(t);
    const session = await loginStaff(t.app, `viewer@${s.slug}.test`, TEST_PASSWORD);
    expect((await session.post("/api/auth/logout")).statusCode).toBe(204);
    expect((await session.get("/api/auth/me")).statusCode).toBe(401);
  });

  it("refuses a live session whose user was disabled", async () => {
    const s = await seedTenant(t);
    await t.ctx.db.updateTable("users").set({ disabled: 1 }).where("id", "=", s.viewer.me.id).execute();
    const res = await s.viewer.get("/api/auth/me");
    expect(res.statusCode).toBe(401);
    expect(res.json().error.message).toContain("disabled");
    expect((await s.finance.get("/api/auth/me")).statusCode).toBe(200);
  });

  it("the background job deletes expired sessions only", async () => {
    const s = await seedTenant(t);
    await t.ctx.db
      .updateTable("sessions")
      .set({ expires_at: 1 })
      .where("subject_id", "=", s.viewer.me.id)
      .execute();
    await deleteExpiredSessionsJob(t.ctx);
    const left = await t.ctx.db
      .selectFrom("sessions")
      .select("subject_id")
      .where("tenant_id", "=", s.tenantId)
      .execute();
    expect(left.map((r) => r.subject_id)).not.toContain(s.viewer.me.id);
    expect(left.map((r) => r.subject_id)).toContain(s.owner.me.id);
    expect(BACKGROUND_JOBS).toContain(deleteExpiredSessionsJob);
  });

  it("refuses a cookie-authenticated write without the CSRF header", async () => {
    const s = await seedTenant(t);
    const res = await s.owner.inject({ method: "POST", url: "/api/auth/logout", csrf: false });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe("csrf_failed");
  });

  it("answers unknown routes with JSON 404", async () => {
    const res = await t.app.inject({ method: "GET", url: "/api/nope" });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe("route_not_found");
  });

  it("reports ready with the database kind", async () => {
    const res = await t.app.inject({ method: "GET", url: "/readyz" });
    expect(res.statusCode).toBe(200);
    expect(res.json().database).toBe(testDbKind());
  });
});
