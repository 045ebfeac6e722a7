import { afterAll, beforeAll, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../test/test-app.js";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t?.close());

it("documents every API route in /openapi.json, and serves the docs UI", async () => {
  const doc = (await t.app.inject({ method: "GET", url: "/openapi.json" })).json();
  const documented = new Set<string>();
  for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
    for (const method of Object.keys(ops))
      documented.add(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ":$1")}`);
  }
  const missing = t.app.routeTable
    .filter((r) => r.url.startsWith("/api/") || ["/healthz", "/readyz", "/metrics"].includes(r.url))
    .map((r) => `${r.method} ${r.url}`)
    .filter((r) => !documented.has(r));
  expect(missing).toEqual([]);
  const ui = await t.app.inject({ method: "GET", url: "/docs/" });
  expect(ui.statusCode).toBe(200);
  expect(ui.headers["content-type"]).toContain("text/html");
});

it("documents the API-2 callback: its header, both body encodings and every answer", async () => {
  const doc = (await t.app.inject({ method: "GET", url: "/openapi.json" })).json();
  const op = doc.paths["/api/psp/pay/callback"].post;
  expect(op.parameters).toContainEqual(
    expect.objectContaining({ in: "header", name: "crm-pay-token", required: true }),
  );
  expect(Object.keys(op.requestBody.content).sort()).toEqual([
    "application/json",
    "application/x-www-form-urlencoded",
  ]);
  expect(op.requestBody.content["application/json"].schema.required).toContain("sign");
  expect(Object.keys(op.responses).sort()).toEqual(["204", "400", "408", "413", "429", "500"]);
  for (const status of ["400", "413", "429", "500"]) {
    expect(op.responses[status].content["application/json"].schema.required).toEqual([
      "error",
      "code",
      "type",
    ]);
  }
  expect(op.responses["429"].headers).toHaveProperty("retry-after");
});
