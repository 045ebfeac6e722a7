import { type Db, hasRowLocks } from "../../infra/db/database.js";
import type { DepositMethodsTable } from "../../infra/db/schema.js";

export type MethodRow = DepositMethodsTable;
export type MethodPatch = Partial<Omit<MethodRow, "id" | "tenant_id" | "created_at">>;

/** Deposit methods of one tenant: every query is scoped by tenant_id; soft-deleted ones are hidden. */
export function createMethodRepo(db: Db) {
  return {
    async list(tenantId: string): Promise<MethodRow[]> {
      return db
        .selectFrom("deposit_methods")
        .selectAll()
        .where("tenant_id", "=", tenantId)
        .where("deleted_at", "is", null)
        .orderBy("sort_order")
        .orderBy("created_at")
        .orderBy("id")
        .execute();
    },

    /** `forUpdate` locks the row where the database has row locks (PostgreSQL); SQLite has one writer. */
    async find(
      tenantId: string,
      id: string,
      opts: { forUpdate?: boolean } = {},
    ): Promise<MethodRow | undefined> {
      let q = db
        .selectFrom("deposit_methods")
        .selectAll()
        .where("tenant_id", "=", tenantId)
        .where("id", "=", id)
        .where("deleted_at", "is", null);
      if (opts.forUpdate && hasRowLocks(db)) q = q.forUpdate();
      return q.executeTakeFirst();
    },

    async nextSortOrder(tenantId: string): Promise<number> {
      const r = await db
        .selectFrom("deposit_methods")
        .select((eb) => eb.fn.max("sort_order").as("m"))
        .where("tenant_id", "=", tenantId)
        .where("deleted_at", "is", null)
        .executeTakeFirst();
      const m = r?.m;
      return m === null || m === undefined ? 0 : Number(m) + 1;
    },

    async insert(row: MethodRow): Promise<void> {
      await db.insertInto("deposit_methods").values(row).execute();
    },

    async update(tenantId: string, id: string, patch: MethodPatch): Promise<boolean> {
      const r = await db
        .updateTable("deposit_methods")
        .set(patch)
        .where("tenant_id", "=", tenantId)
        .where("id", "=", id)
        .where("deleted_at", "is", null)
        .executeTakeFirst();
      return r.numUpdatedRows > 0n;
    },

    /** Deposits of this method still waiting for the tenant backend (pending or processing). */
    async countOpenDeposits(tenantId: string, methodId: string): Promise<number> {
      const r = await db
        .selectFrom("deposits")
        .select((eb) => eb.fn.countAll().as("n"))
        .where("tenant_id", "=", tenantId)
        .where("method_id", "=", methodId)
        .where("status", "in", ["pending", "processing"])
        .executeTakeFirst();
      return Number(r?.n ?? 0);
    },
  };
}
