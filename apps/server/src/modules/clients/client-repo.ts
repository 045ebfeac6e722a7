import { sql } from "kysely";
import type { Db } from "../../infra/db/database.js";
import {
  applySort,
  foldedTextKey,
  type Keyset,
  keysetOf,
  type Sort,
  type SortSpec,
} from "../../infra/db/list-order.js";
import type { ClientsTable } from "../../infra/db/schema.js";

/** The client list's sortable columns (`sort=column:dir`). */
export const CLIENT_SORT_COLUMNS = ["name", "email", "created_at"] as const;
type ClientSortColumn = (typeof CLIENT_SORT_COLUMNS)[number];

const clientSort: SortSpec<ClientSortColumn> = {
  id: "id",
  keys: (db) => ({
    name: [foldedTextKey(db, sql.ref("name"))],
    email: [foldedTextKey(db, sql.ref("email"))],
    created_at: [sql.ref("created_at")],
  }),
};

export type ClientListFilter = {
  q?: string;
  group?: string;
  sort?: Sort<ClientSortColumn>;
  limit: number;
  offset: number;
};
export type Page = { limit: number; offset: number };

/** `%` and `_` in a search term are literal characters, not wildcards. */
const likePattern = (q: string): string => `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

const ledgerSort: SortSpec<"created_at"> = {
  id: "e.id",
  keys: () => ({ created_at: [sql.ref("e.created_at")] }),
};
const NEWEST_FIRST: Sort<"created_at"> = { column: "created_at", dir: "desc" };

/** Clients, wallets and ledger entries, always scoped to one tenant. */
export function createClientRepo(db: Db) {
  const ledgerOf = (tenantId: string, clientId: string) =>
    db
      .selectFrom("ledger_entries as e")
      .innerJoin("wallets as w", "w.id", "e.wallet_id")
      .where("e.tenant_id", "=", tenantId)
      .where("w.tenant_id", "=", tenantId)
      .where("w.client_id", "=", clientId);
  // A deposit's entry shows its quote's payment side (docs/exchange-rates.md): the deposit joined.
  const withLedgerColumns = (q: ReturnType<typeof ledgerOf>) =>
    q
      .leftJoin("deposits as d", (j) =>
        j.onRef("d.id", "=", "e.deposit_id").onRef("d.tenant_id", "=", "e.tenant_id"),
      )
      .select([
        "e.id",
        "e.wallet_id",
        "w.currency",
        "e.amount_minor",
        "e.kind",
        "e.deposit_id",
        "e.memo",
        "e.created_at",
        "d.currency as payment_currency",
        "d.decimals as payment_decimals",
        "d.amount_minor as ordered_minor",
        "d.paid_amount_minor",
        "d.account_currency",
        "d.fx_rate",
        "d.fx_markup_bps",
      ]);
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

    /** In the sort's order (newest first by default). `q` matches name, email or id (case-insensitive substring). */
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
      const rows = await applySort(
        db,
        q.selectAll(),
        clientSort,
        f.sort ?? { column: "created_at", dir: "desc" },
      )
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
        .select(["id", "currency", "balance_minor", "held_minor", "created_at"])
        .where("tenant_id", "=", tenantId)
        .where("client_id", "=", clientId)
        .orderBy("currency")
        .execute();
    },

    /** A client's ledger entries across its wallets, newest first. */
    async ledger(tenantId: string, clientId: string, page: Page) {
      const q = ledgerOf(tenantId, clientId);
      const rows = await applySort(db, withLedgerColumns(q), ledgerSort, NEWEST_FIRST)
        .limit(page.limit)
        .offset(page.offset)
        .execute();
      const count = await q
        .select((eb) => eb.fn.countAll<string | number>().as("n"))
        .executeTakeFirstOrThrow();
      return { rows, total: Number(count.n) };
    },

    /** The entries after `after` (a keyset position in newest-first order), at most `limit`. */
    async ledgerAfter(tenantId: string, clientId: string, after: Keyset | undefined, limit: number) {
      const rows = await applySort(
        db,
        withLedgerColumns(ledgerOf(tenantId, clientId)),
        ledgerSort,
        NEWEST_FIRST,
        after,
      )
        .limit(limit)
        .execute();
      const last = rows.at(-1);
      return { rows, last: last && keysetOf(last as Record<string, unknown>, 1, last.id) };
    },
  };
}
