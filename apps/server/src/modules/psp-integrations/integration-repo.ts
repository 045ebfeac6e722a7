import type { Db } from "../../infra/db/database.js";
import type { PspIntegrationsTable } from "../../infra/db/schema.js";

export type IntegrationRow = PspIntegrationsTable;
export type IntegrationPatch = Partial<
  Omit<IntegrationRow, "id" | "tenant_id" | "merchant_id" | "created_at">
>;

/** PSP integrations of one tenant: every query is scoped by tenant_id. */
export function createIntegrationRepo(db: Db) {
  return {
    async list(tenantId: string): Promise<IntegrationRow[]> {
      return db
        .selectFrom("psp_integrations")
        .selectAll()
        .where("tenant_id", "=", tenantId)
        .orderBy("created_at")
        .orderBy("id")
        .execute();
    },

    /** `forUpdate` locks the row on PostgreSQL (SQLite transactions are serialised anyway). */
    async find(
      tenantId: string,
      id: string,
      opts: { forUpdate?: boolean } = {},
    ): Promise<IntegrationRow | undefined> {
      let q = db
        .selectFrom("psp_integrations")
        .selectAll()
        .where("tenant_id", "=", tenantId)
        .where("id", "=", id);
      if (opts.forUpdate) q = q.forUpdate();
      return q.executeTakeFirst();
    },

    async names(tenantId: string, ids: readonly string[]): Promise<Map<string, string>> {
      if (ids.length === 0) return new Map();
      const rows = await db
        .selectFrom("psp_integrations")
        .select(["id", "name"])
        .where("tenant_id", "=", tenantId)
        .where("id", "in", [...ids])
        .execute();
      return new Map(rows.map((r) => [r.id, r.name]));
    },

    async insert(row: IntegrationRow): Promise<void> {
      await db.insertInto("psp_integrations").values(row).execute();
    },

    async update(tenantId: string, id: string, patch: IntegrationPatch): Promise<boolean> {
      const r = await db
        .updateTable("psp_integrations")
        .set(patch)
        .where("tenant_id", "=", tenantId)
        .where("id", "=", id)
        .executeTakeFirst();
      return r.numUpdatedRows > 0n;
    },

    /** Replaces the token only if it is still `expectedTokenEnc` (no lost concurrent rotation). */
    async replaceToken(
      tenantId: string,
      id: string,
      expectedTokenEnc: string,
      set: Pick<
        IntegrationRow,
        "token_enc" | "prev_token_enc" | "prev_token_expires_at" | "token_rotated_at" | "updated_at"
      >,
    ): Promise<boolean> {
      const r = await db
        .updateTable("psp_integrations")
        .set(set)
        .where("tenant_id", "=", tenantId)
        .where("id", "=", id)
        .where("token_enc", "=", expectedTokenEnc)
        .executeTakeFirst();
      return r.numUpdatedRows > 0n;
    },
  };
}
export type IntegrationRepo = ReturnType<typeof createIntegrationRepo>;
