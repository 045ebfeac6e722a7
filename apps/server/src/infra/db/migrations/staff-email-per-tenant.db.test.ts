import { Migrator, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../../test/test-database.js";
import { type DatabaseHandle, isUniqueViolation, openDatabase } from "../database.js";
import { migrationProvider } from "./index.js";

// 0006 makes staff e-mail unique per tenant on a database that already
// holds users, keeping them, and points API keys issued with a key at the user behind it.

let tdb: Awaited<ReturnType<typeof createTestDatabase>>;
let h: DatabaseHandle;
beforeAll(async () => {
  tdb = await createTestDatabase();
  h = openDatabase({ database: tdb.database });
});
afterAll(async () => {
  await h?.close();
  await tdb?.drop();
});

const user = (id: string, tenant: string, email: string) => ({
  id,
  tenant_id: tenant,
  email,
  name: id,
  password_hash: "scrypt$1$1$1$x$y",
  role: "owner" as const,
  disabled: 0 as const,
  created_at: 1,
});
const key = (id: string, createdBy: string) => ({
  id,
  tenant_id: "ta",
  name: id,
  prefix: id,
  key_hash: `hash-${id}`,
  role: "owner" as const,
  created_by: createdBy,
  created_at: 1,
  last_used_at: null,
  revoked_at: null,
});

describe("migration 0006-staff-email-per-tenant", () => {
  it("keeps existing users, allows one e-mail at two tenants, refuses it twice in one, and back", async () => {
    const migrator = new Migrator({ db: h.db, provider: migrationProvider });
    const before = await migrator.migrateTo("0005-login-attempts");
    expect(before.error).toBeUndefined();
    await h.db
      .insertInto("tenants")
      .values([
        { id: "ta", slug: "ta", name: "A", created_at: 1 },
        { id: "tb", slug: "tb", name: "B", created_at: 1 },
      ])
      .execute();
    await h.db
      .insertInto("users")
      .values([user("u1", "ta", "pat@x.test"), user("u2", "tb", "sam@x.test")])
      .execute();
    // Refused before 0006: the same address at another tenant.
    await expect(
      h.db
        .insertInto("users")
        .values(user("u3", "tb", "pat@x.test"))
        .execute(),
    ).rejects.toSatisfy(isUniqueViolation);
    await h.db
      .insertInto("api_keys")
      .values([key("k1", "u1"), key("k2", "k1"), key("k3", "k2")])
      .execute();

    expect((await migrator.migrateTo("0006-staff-email-per-tenant")).error).toBeUndefined();

    const users = await h.db.selectFrom("users").selectAll().orderBy("id").execute();
    expect(users).toEqual([user("u1", "ta", "pat@x.test"), user("u2", "tb", "sam@x.test")]);
    await h.db
      .insertInto("users")
      .values(user("u3", "tb", "pat@x.test"))
      .execute();
    await expect(
      h.db
        .insertInto("users")
        .values(user("u4", "tb", "PAT@x.test"))
        .execute(),
    ).rejects.toSatisfy(isUniqueViolation);
    // The tenant reference survives SQLite's table rebuild.
    await expect(
      h.db
        .insertInto("users")
        .values(user("u5", "nope", "z@x.test"))
        .execute(),
    ).rejects.toThrow();
    const keys = await h.db.selectFrom("api_keys").select(["id", "created_by"]).orderBy("id").execute();
    expect(keys).toEqual([
      { id: "k1", created_by: "u1" },
      { id: "k2", created_by: "u1" },
      { id: "k3", created_by: "u1" },
    ]);

    // down() brings the global rule back once the data allows it.
    await h.db.deleteFrom("users").where("id", "=", "u3").execute();
    const down = await migrator.migrateTo("0005-login-attempts");
    expect(down.error).toBeUndefined();
    await expect(
      h.db
        .insertInto("users")
        .values(user("u3", "tb", "pat@x.test"))
        .execute(),
    ).rejects.toSatisfy(isUniqueViolation);
    expect((await migrator.migrateTo("0006-staff-email-per-tenant")).error).toBeUndefined();
  });

  it("stops with a message when one tenant already holds an address twice in different case", async () => {
    const other = await createTestDatabase();
    const o = openDatabase({ database: other.database });
    try {
      const migrator = new Migrator({ db: o.db, provider: migrationProvider });
      await migrator.migrateTo("0005-login-attempts");
      await o.db.insertInto("tenants").values({ id: "ta", slug: "ta", name: "A", created_at: 1 }).execute();
      await o.db
        .insertInto("users")
        .values([user("u1", "ta", "pat@x.test"), user("u2", "ta", "Pat@x.test")])
        .execute();
      const r = await migrator.migrateTo("0006-staff-email-per-tenant");
      expect(String(r.error)).toContain("pat@x.test (tenant ta)");
      expect(await o.db.selectFrom("users").select("id").orderBy("id").execute()).toEqual([
        { id: "u1" },
        { id: "u2" },
      ]);
      const applied = await sql<{ name: string }>`select name from kysely_migration`.execute(o.db);
      expect(applied.rows.map((x) => x.name)).not.toContain("0006-staff-email-per-tenant");
    } finally {
      await o.close();
      await other.drop();
    }
  });
});
