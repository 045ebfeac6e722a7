import { describe, expect, it } from "vitest";
import { CSRF_HEADER } from "../http/access.js";
import {
  brief,
  EMPTY_BODY,
  Failures,
  fillUrl,
  isUnsafe,
  randomParams,
  useMatrixApp,
} from "../test/security-matrix.js";

/**
 * Every unsafe route a cookie can authenticate (back office and portal) refuses a request
 * without the session's CSRF token, or with another one, before doing anything else.
 */
const fx = useMatrixApp();

const cookieRoutes = () => fx.t.app.routeTable.filter((r) => isUnsafe(r) && r.access !== "public");

describe("CSRF", () => {
  it("refuses every unsafe cookie-authenticated route without the x-csrf-token header (403 csrf_failed)", async () => {
    const failures = new Failures();
    const routes = cookieRoutes();
    for (const r of routes) {
      const session = fx.m.session(r.access === "client" || r.access === "operator" ? r.access : "owner");
      const url = fillUrl(r.url, randomParams(r.url));
      for (const [what, headers] of [
        ["no header", {}],
        ["a wrong token", { [CSRF_HEADER]: "x".repeat(session.csrfToken.length) }],
        ["an empty token", { [CSRF_HEADER]: "" }],
      ] as const) {
        const res = await session.inject({
          method: r.method as "POST",
          url,
          payload: EMPTY_BODY,
          headers,
          csrf: false,
        });
        failures.check(
          r,
          res.statusCode === 403 && res.json().error?.code === "csrf_failed",
          () => `with ${what}: ${brief(res)}`,
        );
      }
    }
    expect(failures.list).toEqual([]);
    expect(routes.some((r) => r.access === "client")).toBe(true);
    expect(routes.some((r) => r.access !== "client")).toBe(true);
  });

  it("does not accept another session's CSRF token", async () => {
    const other = fx.m.session("admin");
    const res = await fx.m.session("owner").inject({
      method: "POST",
      url: "/api/admin/clients",
      payload: { name: "CSRF", email: "csrf@example.com" },
      headers: { [CSRF_HEADER]: other.csrfToken },
      csrf: false,
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe("csrf_failed");
    expect((await fx.m.session("owner").get("/api/admin/clients?q=csrf")).json().total).toBe(0);
  });

  it("needs no CSRF token with an API key (no cookie is involved)", async () => {
    const res = await fx.t.app.inject({
      method: "POST",
      url: "/api/admin/clients",
      headers: { authorization: `Bearer ${fx.m.keys.admin}` },
      payload: { name: "Key", email: "key@example.com" },
    });
    expect(res.statusCode).toBe(201);
  });
});
