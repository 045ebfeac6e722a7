import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { webDistDir } from "../../apps/server/src/http/web-routes.js";
import { createTestApp, type TestApp } from "../../apps/server/src/test/test-app.js";

/**
 * How the server serves the web build (no browser needed): a stand-in build in a temporary
 * WEB_DIST_DIR, and the "not built" page when there is none.
 */
describe("web routes", () => {
  const dir = mkdtempSync(join(tmpdir(), "psphub-web-dist-"));
  const saved = process.env.WEB_DIST_DIR;
  let t: TestApp | undefined;

  beforeAll(() => {
    mkdirSync(join(dir, "assets"));
    writeFileSync(join(dir, "admin.html"), "<!doctype html><title>admin</title>");
    writeFileSync(join(dir, "portal.html"), "<!doctype html><title>portal</title>");
    writeFileSync(join(dir, "operator.html"), "<!doctype html><title>operator</title>");
    writeFileSync(join(dir, "assets", "app-abc123.js"), "console.log(1)");
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
    if (saved === undefined) delete process.env.WEB_DIST_DIR;
    else process.env.WEB_DIST_DIR = saved;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("finds apps/web/dist from the server's own location by default", () => {
    expect(webDistDir({})).toBe(join(process.cwd(), "apps", "web", "dist"));
    expect(webDistDir({ WEB_DIST_DIR: dir })).toBe(dir);
  });

  it("serves the three apps with client-side route fallback, hashed assets cached, / to the back office", async () => {
    process.env.WEB_DIST_DIR = dir;
    t = await createTestApp();
    const get = (url: string) => t!.app.inject({ method: "GET", url });

    expect((await get("/")).headers.location).toBe("/admin/");
    for (const [url, title] of [
      ["/admin", "admin"],
      ["/admin/", "admin"],
      ["/admin/integrations/abc", "admin"],
      ["/portal", "portal"],
      ["/portal/deposits/xyz", "portal"],
      ["/operator", "operator"],
      ["/operator/callbacks", "operator"],
    ] as const) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(200);
      expect(res.headers["content-type"]).toMatch(/^text\/html/);
      expect(res.body).toContain(`<title>${title}</title>`);
      expect(res.headers["cache-control"]).toBe("no-cache");
      // helmet's CSP applies to the apps: scripts from this origin only.
      expect(res.headers["content-security-policy"]).toContain("script-src 'self'");
    }
    const asset = await get("/assets/app-abc123.js");
    expect(asset.statusCode).toBe(200);
    expect(asset.headers["cache-control"]).toContain("immutable");
    expect((await get("/assets/missing.js")).statusCode).toBe(404);
    expect((await get("/assets/../admin.html")).statusCode).not.toBe(200);
    // The API is untouched.
    expect((await get("/api/auth/me")).statusCode).toBe(401);
    expect((await get("/api/nope")).statusCode).toBe(404);
  });

  it("explains how to build when there is no build, and the API still works", async () => {
    process.env.WEB_DIST_DIR = join(dir, "does-not-exist");
    t = await createTestApp();
    const res = await t.app.inject({ method: "GET", url: "/portal/" });
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain("npm run build");
    expect((await t.app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
  });
});
