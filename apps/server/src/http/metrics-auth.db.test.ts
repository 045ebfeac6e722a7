import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../test/test-app.js";

// /metrics shows counts of every tenant; with METRICS_TOKEN set it answers
// only `Authorization: Bearer <METRICS_TOKEN>`. /docs and the probes stay public.

const TOKEN = randomBytes(24).toString("base64url");
let t: TestApp;
let open: TestApp;
beforeAll(async () => {
  t = await createTestApp({ env: { METRICS_TOKEN: TOKEN } });
  open = await createTestApp();
});
afterAll(async () => {
  await t?.close();
  await open?.close();
});

const metrics = (app: TestApp, authorization?: string) =>
  app.app.inject({
    method: "GET",
    url: "/metrics",
    headers: authorization === undefined ? {} : { authorization },
  });

describe("/metrics with METRICS_TOKEN", () => {
  it("answers the bearer of the token with the Prometheus text", async () => {
    const res = await metrics(t, `Bearer ${TOKEN}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/plain/);
    expect(res.body).toContain("# TYPE");
  });

  it("answers 401, without any metric, to no token, another token, another scheme or a token without its scheme", async () => {
    for (const authorization of [
      undefined,
      "",
      "Bearer",
      "Bearer ",
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(0, -1)}`,
      `Basic ${Buffer.from(`x:${TOKEN}`).toString("base64")}`,
      TOKEN,
      `Bearer  ${TOKEN}`,
      `Token ${TOKEN}`,
    ]) {
      const res = await metrics(t, authorization);
      expect({ authorization, status: res.statusCode }).toEqual({ authorization, status: 401 });
      expect(res.body).not.toContain("# TYPE");
      expect(res.headers["www-authenticate"]).toBe("Bearer");
    }
  });

  it("answers 401 to any other Authorization value", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 80 }), async (value) => {
        fc.pre(value !== `Bearer ${TOKEN}` && !/[\r\n\0]/.test(value));
        expect((await metrics(t, value)).statusCode).toBe(401);
      }),
      { numRuns: 100 },
    );
  });

  it("leaves /docs, /openapi.json and the probes public", async () => {
    for (const url of ["/docs/", "/openapi.json", "/healthz", "/readyz"])
      expect({ url, status: (await t.app.inject({ method: "GET", url })).statusCode }).toEqual({
        url,
        status: 200,
      });
  });
});

describe("/metrics without METRICS_TOKEN", () => {
  it("stays open, as before (a local SQLite server, the bench)", async () => {
    expect((await metrics(open)).statusCode).toBe(200);
  });
});
