import { randomBytes, scryptSync } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { passwordHashCost, verifyPassword } from "../../infra/crypto/hashing.js";
import { createTestApp, seedTenant, TEST_PASSWORD, type TestApp } from "../../test/test-app.js";
import { createClient } from "../clients/create-client.js";
import { createUser } from "../tenants/create-tenant.js";
import { upgradePasswordHash } from "./password-upgrade.js";

/** Hashes stored with a lower cost than today's are re-hashed at the next successful login. */
let t: TestApp;
let s: Awaited<ReturnType<typeof seedTenant>>;
beforeAll(async () => {
  t = await createTestApp();
  s = await seedTenant(t);
});
afterAll(async () => t?.close());

/** A hash as an older server stored it: scrypt at N = 256, below today's cost (1024 under the test runner). */
function weakHash(password: string): string {
  const salt = randomBytes(16);
  const key = scryptSync(password, salt, 32, { N: 256, r: 8, p: 1 });
  return ["scrypt", 256, 8, 1, salt.toString("base64url"), key.toString("base64url")].join("$");
}
const costOf = (hash: string | null | undefined) => Number(hash?.split("$")[1]);
const userHash = async (email: string) =>
  (
    await t.ctx.db
      .selectFrom("users")
      .select("password_hash")
      .where("email", "=", email)
      .executeTakeFirstOrThrow()
  ).password_hash;
const clientHash = async (email: string) =>
  (
    await t.ctx.db
      .selectFrom("clients")
      .select("password_hash")
      .where("tenant_id", "=", s.tenantId)
      .where("email", "=", email)
      .executeTakeFirstOrThrow()
  ).password_hash;

describe("password hash upgrade at login", () => {
  it("re-hashes a staff password stored with a lower cost at the next successful login, and only then", async () => {
    const email = `legacy@${s.slug}.test`;
    await createUser(t.ctx, s.tenantId, { email, name: "Legacy", password: TEST_PASSWORD, role: "viewer" });
    const weak = weakHash(TEST_PASSWORD);
    await t.ctx.db.updateTable("users").set({ password_hash: weak }).where("email", "=", email).execute();
    const login = (password: string) =>
      t.app.inject({ method: "POST", url: "/api/auth/login", payload: { email, password } });

    expect((await login("not the password")).statusCode).toBe(401);
    expect(await userHash(email)).toBe(weak);

    expect((await login(TEST_PASSWORD)).statusCode).toBe(200);
    const upgraded = await userHash(email);
    expect(costOf(upgraded)).toBe(passwordHashCost());
    expect(await verifyPassword(TEST_PASSWORD, upgraded)).toBe(true);
    // At today's cost it is left alone.
    expect((await login(TEST_PASSWORD)).statusCode).toBe(200);
    expect(await userHash(email)).toBe(upgraded);
  });

  it("re-hashes a portal client's password the same way", async () => {
    const email = "legacy-client@example.com";
    await createClient(
      t.ctx,
      s.tenantId,
      { name: "Legacy", email, password: "client password 1" },
      { type: "system", id: null },
    );
    const weak = weakHash("client password 1");
    await t.ctx.db
      .updateTable("clients")
      .set({ password_hash: weak })
      .where("tenant_id", "=", s.tenantId)
      .where("email", "=", email)
      .execute();
    const res = await t.app.inject({
      method: "POST",
      url: "/api/portal/auth/login",
      payload: { tenant: s.slug, email, password: "client password 1" },
    });
    expect(res.statusCode).toBe(200);
    const upgraded = await clientHash(email);
    expect(costOf(upgraded)).toBe(passwordHashCost());
    expect(await verifyPassword("client password 1", upgraded ?? "")).toBe(true);
  });

  it("never overwrites a password changed after the login checked the old one", async () => {
    const email = `changed@${s.slug}.test`;
    await createUser(t.ctx, s.tenantId, { email, name: "Changed", password: TEST_PASSWORD, role: "viewer" });
    const user = await t.ctx.db
      .selectFrom("users")
      .select(["id", "tenant_id"])
      .where("email", "=", email)
      .executeTakeFirstOrThrow();
    const checked = weakHash(TEST_PASSWORD);
    const current = await userHash(email); // the password as changed meanwhile
    await upgradePasswordHash(t.ctx.db, "users", { ...user, password_hash: checked }, TEST_PASSWORD);
    expect(await userHash(email)).toBe(current);
  });
});
