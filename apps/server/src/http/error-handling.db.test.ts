import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ConflictError, ValidationError } from "../common/errors.js";
import { createTestApp, type TestApp } from "../test/test-app.js";
import { testDbKind } from "../test/test-database.js";

// One error handler; 400 with field paths; JSON 404 for unknown routes; a 5xx
// never leaks internals; response schemas strip unlisted fields. The real app, plus a few test
// routes that fail on purpose, registered before it is ready.

const INTERNAL = 'relation "psp_integrations" violates constraint at /srv/psphub/src/secret-file.ts:42';
const INTERNAL_BODY = { error: { code: "internal", message: "Internal error" } };

function testRoutes(app: FastifyInstance): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const pub = { access: "public" as const };
  r.get("/test/throws", { config: pub }, async () => {
    throw new Error(INTERNAL);
  });
  r.get("/test/throws-sync", { config: pub }, () => {
    throw new TypeError(INTERNAL);
  });
  r.get("/test/rejects-non-error", { config: pub }, async () => {
    throw { message: INTERNAL, query: "select token_enc from psp_integrations" };
  });
  r.get("/test/db-error", { config: pub }, async () => {
    // A driver error carries SQL state, detail and the statement: none of it may reach a client.
    throw Object.assign(new Error(INTERNAL), {
      code: "23505",
      detail: "Key (token)=(abc) exists",
      severity: "ERROR",
    });
  });
  r.get("/test/server-status-error", { config: pub }, async () => {
    throw Object.assign(new Error(INTERNAL), { statusCode: 503 });
  });
  r.get(
    "/test/bad-response",
    { config: pub, schema: { response: { 200: z.object({ n: z.number() }) } } },
    // biome-ignore lint/suspicious/noExplicitAny: the point is a response that breaks its schema
    async () => ({ n: INTERNAL }) as any,
  );
  r.get(
    "/test/strips",
    {
      config: pub,
      schema: {
        response: {
          200: z.object({
            id: z.string(),
            nested: z.object({ name: z.string() }),
            list: z.array(z.object({ k: z.string() })),
          }),
        },
      },
    },
    async () =>
      ({
        id: "1",
        token: "secret-token",
        password_hash: "scrypt$…",
        nested: { name: "n", token_enc: "v1.secret" },
        list: [{ k: "a", secret: "s" }],
      }) as never,
  );
  r.post(
    "/test/validate",
    {
      config: pub,
      schema: {
        querystring: z.object({ limit: z.coerce.number().int().max(10).optional() }),
        body: z.object({ name: z.string().min(1), items: z.array(z.object({ code: z.string().length(3) })) }),
      },
    },
    async () => ({ ok: true }),
  );
  r.post("/test/app-errors/:kind", { config: pub }, async (req) => {
    const kind = (req.params as { kind: string }).kind;
    if (kind === "validation")
      throw new ValidationError("The thing is invalid", [{ path: "a.b", message: "is bad" }]);
    throw new ConflictError("It changed meanwhile", "busy");
  });
}

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ extraRoutes: testRoutes });
});
afterAll(async () => t?.close());

const get = (url: string) => t.app.inject({ method: "GET", url });

describe("5xx never leaks internals", () => {
  it.each([
    "/test/throws",
    "/test/throws-sync",
    "/test/rejects-non-error",
    "/test/db-error",
    "/test/server-status-error",
    "/test/bad-response",
  ])("%s answers a bare 500 JSON body, and the log keeps the details for operators", async (url) => {
    const logged = t.logs.length;
    const res = await get(url);
    expect(res.statusCode).toBe(500);
    expect(res.headers["content-type"]).toContain("application/json");
    expect(res.json()).toEqual(INTERNAL_BODY);
    for (const leak of ["psp_integrations", "secret-file", "select", "23505", "token", "stack", "Error"]) {
      expect(res.body).not.toContain(leak);
    }
    const lines = t.logs.slice(logged).join("");
    expect(lines).toContain('"level":50');
  });
});

describe("client errors", () => {
  it("answers schema failures with 400 and a field path and message per issue", async () => {
    const res = await t.app.inject({
      method: "POST",
      url: "/test/validate",
      payload: { name: "", items: [{ code: "USD" }, { code: "EURO" }] },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe("validation_failed");
    const issues = res.json().error.issues as { path: string; message: string }[];
    expect(issues.map((i) => i.path).sort()).toEqual(["body.items.1.code", "body.name"]);
    for (const i of issues) expect(i.message.length).toBeGreaterThan(3);
    const query = await t.app.inject({
      method: "POST",
      url: "/test/validate?limit=11",
      payload: { name: "n", items: [] },
    });
    expect(query.statusCode).toBe(400);
    expect(query.json().error.issues.map((i: { path: string }) => i.path)).toEqual(["querystring.limit"]);
  });

  it("maps use-case errors to their status with the same envelope", async () => {
    const v = await t.app.inject({ method: "POST", url: "/test/app-errors/validation" });
    expect(v.statusCode).toBe(400);
    expect(v.json()).toEqual({
      error: {
        code: "validation_failed",
        message: "The thing is invalid",
        issues: [{ path: "a.b", message: "is bad" }],
      },
    });
    const c = await t.app.inject({ method: "POST", url: "/test/app-errors/conflict" });
    expect(c.statusCode).toBe(409);
    expect(c.json()).toEqual({ error: { code: "busy", message: "It changed meanwhile" } });
  });

  it("answers a body that is not JSON with 400 in the same envelope", async () => {
    const res = await t.app.inject({
      method: "POST",
      url: "/test/validate",
      headers: { "content-type": "application/json" },
      payload: '{"name":',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe("bad_request");
  });

  it("answers unknown routes, of any method and under any prefix, with JSON 404", async () => {
    for (const [method, url] of [
      ["GET", "/api/nope"],
      ["POST", "/api/admin/nope"],
      ["DELETE", "/api/portal/deposits"],
      ["GET", "/nope?token=abc"],
    ] as const) {
      const res = await t.app.inject({ method, url });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.headers["content-type"]).toContain("application/json");
      expect(res.json()).toEqual({
        error: { code: "route_not_found", message: `No route for ${method} ${url.split("?")[0]}` },
      });
    }
  });
});

describe("response schemas", () => {
  it("strip every field they do not list, at any depth", async () => {
    const res = await get("/test/strips");
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ id: "1", nested: { name: "n" }, list: [{ k: "a" }] });
    expect(res.body).not.toContain("secret");
  });

  it("are declared for every 2xx answer of every API route (so no route can leak a column)", async () => {
    const doc = (await get("/openapi.json")).json();
    const missing: string[] = [];
    for (const [path, ops] of Object.entries(
      doc.paths as Record<string, Record<string, { responses?: Record<string, { content?: unknown }> }>>,
    )) {
      if (!path.startsWith("/api/")) continue;
      for (const [method, op] of Object.entries(ops)) {
        const ok = Object.entries(op.responses ?? {}).filter(([code]) => code.startsWith("2"));
        const described = ok.some(([code, r]) => code === "204" || r.content !== undefined);
        // A server-sent event stream has no JSON body to strip.
        if (!described && !path.endsWith("/events")) missing.push(`${method.toUpperCase()} ${path}`);
      }
    }
    expect(missing).toEqual([]);
  });
});

describe("readiness", () => {
  it("answers /readyz 503 once the database is gone, while /healthz stays 200", async () => {
    const ready = await get("/readyz");
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: "ready", database: testDbKind() });
    await t.closeDatabase();
    const down = await get("/readyz");
    expect(down.statusCode).toBe(503);
    expect(down.json()).toEqual({ status: "unavailable", database: testDbKind() });
    expect((await get("/healthz")).statusCode).toBe(200);
  });
});
