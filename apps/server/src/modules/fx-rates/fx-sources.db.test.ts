import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixedClock } from "../../common/clock.js";
import { insertPaymentSetup } from "../../test/payment-fixtures.js";
import { createTestApp, seedTenant, type TestApp } from "../../test/test-app.js";

const T0 = Date.UTC(2026, 0, 10, 9, 0, 0);
const clock = fixedClock(T0);
const BASE = "/api/admin/fx/sources";

let t: TestApp;
type Seeded = Awaited<ReturnType<typeof seedTenant>>;
let a: Seeded;
let b: Seeded;

beforeAll(async () => {
  t = await createTestApp({ clock });
  a = await seedTenant(t);
  b = await seedTenant(t);
});
afterAll(async () => t?.close());

const external = (over: Record<string, unknown> = {}) => ({
  kind: "external",
  name: "Rates Inc",
  url: "https://rates.example.com/v1/rate",
  ...over,
});

async function createManual(s: Seeded = a, name = "Desk") {
  const res = await s.owner.post(BASE, { kind: "manual", name, ttlSeconds: 3600 });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().source.id as string;
}

const auditRows = (action: string, targetId: string) =>
  t.ctx.db
    .selectFrom("audit_log")
    .selectAll()
    .where("action", "=", action)
    .where("target_id", "=", targetId)
    .execute();

const issues = (body: string) => JSON.parse(body).error.issues as { path: string; message: string }[];

describe("rate sources", () => {
  it("creates an external source: the key once, no-store, sealed at rest, audited without it", async () => {
    const res = await a.owner.post(BASE, external());
    expect(res.statusCode, res.body).toBe(201);
    expect(res.headers["cache-control"]).toBe("no-store");
    const { source, key } = res.json();
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(source).toEqual({
      id: expect.any(String),
      kind: "external",
      name: "Rates Inc",
      url: "https://rates.example.com/v1/rate",
      keyLast4: key.slice(-4),
      timeoutMs: 3000,
      ttlSeconds: 300,
      pairs: 0,
      alert: null,
      createdAt: T0,
      updatedAt: T0,
    });
    const row = await t.ctx.db
      .selectFrom("fx_sources")
      .selectAll()
      .where("id", "=", source.id)
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(key);
    expect(t.ctx.secretBox.open(row.key_enc!)).toBe(key);

    const list = await a.viewer.get(BASE);
    expect(list.statusCode).toBe(200);
    expect(list.body).not.toContain(key);
    expect(list.json().items.map((s: { id: string }) => s.id)).toContain(source.id);

    const [rec] = await auditRows("fx_source.create", source.id);
    expect(rec).toBeDefined();
    expect(JSON.stringify(rec)).not.toContain(key);
    expect(JSON.parse(rec!.after!)).toMatchObject({
      name: "Rates Inc",
      kind: "external",
      keyLast4: key.slice(-4),
    });
    expect(t.logs.join("\n")).not.toContain(key);
  });

  it("regenerates the key: a new one, shown once, the old one gone from the row", async () => {
    const created = (await a.owner.post(BASE, external({ name: "Rotating" }))).json();
    const res = await a.owner.post(`${BASE}/${created.source.id}/key`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers["cache-control"]).toBe("no-store");
    const { key } = res.json();
    expect(key).not.toBe(created.key);
    const row = await t.ctx.db
      .selectFrom("fx_sources")
      .selectAll()
      .where("id", "=", created.source.id)
      .executeTakeFirstOrThrow();
    expect(t.ctx.secretBox.open(row.key_enc!)).toBe(key);
    expect(row.key_last4).toBe(key.slice(-4));
    const [rec] = await auditRows("fx_source.regenerate_key", created.source.id);
    expect(JSON.stringify(rec)).not.toContain(key);
    // Only an owner/admin with settings:rotate; a manual source has no key.
    expect((await a.finance.post(`${BASE}/${created.source.id}/key`)).statusCode).toBe(403);
    const manualId = await createManual(a, "No key");
    expect((await a.owner.post(`${BASE}/${manualId}/key`)).statusCode).toBe(409);
  });

  it("validates with readable messages", async () => {
    const noName = await a.owner.post(BASE, { kind: "manual", name: "" });
    expect(noName.statusCode).toBe(400);
    const http = await a.owner.post(BASE, external({ url: "http://rates.example.com/" }));
    expect(http.statusCode).toBe(400);
    expect(issues(http.body)).toEqual([{ path: "url", message: "The URL must use https" }]);
    const loopback = await a.owner.post(BASE, external({ url: "https://127.0.0.1/rate" }));
    expect(loopback.statusCode).toBe(400);
    expect(issues(loopback.body)[0]!.message).toMatch(/loopback|not allowed/);
    const timeout = await a.owner.post(BASE, external({ timeoutMs: 50 }));
    expect(timeout.statusCode).toBe(400);
    const ttl = await a.owner.post(BASE, external({ ttlSeconds: 100_000 }));
    expect(ttl.statusCode).toBe(400);
    expect((await a.owner.post(BASE, { kind: "manual", name: "x".repeat(101) })).statusCode).toBe(400);
  });

  it("updates name, URL, timeout and TTL, audited with before and after", async () => {
    const { source } = (await a.owner.post(BASE, external({ name: "Old" }))).json();
    clock.advance(1000);
    const res = await a.admin.put(`${BASE}/${source.id}`, {
      name: "New",
      url: "https://rates2.example.com/",
      timeoutMs: 1500,
      ttlSeconds: 60,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().source).toMatchObject({
      name: "New",
      url: "https://rates2.example.com",
      timeoutMs: 1500,
      ttlSeconds: 60,
      updatedAt: T0 + 1000,
    });
    const [rec] = await auditRows("fx_source.update", source.id);
    expect(JSON.parse(rec!.before!)).toMatchObject({ name: "Old", ttlSeconds: 300 });
    expect(JSON.parse(rec!.after!)).toMatchObject({ name: "New", ttlSeconds: 60 });
  });

  it("keeps manual rates: normalized text, markup, the pair count, and the rules", async () => {
    const id = await createManual(a, "Rates desk");
    const put = await a.owner.put(`${BASE}/${id}/rates/EUR/USD`, { rate: "1.07810", markupBps: 150 });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json()).toEqual({
      from: "EUR",
      to: "USD",
      rate: "1.0781",
      markupBps: 150,
      updatedAt: expect.any(Number),
      updatedBy: a.owner.me.id,
    });
    const again = await a.owner.put(`${BASE}/${id}/rates/EUR/USD`, { rate: "1.08", markupBps: 0 });
    expect(again.json().rate).toBe("1.08");
    await a.owner.put(`${BASE}/${id}/rates/GBP/USD`, { rate: "1.265", markupBps: 0 });
    const rates = (await a.viewer.get(`${BASE}/${id}/rates`)).json().items;
    expect(
      rates.map((r: { from: string; to: string; rate: string }) => `${r.from}/${r.to}=${r.rate}`),
    ).toEqual(["EUR/USD=1.08", "GBP/USD=1.265"]);
    const list = (await a.owner.get(BASE)).json().items;
    expect(list.find((s: { id: string }) => s.id === id).pairs).toBe(2);
    const sets = await auditRows("fx_rate.set", id);
    expect(sets).toHaveLength(3);

    const bad = async (path: string, body: unknown) => {
      const res = await a.owner.put(`${BASE}/${id}/rates/${path}`, body);
      expect(res.statusCode, res.body).toBe(400);
      return res.json().error;
    };
    expect((await bad("EUR/EUR", { rate: "1", markupBps: 0 })).issues[0].message).toBe(
      "A pair needs two different currencies",
    );
    expect((await bad("EUR/USD", { rate: "1.5e3", markupBps: 0 })).issues[0].message).toMatch(
      /plain decimal/,
    );
    expect((await bad("EUR/USD", { rate: "0", markupBps: 0 })).issues[0].message).toMatch(/greater than 0/);
    expect((await bad("EUR/USD", { rate: "1.23456789012345", markupBps: 0 })).issues[0].message).toMatch(
      /12 significant/,
    );
    await bad("EUR/USD", { rate: "1", markupBps: 5001 });
    await bad("eur/USD", { rate: "1", markupBps: 0 });

    expect((await a.owner.delete(`${BASE}/${id}/rates/GBP/USD`)).statusCode).toBe(204);
    expect((await a.owner.delete(`${BASE}/${id}/rates/GBP/USD`)).statusCode).toBe(404);
    expect(await auditRows("fx_rate.delete", id)).toHaveLength(1);
  });

  it("refuses writes to viewer and finance", async () => {
    const id = await createManual();
    for (const s of [a.viewer, a.finance]) {
      expect((await s.post(BASE, { kind: "manual", name: "X" })).statusCode).toBe(403);
      expect((await s.put(`${BASE}/${id}`, { name: "X" })).statusCode).toBe(403);
      expect((await s.delete(`${BASE}/${id}`)).statusCode).toBe(403);
      expect((await s.put(`${BASE}/${id}/rates/EUR/USD`, { rate: "1", markupBps: 0 })).statusCode).toBe(403);
      expect((await s.get(BASE)).statusCode).toBe(200);
    }
  });

  it("answers 404 for another tenant's source, on every route", async () => {
    const id = await createManual(a, "Private");
    await a.owner.put(`${BASE}/${id}/rates/EUR/USD`, { rate: "1.1", markupBps: 0 });
    expect((await b.owner.put(`${BASE}/${id}`, { name: "Mallory" })).statusCode).toBe(404);
    expect((await b.owner.delete(`${BASE}/${id}`)).statusCode).toBe(404);
    expect((await b.owner.get(`${BASE}/${id}/rates`)).statusCode).toBe(404);
    expect((await b.owner.put(`${BASE}/${id}/rates/EUR/USD`, { rate: "9", markupBps: 0 })).statusCode).toBe(
      404,
    );
    expect((await b.owner.delete(`${BASE}/${id}/rates/EUR/USD`)).statusCode).toBe(404);
    expect((await b.owner.post(`${BASE}/${id}/test`, { from: "EUR", to: "USD" })).statusCode).toBe(404);
    expect((await b.owner.post(`${BASE}/${id}/key`)).statusCode).toBe(404);
    expect((await b.owner.get(BASE)).json().items.map((s: { id: string }) => s.id)).not.toContain(id);
    const rates = (await a.owner.get(`${BASE}/${id}/rates`)).json().items;
    expect(rates).toEqual([expect.objectContaining({ rate: "1.1" })]);
  });

  it("deletes softly, refused with 409 fx_source_in_use while a method's conversion names it", async () => {
    const id = await createManual(a, "Used");
    const setup = await insertPaymentSetup(t.ctx, a.tenantId);
    const currencies = JSON.stringify([
      {
        code: "EUR",
        conversion: {
          account: "USD",
          account_decimals: 2,
          rules: [{ group: null, source_id: id, markup_bps: 0 }],
        },
      },
    ]);
    await t.ctx.db
      .updateTable("deposit_methods")
      .set({ name: "Cards EU", currencies })
      .where("id", "=", setup.methodId)
      .execute();
    const refused = await a.owner.delete(`${BASE}/${id}`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toMatchObject({ code: "fx_source_in_use" });
    expect(refused.json().error.message).toContain("Cards EU");

    await t.ctx.db
      .updateTable("deposit_methods")
      .set({ deleted_at: T0 })
      .where("id", "=", setup.methodId)
      .execute();
    expect((await a.owner.delete(`${BASE}/${id}`)).statusCode).toBe(204);
    const row = await t.ctx.db
      .selectFrom("fx_sources")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirstOrThrow();
    expect(row.deleted_at).not.toBeNull();
    expect((await a.owner.get(BASE)).json().items.map((s: { id: string }) => s.id)).not.toContain(id);
    expect((await a.owner.get(`${BASE}/${id}/rates`)).statusCode).toBe(404);
    expect(await auditRows("fx_source.delete", id)).toHaveLength(1);
  });

  it("tests a manual source: the rate, or why not", async () => {
    const id = await createManual(a, "Testable");
    await a.owner.put(`${BASE}/${id}/rates/EUR/USD`, { rate: "1.0781", markupBps: 0 });
    const ok = await a.viewer.post(`${BASE}/${id}/test`, { from: "EUR", to: "USD" });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ ok: true, rate: "1.0781", rateTime: clock.now() });
    const missing = await a.viewer.post(`${BASE}/${id}/test`, { from: "USD", to: "EUR" });
    expect(missing.json()).toMatchObject({ ok: false, reason: "no_rate" });
    clock.advance(3_600_000);
    const stale = await a.viewer.post(`${BASE}/${id}/test`, { from: "EUR", to: "USD" });
    expect(stale.json()).toMatchObject({ ok: false, reason: "stale" });
  });
});
