import { sql } from "kysely";
import type { Db } from "../../infra/db/database.js";
import type { ApiKeysTable, UsersTable } from "../../infra/db/schema.js";

/** Back-office users and API keys of one tenant. */
export function createUserRepo(db: Db) {
  // An API key with its creator as the creator is now: a key acts with at most that role.
  const keysWithCreator = () =>
    db
      .selectFrom("api_keys as k")
      .leftJoin("users as u", (j) =>
        j.onRef("u.id", "=", "k.created_by").onRef("u.tenant_id", "=", "k.tenant_id"),
      );

  return {
    async list(tenantId: string): Promise<UsersTable[]> {
      return db
        .selectFrom("users")
        .selectAll()
        .where("tenant_id", "=", tenantId)
        .orderBy("created_at")
        .orderBy("id")
        .execute();
    },

    async find(tenantId: string, id: string): Promise<UsersTable | undefined> {
      return db
        .selectFrom("users")
        .selectAll()
        .where("tenant_id", "=", tenantId)
        .where("id", "=", id)
        .executeTakeFirst();
    },

    async update(
      tenantId: string,
      id: string,
      patch: Partial<Pick<UsersTable, "name" | "role" | "disabled">>,
    ): Promise<void> {
      await db
        .updateTable("users")
        .set(patch)
        .where("tenant_id", "=", tenantId)
        .where("id", "=", id)
        .execute();
    },

    /** Active owners of the tenant other than `exceptId`. */
    async countOtherActiveOwners(tenantId: string, exceptId: string): Promise<number> {
      const r = await db
        .selectFrom("users")
        .select((eb) => eb.fn.countAll<string | number>().as("n"))
        .where("tenant_id", "=", tenantId)
        .where("role", "=", "owner")
        .where("disabled", "=", 0)
        .where("id", "<>", exceptId)
        .executeTakeFirstOrThrow();
      return Number(r.n);
    },

    /**
     * Serialises changes to a tenant's set of owners: a no-op write to the tenant row takes its
     * row lock (PostgreSQL) or the write lock (SQLite) until the transaction ends, so two
     * concurrent demotions cannot both see the other owner as still active.
     */
    async lockTenant(tenantId: string): Promise<void> {
      await db.updateTable("tenants").set({ slug: sql`slug` }).where("id", "=", tenantId).execute();
    },

    async insertApiKey(row: ApiKeysTable): Promise<void> {
      await db.insertInto("api_keys").values(row).execute();
    },

    /** The tenant's keys with their creator's current role and disabled flag (null: no such user). */
    async listApiKeys(tenantId: string) {
      return keysWithCreator()
        .select([
          "k.id",
          "k.name",
          "k.role",
          "k.prefix",
          "k.created_by",
          "k.created_at",
          "k.last_used_at",
          "k.revoked_at",
          "u.role as creator_role",
          "u.disabled as creator_disabled",
        ])
        .where("k.tenant_id", "=", tenantId)
        .orderBy("k.created_at", "desc")
        .orderBy("k.id")
        .execute();
    },

    /** An unrevoked key by the SHA-256 of its secret, with its creator as listApiKeys gives it. */
    async findLiveApiKeyByHash(keyHash: string) {
      return keysWithCreator()
        .select([
          "k.id",
          "k.tenant_id",
          "k.role",
          "k.last_used_at",
          "u.role as creator_role",
          "u.disabled as creator_disabled",
        ])
        .where("k.key_hash", "=", keyHash)
        .where("k.revoked_at", "is", null)
        .executeTakeFirst();
    },

    async touchApiKey(id: string, now: number): Promise<void> {
      await db.updateTable("api_keys").set({ last_used_at: now }).where("id", "=", id).execute();
    },

    async findApiKey(tenantId: string, id: string) {
      return db
        .selectFrom("api_keys")
        .select(["id", "name", "role", "prefix", "created_by", "created_at", "last_used_at", "revoked_at"])
        .where("tenant_id", "=", tenantId)
        .where("id", "=", id)
        .executeTakeFirst();
    },

    async revokeApiKey(tenantId: string, id: string, now: number): Promise<boolean> {
      const r = await db
        .updateTable("api_keys")
        .set({ revoked_at: now })
        .where("tenant_id", "=", tenantId)
        .where("id", "=", id)
        .where("revoked_at", "is", null)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
  };
}
