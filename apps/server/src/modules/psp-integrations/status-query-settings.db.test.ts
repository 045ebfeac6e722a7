import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, seedTenant, type TestApp } from "../../test/test-app.js";
import { DEFAULT_STATUS_QUERY_SCHEDULE } from "../status-query/status-query-schedule.js";

// API-3's settings on the integration (docs/psp-open-api.md#api-3-status-query): off by default,
// the spec's schedule shown when none is stored, a partial PATCH, bounds, and the audit.

const BASE = "/api/admin/integrations";
let t: TestApp;
let a: Awaited<ReturnType<typeof seedTenant>>;

beforeAll(async () => {
  t = await createTestApp();
  a = await seedTenant(t);
});
afterAll(async () => t?.close());

const create = async (over: Record<string, unknown> = {}) => {
  const res = await a.owner.post(BASE, { name: "PSP", appUrl: "https://psp.example.com", ...over });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
};
const issuePaths = (res: LightMyRequestResponse): string[] =>
  (res.json().error.issues ?? []).map((i: { path: string }) => i.path);

describe("API-3 settings of an integration", () => {
  it("are off by default, with the spec's schedule and a 10 s timeout", async () => {
    const i = await create();
    expect(i.statusQuery).toEqual({
      enabled: false,
      scheduleSeconds: [...DEFAULT_STATUS_QUERY_SCHEDULE],
      timeoutMs: 10_000,
    });
  });

  it("are set on create and changed by a partial PATCH, audited before and after", async () => {
    const i = await create({ statusQuery: { enabled: true, scheduleSeconds: [30, 600], timeoutMs: 5_000 } });
    expect(i.statusQuery).toEqual({ enabled: true, scheduleSeconds: [30, 600], timeoutMs: 5_000 });
    const up = await a.admin.patch(`${BASE}/${i.id}`, { statusQuery: { enabled: false } });
    expect(up.statusCode, up.body).toBe(200);
    expect(up.json().statusQuery).toEqual({ enabled: false, scheduleSeconds: [30, 600], timeoutMs: 5_000 });
    const again = await a.admin.patch(`${BASE}/${i.id}`, { statusQuery: { scheduleSeconds: [60] } });
    expect(again.json().statusQuery).toEqual({ enabled: false, scheduleSeconds: [60], timeoutMs: 5_000 });
    const audits = await t.ctx.db
      .selectFrom("audit_log")
      .selectAll()
      .where("action", "=", "integration.update")
      .where("target_id", "=", i.id)
      .orderBy("created_at")
      .orderBy("id")
      .execute();
    expect(audits).toHaveLength(2);
    expect(JSON.parse(audits[0]?.before ?? "{}").statusQuery.enabled).toBe(true);
    expect(JSON.parse(audits[0]?.after ?? "{}").statusQuery.enabled).toBe(false);
    // The same settings again change nothing and record nothing.
    await a.admin.patch(`${BASE}/${i.id}`, { statusQuery: { scheduleSeconds: [60] } });
    const after = await t.ctx.db
      .selectFrom("audit_log")
      .select("id")
      .where("action", "=", "integration.update")
      .where("target_id", "=", i.id)
      .execute();
    expect(after).toHaveLength(2);
  });

  it("refuses what is out of bounds, naming the field", async () => {
    const i = await create();
    for (const [bad, path] of [
      [{ scheduleSeconds: [] }, "body.statusQuery.scheduleSeconds"],
      [{ scheduleSeconds: Array(21).fill(60) }, "body.statusQuery.scheduleSeconds"],
      [{ scheduleSeconds: [9] }, "body.statusQuery.scheduleSeconds.0"],
      [{ scheduleSeconds: [60, 604_801] }, "body.statusQuery.scheduleSeconds.1"],
      [{ scheduleSeconds: [60.5] }, "body.statusQuery.scheduleSeconds.0"],
      [{ timeoutMs: 999 }, "body.statusQuery.timeoutMs"],
      [{ timeoutMs: 60_001 }, "body.statusQuery.timeoutMs"],
      [{ enabled: "yes" }, "body.statusQuery.enabled"],
    ] as const) {
      const res = await a.admin.patch(`${BASE}/${i.id}`, { statusQuery: bad });
      expect(res.statusCode, JSON.stringify(bad)).toBe(400);
      expect(issuePaths(res), JSON.stringify(bad)).toContain(path);
      const created = await a.owner.post(BASE, {
        name: "PSP",
        appUrl: "https://psp.example.com",
        statusQuery: bad,
      });
      expect(created.statusCode, JSON.stringify(bad)).toBe(400);
    }
    expect((await a.viewer.get(`${BASE}/${i.id}`)).json().statusQuery.enabled).toBe(false);
  });
});
