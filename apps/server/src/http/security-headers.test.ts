import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import Fastify from "fastify";
import helmet, { type HelmetOptions } from "helmet";
import { afterAll, describe, expect, it } from "vitest";
import { computeSecurityHeaders, registerSecurityHeaders } from "./security-headers.js";

const OPTIONS: HelmetOptions = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      imgSrc: ["'self'", "data:"],
      frameAncestors: ["'none'"],
      upgradeInsecureRequests: null,
    },
  },
};

/** The headers helmet itself puts on a real node:http response, per request. */
async function headersFromHelmet(options: HelmetOptions): Promise<Record<string, string>> {
  const mw = helmet(options);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    res.setHeader("x-powered-by", "something");
    mw(req, res, () => res.end("ok"));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    return Object.fromEntries(res.headers);
  } finally {
    server.close();
  }
}

function appWithHeaders() {
  const app = Fastify();
  registerSecurityHeaders(app, OPTIONS);
  app.get("/page", async () => "page");
  app.post("/machine", { config: { securityHeaders: false } }, async (_req, reply) =>
    reply.status(204).send(),
  );
  app.get("/own-csp", async (_req, reply) =>
    reply.header("content-security-policy", "default-src 'none'").send("x"),
  );
  return app;
}

describe("security headers, worked out once", () => {
  const app = appWithHeaders();
  afterAll(() => app.close());

  it("are exactly the ones helmet sets per request, with X-Powered-By removed", async () => {
    const expected = await headersFromHelmet(OPTIONS);
    const res = await app.inject({ method: "GET", url: "/page" });
    const helmetNames = computeSecurityHeaders(OPTIONS).set.map(([n]) => n.toLowerCase());
    expect(helmetNames.length).toBeGreaterThanOrEqual(10);
    for (const name of helmetNames) expect(res.headers[name], name).toBe(expected[name]);
    expect(expected["x-powered-by"]).toBeUndefined();
    expect(computeSecurityHeaders(OPTIONS).remove.map((n) => n.toLowerCase())).toContain("x-powered-by");
    expect(res.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(res.headers["x-frame-options"]).toBe("SAMEORIGIN");
  });

  it("are on answers that no route produced (404) too", async () => {
    const res = await app.inject({ method: "GET", url: "/nowhere" });
    expect(res.statusCode).toBe(404);
    expect(res.headers["content-security-policy"]).toContain("default-src 'self'");
  });

  it("are left off a route marked securityHeaders: false", async () => {
    const res = await app.inject({ method: "POST", url: "/machine" });
    expect(res.statusCode).toBe(204);
    expect(res.headers["content-security-policy"]).toBeUndefined();
    expect(res.headers["x-content-type-options"]).toBeUndefined();
  });

  it("can be replaced by a route", async () => {
    const res = await app.inject({ method: "GET", url: "/own-csp" });
    expect(res.headers["content-security-policy"]).toBe("default-src 'none'");
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
  });

  it("refuse options helmet refuses, and per-request directives, at start-up", () => {
    expect(() =>
      computeSecurityHeaders({ contentSecurityPolicy: { directives: { defaultSrc: ["self"] } } }),
    ).toThrow();
    expect(() =>
      computeSecurityHeaders({
        contentSecurityPolicy: { directives: { scriptSrc: ["'self'", () => "'nonce-x'"] } },
      }),
    ).toThrow(/function/);
  });
});
