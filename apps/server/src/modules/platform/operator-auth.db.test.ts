import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixedClock } from "../../common/clock.js";
import { CSRF_HEADER } from "../../http/access.js";
import {
  createTestApp,
  loginOperator,
  OPERATOR_PASSWORD,
  seedOperator,
  seedTenant,
  type TestApp,
} from "../../test/test-app.js";
import { createOperator } from "./operator-auth.js";

/** The operator's own login, session, CSRF and throttle, and the wall between it and the tenants' sessions. */
const clock = fixedClock(Date.UTC(2026, 0, 10, 12));
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ clock });
});
afterAll(async () => t?.close());

const login = (email: string, password: string, ip = "203.0.113.7") =>
  t.app.inject({
    method: "POST",
    url: "/api/platform/auth/login",
    payload: { email, password },
    remoteAddress: ip,
  });

describe("operator login", () => {
  it("logs in with the right password (any case of the e-mail), sets its own cookie, and stores only the secret's hash", async () => {
    await createOperator(t.ctx, { email: "Ops@Platform.test", name: "Ops", password: OPERATOR_PASSWORD });
    const res = await login("OPS@platform.test", OPERATOR_PASSWORD);
    expect(res.statusCode).toBe(200);
    expect(res.json().me).toMatchObject({ email: "ops@platform.test", name: "Ops" });
    const cookie = res.cookies.find((c) => c.name === "psphub_operator");
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Lax", path: "/" });
    expect(res.cookies.some((c) => c.name === "psphub_session" || c.name === "psphub_portal")).toBe(false);
    const stored = await t.ctx.db.selectFrom("operator_sessions").select("id_hash").execute();
    expect(stored.map((s) => s.id_hash)).not.toContain(cookie!.value);
    const op = await t.ctx.db
      .selectFrom("platform_operators")
      .select("password_hash")
      .executeTakeFirstOrThrow();
    expect(op.password_hash).toMatch(/^scrypt\$/);
  });

  it("answers a wrong password, an unknown e-mail and a disabled operator alike (401)", async () => {
    await createOperator(t.ctx, { email: "off@platform.test", name: "Off", password: OPERATOR_PASSWORD });
    await t.ctx.db
      .updateTable("platform_operators")
      .set({ disabled: 1 })
      .where("email", "=", "off@platform.test")
      .execute();
    const answers = await Promise.all([
      login("ops@platform.test", "wrong password 123"),
      login("nobody@platform.test", OPERATOR_PASSWORD),
      login("off@platform.test", OPERATOR_PASSWORD),
    ]);
    for (const res of answers) {
      expect(res.statusCode).toBe(401);
      expect(res.json().error).toEqual({ code: "unauthenticated", message: "Email or password is wrong" });
    }
  });

  it("probes, answers me, and ends the session on logout", async () => {
    const s = await seedOperator(t);
    const probe = await s.get("/api/platform/auth/session");
    expect(probe.json()).toMatchObject({ authenticated: true, me: { id: s.me.id }, csrfToken: s.csrfToken });
    expect((await s.get("/api/platform/auth/me")).statusCode).toBe(200);
    expect((await t.app.inject({ method: "GET", url: "/api/platform/auth/session" })).json()).toEqual({
      authenticated: false,
    });
    expect((await s.post("/api/platform/auth/logout")).statusCode).toBe(204);
    expect((await s.get("/api/platform/tenants")).statusCode).toBe(401);
    expect((await s.get("/api/platform/auth/session")).json()).toEqual({ authenticated: false });
  });

  it("ends the sessions of an operator once disabled, and refuses an expired session", async () => {
    const s = await seedOperator(t);
    expect((await s.get("/api/platform/tenants")).statusCode).toBe(200);
    clock.advance(t.ctx.config.sessionTtlMs);
    expect((await s.get("/api/platform/tenants")).statusCode).toBe(401);
    const again = await loginOperator(t.app, s.me.email as string, OPERATOR_PASSWORD);
    await t.ctx.db.updateTable("platform_operators").set({ disabled: 1 }).where("id", "=", s.me.id).execute();
    expect((await again.get("/api/platform/tenants")).statusCode).toBe(401);
  });

  it("refuses a write without the session's CSRF token, or with another session's (403 csrf_failed)", async () => {
    const s = await seedOperator(t);
    const other = await seedOperator(t);
    const body = {
      slug: "csrf-co",
      name: "CSRF",
      owner: { email: "o@csrf.test", name: "O", password: OPERATOR_PASSWORD },
    };
    for (const headers of [{}, { [CSRF_HEADER]: other.csrfToken }, { [CSRF_HEADER]: "" }]) {
      const res = await s.inject({
        method: "POST",
        url: "/api/platform/tenants",
        payload: body,
        headers,
        csrf: false,
      });
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe("csrf_failed");
    }
    expect(await t.ctx.db.selectFrom("tenants").select("id").where("slug", "=", "csrf-co").execute()).toEqual(
      [],
    );
    expect((await s.post("/api/platform/tenants", body)).statusCode).toBe(201);
  });
});

describe("the wall between operators and tenants", () => {
  it("a staff session, an API key or a client session cannot call operator routes; an operator session cannot call back-office or portal routes", async () => {
    const tenant = await seedTenant(t);
    const key = (await tenant.owner.post("/api/admin/api-keys", { name: "k", role: "owner" })).json()
      .key as string;
    const client = await tenant.owner.post("/api/admin/clients", {
      name: "Wall Client",
      email: "wall@client.test",
      password: "client password 1",
    });
    expect(client.statusCode).toBe(201);
    const portal = await t.app.inject({
      method: "POST",
      url: "/api/portal/auth/login",
      payload: { tenant: tenant.slug, email: "wall@client.test", password: "client password 1" },
    });
    const portalCookie = `psphub_portal=${portal.cookies.find((c) => c.name === "psphub_portal")!.value}`;
    const staffCookie = tenant.owner.cookie;
    for (const [who, headers] of [
      ["staff session", { cookie: staffCookie, [CSRF_HEADER]: tenant.owner.csrfToken }],
      ["API key", { authorization: `Bearer ${key}` }],
      ["client session", { cookie: portalCookie, [CSRF_HEADER]: portal.json().csrfToken }],
    ] as const) {
      for (const [method, url] of [
        ["GET", "/api/platform/tenants"],
        ["GET", "/api/platform/auth/me"],
        ["GET", "/api/platform/callbacks/unrouted"],
        ["GET", "/api/platform/callbacks/unrouted/sources"],
        ["POST", `/api/platform/tenants/${tenant.tenantId}/suspend`],
      ] as const) {
        const res = await t.app.inject({
          method,
          url,
          headers,
          payload: method === "POST" ? { reason: "x" } : undefined,
        });
        expect(res.statusCode, `${who} ${method} ${url}`).toBe(401);
      }
    }
    const op = await seedOperator(t);
    for (const url of ["/api/admin/deposits", "/api/auth/me", "/api/portal/wallets", "/api/portal/auth/me"]) {
      expect((await op.get(url)).statusCode, url).toBe(401);
    }
    // The operator's cookie opens no tenant session and the probes say so.
    expect((await op.get("/api/auth/session")).json()).toEqual({ authenticated: false });
    expect((await op.get("/api/portal/auth/session")).json()).toEqual({ authenticated: false });
    const row = await t.ctx.db
      .selectFrom("tenants")
      .select("suspended_at")
      .where("id", "=", tenant.tenantId)
      .executeTakeFirstOrThrow();
    expect(row.suspended_at).toBeNull();
  });
});

describe("operator login throttle", () => {
  it("refuses guesses over the per-account limit with 429 before checking the password, and shares the staff logins' counters table", async () => {
    const limited = await createTestApp({
      clock,
      env: { LOGIN_RATE_LIMIT_PER_MINUTE: "3", LOGIN_RATE_LIMIT_PER_ACCOUNT_PER_MINUTE: "3" },
    });
    try {
      await createOperator(limited.ctx, { email: "t@platform.test", name: "T", password: OPERATOR_PASSWORD });
      const attempt = (password: string) =>
        limited.app.inject({
          method: "POST",
          url: "/api/platform/auth/login",
          payload: { email: "t@platform.test", password },
        });
      for (let i = 0; i < 3; i++) expect((await attempt("wrong password 123")).statusCode).toBe(401);
      const refused = await attempt(OPERATOR_PASSWORD);
      expect(refused.statusCode).toBe(429);
      expect(refused.headers["retry-after"]).toBeDefined();
      expect(
        Number(
          (
            await limited.ctx.db
              .selectFrom("login_attempts")
              .select((eb) => eb.fn.countAll().as("n"))
              .executeTakeFirstOrThrow()
          ).n,
        ),
      ).toBeGreaterThan(0);
      clock.advance(60_000);
      expect((await attempt(OPERATOR_PASSWORD)).statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
