import type { Db } from "../../infra/db/database.js";
import type { TenantsTable, UsersTable } from "../../infra/db/schema.js";

export function createTenantRepo(db: Db) {
  return {
    async insertTenant(row: TenantsTable): Promise<void> {
      await db.insertInto("tenants").values(row).execute();
    },
    async findBySlug(slug: string): Promise<TenantsTable | undefined> {
      return db.selectFrom("tenants").selectAll().where("slug", "=", slug).executeTakeFirst();
    },
    async findById(id: string): Promise<TenantsTable | undefined> {
      return db.selectFrom("tenants").selectAll().where("id", "=", id).executeTakeFirst();
    },
    async insertUser(row: UsersTable): Promise<void> {
      await db.insertInto("users").values(row).execute();
    },
    async findUser(tenantId: string, id: string): Promise<UsersTable | undefined> {
      return db
        .selectFrom("users")
        .selectAll()
        .where("tenant_id", "=", tenantId)
        .where("id", "=", id)
        .executeTakeFirst();
    },
  };
}
