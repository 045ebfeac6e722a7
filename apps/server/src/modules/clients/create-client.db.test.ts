import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createTestApp, seedTenant, type TestApp } from "../../test/test-app.js";
import { createClient } from "./create-client.js";

const ids = vi.hoisted(() => ({ queue: [] as string[] }));
vi.mock("../../common/ids.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../common/ids.js")>();
  return { ...real, newClientId: () => ids.queue.shift() ?? real.newClientId() };
});

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t?.close());

const system = { type: "system" as const, id: null };

describe("createClient ids", () => {
  it("retries with a fresh id when the random id collides, even across tenants", async () => {
    const a = await seedTenant(t);
    const b = await seedTenant(t);
    ids.queue.push("collide1", "collide1", "collide1", "fresh001");
    expect((await createClient(t.ctx, a.tenantId, { name: "A", email: "a@example.com" }, system)).id).toBe(
      "collide1",
    );
    const second = await createClient(t.ctx, b.tenantId, { name: "B", email: "b@example.com" }, system);
    expect(second.id).toBe("fresh001");
    const audit = await t.ctx.db
      .selectFrom("audit_log")
      .select("target_id")
      .where("action", "=", "client.create")
      .where("tenant_id", "=", b.tenantId)
      .execute();
    expect(audit).toEqual([{ target_id: "fresh001" }]);
  });

  it("gives up after a bounded number of collisions", async () => {
    const a = await seedTenant(t);
    await createClient(t.ctx, a.tenantId, { name: "A", email: "first@example.com" }, system);
    const taken = (await t.ctx.db.selectFrom("clients").select("id").executeTakeFirstOrThrow()).id;
    ids.queue.push(...Array(10).fill(taken));
    await expect(
      createClient(t.ctx, a.tenantId, { name: "B", email: "second@example.com" }, system),
    ).rejects.toThrow();
    ids.queue.length = 0;
  });

  it("answers email_taken for a duplicate email, not a retry", async () => {
    const a = await seedTenant(t);
    await createClient(t.ctx, a.tenantId, { name: "A", email: "same@example.com" }, system);
    await expect(
      createClient(t.ctx, a.tenantId, { name: "A2", email: "SAME@example.com" }, system),
    ).rejects.toMatchObject({ code: "email_taken", statusCode: 409 });
  });
});
