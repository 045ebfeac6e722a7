import { describe, expect, it } from "vitest";
import type { RouteEntry } from "../http/access.js";
import { can, type Permission, ROLES } from "../modules/auth/permissions.js";
import {
  anonymous,
  apiKeyCaller,
  brief,
  type Caller,
  EMPTY_BODY,
  Failures,
  fillUrl,
  isUnsafe,
  randomParams,
  sessionCaller,
  useMatrixApp,
} from "../test/security-matrix.js";

/**
 * The RBAC matrix, over every route the app registers: a role lacking a route's permission gets
 * 403, a role having it is let through (whatever the route then answers: 400 or 404 are fine,
 * only 401 and 403 are not). Ids are random UUIDs and unsafe routes get an empty body, so the
 * requests that are let through fail validation or find nothing, and change nothing.
 */
const fx = useMatrixApp();

const routesWith = (pred: (r: RouteEntry) => boolean) => fx.t.app.routeTable.filter(pred);
const request = (caller: Caller, r: RouteEntry) =>
  caller.inject({
    method: r.method as "GET",
    url: fillUrl(r.url, randomParams(r.url)),
    ...(isUnsafe(r) ? { payload: EMPTY_BODY } : {}),
  });

/**
 * Declared permissions pinned for the routes where a wrong declaration would hurt most: the
 * matrix above enforces whatever a route declares, this checks the declaration itself. Routes
 * not registered (yet) are skipped.
 */
const PINNED: Record<string, Permission | "staff" | "client"> = {
  "GET /api/admin/users": "users:manage",
  "POST /api/admin/users": "users:manage",
  "PATCH /api/admin/users/:id": "users:manage",
  "GET /api/admin/api-keys": "users:manage",
  "POST /api/admin/api-keys": "users:manage",
  "DELETE /api/admin/api-keys/:id": "users:manage",
  "GET /api/admin/audit": "audit:read",
  "GET /api/admin/clients": "clients:read",
  "POST /api/admin/clients": "clients:write",
  "GET /api/admin/clients/:id": "clients:read",
  "PATCH /api/admin/clients/:id": "clients:write",
  "POST /api/admin/clients/:id/reset-password": "clients:access",
  "POST /api/admin/clients/:id/disable": "clients:access",
  "POST /api/admin/clients/:id/enable": "clients:access",
  "GET /api/admin/clients/:id/ledger": "clients:read",
  "GET /api/admin/clients/:id/ledger/export.csv": "clients:read",
  "GET /api/admin/deposits/export.csv": "deposits:read",
  "GET /api/admin/integrations/:id/callbacks/export.csv": "deposits:read",
  "GET /api/admin/ledger/check": "clients:read",
  "GET /api/portal/wallets": "client",
  "GET /api/portal/ledger": "client",
  "POST /api/admin/integrations": "settings:write",
  "PATCH /api/admin/integrations/:id": "settings:write",
  "POST /api/admin/integrations/:id/reveal": "settings:reveal",
  "POST /api/admin/integrations/:id/rotate-token": "settings:rotate",
  "POST /api/admin/deposit-methods": "methods:write",
  "PATCH /api/admin/deposit-methods/:id": "methods:write",
  "DELETE /api/admin/deposit-methods/:id": "methods:write",
  "POST /api/admin/deposit-quote": "deposits:create",
  "POST /api/portal/deposit-quote": "client",
  "GET /api/admin/reports/fx": "deposits:read",
};

describe("declared access", () => {
  it("pins the permission of sensitive routes", () => {
    const failures = new Failures();
    for (const r of fx.t.app.routeTable) {
      const want = PINNED[`${r.method} ${r.url}`];
      if (want === undefined) continue;
      const got = typeof r.access === "object" ? r.access.staff : r.access;
      failures.check(r, got === want, () => `declares ${JSON.stringify(r.access)}, expected ${want}`);
    }
    expect(failures.list).toEqual([]);
  });

  it("protects every back-office route with staff access and every portal route with a client session", () => {
    const failures = new Failures();
    // The session probes answer 200 `{authenticated:false}` without a session (no 401 noise).
    const publicPortal = new Set(["POST /api/portal/auth/login", "GET /api/portal/auth/session"]);
    const publicAuth = new Set(["POST /api/auth/login", "GET /api/auth/session"]);
    const publicPlatform = new Set(["POST /api/platform/auth/login", "GET /api/platform/auth/session"]);
    for (const r of fx.t.app.routeTable) {
      const key = `${r.method} ${r.url}`;
      const staffish = r.access === "staff" || typeof r.access === "object";
      if (r.url.startsWith("/api/admin/")) {
        failures.check(r, staffish, () => `declares ${JSON.stringify(r.access)}`);
      } else if (r.url.startsWith("/api/auth/") && !publicAuth.has(key)) {
        failures.check(r, staffish, () => `declares ${JSON.stringify(r.access)}`);
      } else if (r.url.startsWith("/api/portal/") && !publicPortal.has(key)) {
        failures.check(r, r.access === "client", () => `declares ${JSON.stringify(r.access)}`);
      } else if (r.url.startsWith("/api/platform/") && !publicPlatform.has(key)) {
        failures.check(r, r.access === "operator", () => `declares ${JSON.stringify(r.access)}`);
      } else if (r.access === "operator") {
        failures.add(r, "operator routes live under /api/platform/");
      }
    }
    expect(failures.list).toEqual([]);
  });
});

describe("RBAC matrix", () => {
  it("covers routes of every access kind", () => {
    const kinds = new Set(
      fx.t.app.routeTable.map((r) => (typeof r.access === "object" ? "permission" : r.access)),
    );
    expect([...kinds].sort()).toEqual(["client", "operator", "permission", "public", "staff"]);
  });

  it("permission routes: 403 for each role lacking it, never 401/403 for a role having it (session and API key)", async () => {
    const failures = new Failures();
    const routes = routesWith((r) => typeof r.access === "object");
    for (const r of routes) {
      const permission = (r.access as { staff: Permission }).staff;
      for (const role of ROLES) {
        const callers = [
          sessionCaller(`${role} session`, fx.m.session(role)),
          apiKeyCaller(fx.t, `${role} API key`, fx.m.keys[role]),
        ];
        for (const caller of callers) {
          const res = await request(caller, r);
          if (can(role, permission)) {
            failures.check(
              r,
              res.statusCode !== 401 && res.statusCode !== 403,
              () => `${caller.name} has ${permission} but got ${brief(res)}`,
            );
            if (isUnsafe(r) && res.statusCode < 300) await fx.m.refresh(role);
          } else {
            failures.check(
              r,
              res.statusCode === 403 && res.json().error?.code === "forbidden",
              () => `${caller.name} lacks ${permission} but got ${brief(res)}`,
            );
          }
        }
      }
    }
    expect(failures.list).toEqual([]);
    expect(routes.length).toBeGreaterThan(10);
  });

  it("staff and permission routes answer 401 without credentials", async () => {
    const failures = new Failures();
    for (const r of routesWith((r) => r.access === "staff" || typeof r.access === "object")) {
      const res = await request(anonymous(fx.t), r);
      failures.check(r, res.statusCode === 401 && res.json().error?.code === "unauthenticated", () =>
        brief(res),
      );
    }
    expect(failures.list).toEqual([]);
  });

  it("staff routes let every role's session in", async () => {
    const failures = new Failures();
    for (const r of routesWith((r) => r.access === "staff")) {
      for (const role of ROLES) {
        const res = await request(sessionCaller(role, fx.m.session(role)), r);
        failures.check(r, res.statusCode !== 401 && res.statusCode !== 403, () => `${role}: ${brief(res)}`);
        if (isUnsafe(r) && res.statusCode < 300) await fx.m.refresh(role);
      }
    }
    expect(failures.list).toEqual([]);
  });

  it("client routes answer 401 to no cookie, a staff session and an API key, and let a client session in", async () => {
    const failures = new Failures();
    const routes = routesWith((r) => r.access === "client");
    for (const r of routes) {
      for (const caller of [
        anonymous(fx.t),
        sessionCaller("owner session", fx.m.session("owner")),
        apiKeyCaller(fx.t, "owner API key", fx.m.keys.owner),
      ]) {
        const res = await request(caller, r);
        failures.check(r, res.statusCode === 401, () => `${caller.name}: ${brief(res)}`);
      }
      const res = await request(sessionCaller("client", fx.m.session("client")), r);
      failures.check(
        r,
        res.statusCode !== 401 && res.statusCode !== 403,
        () => `client session: ${brief(res)}`,
      );
      if (isUnsafe(r) && res.statusCode < 300) await fx.m.refresh("client");
    }
    expect(failures.list).toEqual([]);
    expect(routes.length).toBeGreaterThan(0);
  });

  it("a client session is not a staff session", async () => {
    const failures = new Failures();
    for (const r of routesWith((r) => r.access === "staff" || typeof r.access === "object")) {
      const res = await request(sessionCaller("client", fx.m.session("client")), r);
      failures.check(r, res.statusCode === 401, () => `client session: ${brief(res)}`);
    }
    expect(failures.list).toEqual([]);
  });

  it("operator routes answer 401 to no cookie, every staff session and API key and a client session, and let the operator in", async () => {
    const failures = new Failures();
    const routes = routesWith((r) => r.access === "operator");
    for (const r of routes) {
      const callers = [
        anonymous(fx.t),
        sessionCaller("client session", fx.m.session("client")),
        ...ROLES.flatMap((role) => [
          sessionCaller(`${role} session`, fx.m.session(role)),
          apiKeyCaller(fx.t, `${role} API key`, fx.m.keys[role]),
        ]),
      ];
      for (const caller of callers) {
        const res = await request(caller, r);
        failures.check(r, res.statusCode === 401, () => `${caller.name}: ${brief(res)}`);
      }
      const res = await request(sessionCaller("operator", fx.m.session("operator")), r);
      failures.check(
        r,
        res.statusCode !== 401 && res.statusCode !== 403,
        () => `operator session: ${brief(res)}`,
      );
      if (isUnsafe(r) && res.statusCode < 300) await fx.m.refresh("operator");
    }
    expect(failures.list).toEqual([]);
    expect(routes.length).toBeGreaterThan(5);
  });

  it("an operator session is neither a staff nor a client session", async () => {
    const failures = new Failures();
    for (const r of routesWith((r) => r.access !== "public" && r.access !== "operator")) {
      const res = await request(sessionCaller("operator", fx.m.session("operator")), r);
      failures.check(r, res.statusCode === 401, () => `operator session: ${brief(res)}`);
    }
    expect(failures.list).toEqual([]);
  });
});
