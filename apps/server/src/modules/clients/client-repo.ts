import { sql } from "kysely";
import type { Db } from "../../infra/db/database.js";
import type { ClientsTable } from "../../infra/db/schema.js";

export type ClientListFilter = { q?: string; group?: string; limit: number; offset: number };
export type Page = { limit: number; offset: number };

/** `%` and `_` in a search term are literal characters, not wildcards. */
const likePattern = (q: string): string => `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** Clients, wallets and ledger entries, always scoped to one tenant. */
export function createClientRepo(db: Db) {
  return {
    async insert(row: ClientsTable): Promise<void> {
      await db.insertInto("clients").values(row).execute();
    },

    async find(tenantId: string, id: string): Promise<ClientsTable | undefined> {
      return db
        .selectFrom("clients")
        .selectAll()
        .where("tenant_id", "=", tenantId)
        .where("id", "=", id)
        .executeTakeFirst();
    },

    async emailTaken(tenantId: string, email: string): Promise<boolean> {
      const row = await db
        .selectFrom("clients")
        .select("id")
        .where("tenant_id", "=", tenantId)
        .where("email", "=", email)
        .executeTakeFirst();
      return row !== undefined;
    },

    async update(
      tenantId: string,
      id: string,
      patch: Partial<Omit<ClientsTable, "id" | "tenant_id" | "created_at">>,
    ): Promise<void> {
      if (Object.keys(patch).length === 0) return;
      await db
        .updateTable("clients")
        .set(patch)
        .where("tenant_id", "=", tenantId)
        .where("id", "=", id)
        .execute();
    },

    /** Newest first. `q` matches name, email or id (case-insensitive substring). */
    async list(tenantId: string, f: ClientListFilter): Promise<{ rows: ClientsTable[]; total: number }> {
      let q = db.selectFrom("clients").where("tenant_id", "=", tenantId);
      if (f.group !== undefined) q = q.where("client_group", "=", f.group);
      if (f.q) {
        const p = likePattern(f.q);
        q = q.where((eb) =>
          eb.or([
            eb(sql`lower(name)`, "like", sql`${p} escape '\\'`),
            eb(sql`lower(email)`, "like", sql`${p} escape '\\'`),
            eb(sql`lower(id)`, "like", sql`${p} escape '\\'`),
          ]),
        );
      }
      const rows = await q
        .selectAll()
        .orderBy("created_at", "desc")
        .orderBy("id")
        .limit(f.limit)
        .offset(f.offset)
        .execute();
      const count = await q
        .select((eb) => eb.fn.countAll<string | number>().as("n"))
        .executeTakeFirstOrThrow();
      return { rows, total: Number(count.n) };
    },

    async wallets(tenantId: string, clientId: string) {
      return db
        .selectFrom("wallets")
        .select(["id", "currency", "balance_minor", "created_at"])
        .where("tenant_id", "=", tenantId)
        .where("client_id", "=", clientId)
        .orderBy("currency")
        .execute();
    },

    /** A client's ledger entries across its wallets, newest first. */
    async ledger(tenantId: string, clientId: string, page: Page) {
      const q = db
        .selectFrom("ledger_entries as e")
        .innerJoin("wallets as w", "w.id", "e.wallet_id")
        .where("e.tenant_id", "=", tenantId)
        .where("w.tenant_id", "=", tenantId)
        .where("w.client_id", "=", clientId);
      const rows = await q
        .select([
          "e.id",
          "e.wallet_id",
          "w.currency",
          "e.amount_minor",
          "e.kind",
          "e.deposit_id",
          "e.memo",
          "e.created_at",
        ])
        .orderBy("e.created_at", "desc")
        .orderBy("e.id", "desc")
        .limit(page.limit)
        .offset(page.offset)
        .execute();
      const count = await q
        .select((eb) => eb.fn.countAll<string | number>().as("n"))
        .executeTakeFirstOrThrow();
      return { rows, total: Number(count.n) };
    },
  };
}
