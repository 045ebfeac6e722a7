import { type RunningSim, startSim } from "@psphub/psp-sim";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createTestApp, seedTenant, type TestApp } from "../../test/test-app.js";
import { createRateLookup, type RateLookup } from "./rate-lookup.js";

// The lookup against the real simulator's exchange-rate API on loopback (allowed here by
// allowPrivateAppUrls). `now` is passed explicitly and the simulator's answer time is ours too,
// so TTLs are crossed by arithmetic, never by waiting.

const BASE = "/api/admin/fx/sources";
const T = Date.UTC(2026, 5, 1, 12, 0, 0);
let simNow = T;

let t: TestApp;
let sim: RunningSim;
type Seeded = Awaited<ReturnType<typeof seedTenant>>;
let a: Seeded;
let b: Seeded;

beforeAll(async () => {
  t = await createTestApp({ configOverrides: { allowPrivateAppUrls: true } });
  a = await seedTenant(t);
  b = await seedTenant(t);
  sim = await startSim({
    port: 0,
    callbackUrl: "http://127.0.0.1:9",
    token: "unused-token-0123456789",
    slowMs: 30_000,
    log: () => {},
    fx: { now: () => simNow },
  });
});
afterAll(async () => {
  await sim?.close();
  await t?.close();
});

/** A fresh lookup (an empty cache) of the test app's database and guarded client. */
const lookup = (): RateLookup =>
  createRateLookup({
    db: t.ctx.db,
    secretBox: t.ctx.secretBox,
    httpOut: t.ctx.httpOut,
    logger: t.ctx.logger,
  });

/** An external source on the simulator; the simulator then wants its key. */
async function externalSource(over: Record<string, unknown> = {}) {
  const res = await a.owner.post(BASE, {
    kind: "external",
    name: "Sim rates",
    url: `${sim.url}/fx/rate`,
    ttlSeconds: 300,
    ...over,
  });
  expect(res.statusCode, res.body).toBe(201);
  const { source, key } = res.json();
  sim.sim.fx.setKey(key);
  return source.id as string;
}

const eurUsd = (sourceId: string, tenantId = a.tenantId) => ({ tenantId, sourceId, from: "EUR", to: "USD" });

async function openAlerts(sourceId: string) {
  return t.ctx.db
    .selectFrom("alerts")
    .selectAll()
    .where("integration_id", "=", sourceId)
    .where("kind", "=", "fx_rate_stale")
    .where("status", "=", "open")
    .execute();
}

function reset(mode: Parameters<RunningSim["sim"]["fx"]["setMode"]>[0] = null) {
  sim.sim.fx.setMode(mode);
  sim.sim.fx.setRate("EUR", "USD", "1.0781");
  simNow = T;
}

describe("external rate sources, against the simulator", () => {
  it("fetches a rate, then serves it from the cache until half its TTL", async () => {
    reset();
    const id = await externalSource();
    const fx = lookup();
    const before = sim.sim.fx.requests();
    const answer = await fx.rateFor(eurUsd(id), T + 1_000);
    expect(answer).toEqual({
      ok: true,
      rate: "1.0781",
      rateTime: T,
      validUntil: T + 300_000,
      sourceKind: "external",
      sourceId: id,
      sourceName: "Sim rates",
      pairMarkupBps: 0,
    });
    expect(sim.sim.fx.requests()).toBe(before + 1);
    for (const at of [T + 2_000, T + 60_000, T + 149_000])
      expect(await fx.rateFor(eurUsd(id), at)).toMatchObject({ ok: true, rateTime: T });
    expect(sim.sim.fx.requests()).toBe(before + 1);
  });

  it("makes one call for 50 concurrent deposits (single flight)", async () => {
    reset();
    const id = await externalSource();
    const fx = lookup();
    const before = sim.sim.fx.requests();
    const answers = await Promise.all(Array.from({ length: 50 }, () => fx.rateFor(eurUsd(id), T + 500)));
    expect(answers.every((x) => x.ok && x.rate === "1.0781")).toBe(true);
    expect(sim.sim.fx.requests()).toBe(before + 1);
  });

  it("refreshes once in the background past half the TTL, and waits for a fetch past the TTL", async () => {
    reset();
    const id = await externalSource();
    const fx = lookup();
    const before = sim.sim.fx.requests();
    await fx.rateFor(eurUsd(id), T);
    simNow = T + 160_000;
    sim.sim.fx.setRate("EUR", "USD", "1.0790");
    // Past half: the cached rate still answers, one refresh runs behind it.
    // The call that starts the refresh does not wait for it.
    expect(await fx.rateFor(eurUsd(id), T + 160_000)).toMatchObject({ ok: true, rate: "1.0781" });
    // Concurrent calls meanwhile start no other refresh (they get the old or the new rate).
    const again = await Promise.all([1, 2, 3].map(() => fx.rateFor(eurUsd(id), T + 160_000)));
    expect(again.every((x) => x.ok)).toBe(true);
    await vi.waitFor(() => expect(sim.sim.fx.requests()).toBe(before + 2));
    await vi.waitFor(async () =>
      expect(await fx.rateFor(eurUsd(id), T + 161_000)).toMatchObject({
        rate: "1.079",
        rateTime: T + 160_000,
      }),
    );
    // Past that rate's TTL: the request waits for a new one.
    simNow = T + 500_000;
    sim.sim.fx.setRate("EUR", "USD", "1.0800");
    expect(await fx.rateFor(eurUsd(id), T + 500_000)).toMatchObject({
      ok: true,
      rate: "1.08",
      validUntil: T + 800_000,
    });
    expect(sim.sim.fx.requests()).toBe(before + 3);
    sim.sim.fx.setRate("EUR", "USD", "1.0781");
  });

  it("keeps a still-valid cached rate when a refresh fails", async () => {
    reset();
    const id = await externalSource();
    const fx = lookup();
    await fx.rateFor(eurUsd(id), T);
    sim.sim.fx.setMode("failing");
    const before = sim.sim.fx.requests();
    expect(await fx.rateFor(eurUsd(id), T + 200_000)).toMatchObject({ ok: true, rate: "1.0781" });
    await vi.waitFor(() => expect(sim.sim.fx.requests()).toBe(before + 1));
    expect(await fx.rateFor(eurUsd(id), T + 250_000)).toMatchObject({ ok: true, rate: "1.0781" });
    expect(await fx.rateFor(eurUsd(id), T + 300_000)).toMatchObject({ ok: false, reason: "unavailable" });
  });

  for (const [mode, reason] of [
    ["failing", "unavailable"],
    ["garbage", "unavailable"],
    ["stale", "stale"],
  ] as const) {
    it(`refuses when the API is ${mode} (${reason}), with a message naming only the pair`, async () => {
      reset(mode);
      const id = await externalSource();
      const answer = await lookup().rateFor(eurUsd(id), T);
      expect(answer).toEqual({
        ok: false,
        reason,
        message: "The EUR → USD exchange rate is not available right now. Try again in a few minutes.",
      });
    });
  }

  it("refuses a slow API past the source's timeout", async () => {
    reset("slow");
    const id = await externalSource({ timeoutMs: 200 });
    expect(await lookup().rateFor(eurUsd(id), T)).toMatchObject({ ok: false, reason: "unavailable" });
    reset();
  });

  it("refuses when the key is wrong (the simulator answers 401), never logging the key", async () => {
    reset();
    const res = await a.owner.post(BASE, { kind: "external", name: "Keyed", url: `${sim.url}/fx/rate` });
    const { source, key } = res.json();
    sim.sim.fx.setKey("some other key");
    expect(await lookup().rateFor(eurUsd(source.id), T)).toMatchObject({ ok: false, reason: "unavailable" });
    expect(t.logs.join("\n")).toContain("exchange-rate API call failed");
    expect(t.logs.join("\n")).not.toContain(key);
  });

  it("opens the source's fx_rate_stale alert on a refusal and resolves it with the next good rate", async () => {
    reset("failing");
    const id = await externalSource();
    const fx = lookup();
    expect((await fx.rateFor(eurUsd(id), T)).ok).toBe(false);
    const [alert] = await openAlerts(id);
    expect(alert).toMatchObject({ tenant_id: a.tenantId, kind: "fx_rate_stale" });
    const listed = (await a.owner.get(BASE)).json().items.find((s: { id: string }) => s.id === id);
    expect(listed.alert).toEqual({ id: alert!.id, openedAt: T });
    const alerts = (await a.viewer.get("/api/admin/alerts?status=open")).json().items;
    expect(alerts.find((x: { id: string }) => x.id === alert!.id)).toMatchObject({
      kind: "fx_rate_stale",
      integrationId: id,
      subject: { kind: "rate_source", id, name: "Sim rates" },
    });

    sim.sim.fx.setMode(null);
    simNow = T + 10_000;
    expect(await fx.rateFor(eurUsd(id), T + 10_000)).toMatchObject({ ok: true });
    expect(await openAlerts(id)).toEqual([]);
  });

  it("the Test action calls the API live: the rate, or the reason", async () => {
    reset();
    simNow = Date.now();
    const id = await externalSource();
    const ok = await a.owner.post(`${BASE}/${id}/test`, { from: "GBP", to: "USD" });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({
      ok: true,
      rate: "1.265",
      rateTime: simNow,
      latencyMs: expect.any(Number),
    });
    sim.sim.fx.setMode("failing");
    const failed = await a.owner.post(`${BASE}/${id}/test`, { from: "GBP", to: "USD" });
    expect(failed.json()).toMatchObject({ ok: false, reason: "http_status_500" });
    expect(failed.body).not.toContain(sim.url);
    reset();
  });
});

describe("manual rate sources", () => {
  async function manual(s: Seeded, ttlSeconds: number | null) {
    const res = await s.owner.post(BASE, { kind: "manual", name: "Desk", ttlSeconds });
    const id = res.json().source.id as string;
    const put = await s.owner.put(`${BASE}/${id}/rates/EUR/USD`, { rate: "1.0781", markupBps: 120 });
    return { id, updatedAt: put.json().updatedAt as number };
  }

  it("answers the pair's row while fresh, stale past the TTL", async () => {
    const { id, updatedAt } = await manual(a, 3600);
    const fx = lookup();
    expect(await fx.rateFor(eurUsd(id), updatedAt + 1_000)).toEqual({
      ok: true,
      rate: "1.0781",
      rateTime: updatedAt,
      validUntil: updatedAt + 3_600_000,
      sourceKind: "manual",
      sourceId: id,
      sourceName: "Desk",
      pairMarkupBps: 120,
    });
    expect(await fx.rateFor(eurUsd(id), updatedAt + 3_600_000)).toMatchObject({ ok: false, reason: "stale" });
    expect(await openAlerts(id)).toHaveLength(1);
  });

  it("never goes stale without a TTL; no implicit inverse pair", async () => {
    const { id, updatedAt } = await manual(a, null);
    const fx = lookup();
    expect(await fx.rateFor(eurUsd(id), updatedAt + 10 * 365 * 86_400_000)).toMatchObject({
      ok: true,
      validUntil: null,
    });
    expect(await fx.rateFor({ ...eurUsd(id), from: "USD", to: "EUR" }, updatedAt)).toMatchObject({
      ok: false,
      reason: "no_rate",
    });
  });

  it("refuses a deleted source and another tenant's source", async () => {
    const { id, updatedAt } = await manual(a, null);
    const fx = lookup();
    expect(await fx.rateFor(eurUsd(id, b.tenantId), updatedAt)).toMatchObject({
      ok: false,
      reason: "source_not_found",
    });
    expect((await fx.rateFor(eurUsd(id), updatedAt)).ok).toBe(true);
    expect((await a.owner.delete(`${BASE}/${id}`)).statusCode).toBe(204);
    // The app's own lookup forgets the source at once; a fresh one reads the deleted row.
    expect(await t.ctx.fxRates.rateFor(eurUsd(id), updatedAt)).toMatchObject({ reason: "source_not_found" });
    expect(await lookup().rateFor(eurUsd(id), updatedAt)).toMatchObject({ reason: "source_not_found" });
  });
});

describe("without allowPrivateAppUrls", () => {
  it("refuses a loopback URL at save time and at call time", async () => {
    const strict = await createTestApp();
    try {
      const s = await seedTenant(strict);
      const res = await s.owner.post(BASE, {
        kind: "external",
        name: "Local",
        url: `${sim.url.replace("http:", "https:")}/fx/rate`,
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.issues[0].path).toBe("url");
      // A row saved while private addresses were allowed is still refused when called.
      await strict.ctx.db
        .insertInto("fx_sources")
        .values({
          id: "fx-local",
          tenant_id: s.tenantId,
          kind: "external",
          name: "Local",
          url: `${sim.url}/fx/rate`,
          key_enc: strict.ctx.secretBox.seal("k"),
          key_last4: "k",
          timeout_ms: 1000,
          ttl_seconds: 300,
          created_at: T,
          updated_at: T,
          deleted_at: null,
        })
        .execute();
      const before = sim.sim.fx.requests();
      const answer = await strict.ctx.fxRates.rateFor(
        { tenantId: s.tenantId, sourceId: "fx-local", from: "EUR", to: "USD" },
        T,
      );
      expect(answer).toMatchObject({ ok: false, reason: "unavailable" });
      expect(sim.sim.fx.requests()).toBe(before);
    } finally {
      await strict.close();
    }
  });
});
