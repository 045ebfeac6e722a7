import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixedClock } from "../../common/clock.js";
import { createTestApp, seedTenant, type TestApp } from "../../test/test-app.js";
import { recordAudit } from "./audit-repo.js";

const clock = fixedClock(1_700_000_000_000);
let t: TestApp;
let s: Awaited<ReturnType<typeof seedTenant>>;
beforeAll(async () => {
  t = await createTestApp({ clock });
  s = await seedTenant(t);
});
afterAll(async () => t?.close());

describe("audit log route", () => {
  it("lists the tenant's records newest first, with before/after as JSON", async () => {
    clock.advance(1_000);
    const created = (await s.owner.post("/api/admin/clients", { name: "A", email: "a@audit.test" })).json();
    clock.advance(1_000);
    await s.owner.patch(`/api/admin/clients/${created.id}`, { name: "B" });
    const res = await s.finance.get("/api/admin/audit");
    expect(res.statusCode).toBe(200);
    const { items, total } = res.json();
    expect(total).toBe(items.length);
    expect(items[0]).toEqual({
      id: expect.any(String),
      actorType: "user",
      actorId: s.owner.me.id,
      actorName: `Owner <owner@${s.slug}.test>`,
      action: "client.update",
      targetType: "client",
      targetId: created.id,
      before: expect.objectContaining({ name: "A" }),
      after: expect.objectContaining({ name: "B" }),
      ip: expect.any(String),
      createdAt: clock.now(),
    });
    expect(items[1].action).toBe("client.create");
    expect(items[1].before).toBeNull();
    const times = items.map((i: { createdAt: number }) => i.createdAt);
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });

  it("filters by action, target, actor and time, and pages", async () => {
    const base = clock.now() + 10_000;
    for (let i = 0; i < 5; i++) {
      await recordAudit(
        t.ctx.db,
        {
          tenantId: s.tenantId,
          actor: { type: "system", id: i % 2 ? "actor-odd" : "actor-even" },
          action: i < 3 ? "test.alpha" : "test.beta",
          targetType: "thing",
          targetId: `thing-${i}`,
          after: { i, nested: { token: "do-not-show" } },
        },
        base + i * 1_000,
      );
    }
    const get = async (qs: string) => (await s.owner.get(`/api/admin/audit?${qs}`)).json();
    expect((await get("action=test.alpha")).total).toBe(3);
    expect((await get("targetType=thing")).total).toBe(5);
    expect((await get("targetId=thing-4")).items.map((i: { after: { i: number } }) => i.after.i)).toEqual([
      4,
    ]);
    expect((await get("actorId=actor-odd")).total).toBe(2);
    const window = await get(`targetType=thing&from=${base + 1_000}&to=${base + 3_000}`);
    expect(window.items.map((i: { targetId: string }) => i.targetId)).toEqual([
      "thing-3",
      "thing-2",
      "thing-1",
    ]);
    const page = await get("targetType=thing&limit=2&offset=1");
    expect(page.total).toBe(5);
    expect(page.items.map((i: { targetId: string }) => i.targetId)).toEqual(["thing-3", "thing-2"]);
    // Secrets were redacted when recorded.
    expect((await get("targetId=thing-0")).items[0].after.nested.token).toBe("[redacted]");
    expect((await s.owner.get("/api/admin/audit?limit=201")).statusCode).toBe(400);
    expect((await s.owner.get("/api/admin/audit?from=yesterday")).statusCode).toBe(400);
  });

  it("shows only the caller's tenant and needs audit:read", async () => {
    const other = await seedTenant(t);
    await other.owner.post("/api/admin/clients", { name: "Other", email: "o@other.test" });
    const mine = (await s.owner.get("/api/admin/audit?limit=200")).json();
    expect(
      mine.items.some(
        (i: { targetType: string; after: { email?: string } }) => i.after?.email === "o@other.test",
      ),
    ).toBe(false);
    expect((await s.viewer.get("/api/admin/audit")).statusCode).toBe(403);
    expect((await t.app.inject({ method: "GET", url: "/api/admin/audit" })).statusCode).toBe(401);
  });
});
