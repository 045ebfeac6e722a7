import { sql } from "kysely";
import type { Db } from "../../infra/db/database.js";
import type { FxManualRatesTable, FxSourcesTable } from "../../infra/db/schema.js";

export type FxSourceRow = FxSourcesTable;
export type ManualRateRow = FxManualRatesTable;

/** A live (not deleted) source of the tenant; another tenant's id reads as missing. */
export async function findSource(db: Db, tenantId: string, id: string): Promise<FxSourceRow | undefined> {
  return db
    .selectFrom("fx_sources")
    .selectAll()
    .where("tenant_id", "=", tenantId)
    .where("id", "=", id)
    .where("deleted_at", "is", null)
    .executeTakeFirst();
}

export async function listSources(db: Db, tenantId: string): Promise<FxSourceRow[]> {
  return db
    .selectFrom("fx_sources")
    .selectAll()
    .where("tenant_id", "=", tenantId)
    .where("deleted_at", "is", null)
    .orderBy("name", "asc")
    .orderBy("id", "asc")
    .execute();
}

/** Rate rows per manual source of the tenant. */
export async function pairCounts(db: Db, tenantId: string): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom("fx_manual_rates")
    .select(["source_id", (eb) => eb.fn.countAll<number>().as("n")])
    .where("tenant_id", "=", tenantId)
    .groupBy("source_id")
    .execute();
  return new Map(rows.map((r) => [r.source_id, Number(r.n)]));
}

/** The open `fx_rate_stale` alert per source of the tenant. */
export async function openStaleAlerts(
  db: Db,
  tenantId: string,
): Promise<Map<string, { id: string; openedAt: number }>> {
  const rows = await db
    .selectFrom("alerts")
    .select(["id", "integration_id", "opened_at"])
    .where("tenant_id", "=", tenantId)
    .where("kind", "=", "fx_rate_stale")
    .where("status", "=", "open")
    .execute();
  return new Map(rows.map((r) => [r.integration_id, { id: r.id, openedAt: Number(r.opened_at) }]));
}

export async function insertSource(db: Db, row: FxSourceRow): Promise<void> {
  await db.insertInto("fx_sources").values(row).execute();
}

export async function updateSource(
  db: Db,
  tenantId: string,
  id: string,
  set: Partial<Omit<FxSourceRow, "id" | "tenant_id" | "kind">>,
): Promise<void> {
  await db
    .updateTable("fx_sources")
    .set(set)
    .where("tenant_id", "=", tenantId)
    .where("id", "=", id)
    .where("deleted_at", "is", null)
    .execute();
}

/**
 * Names of the tenant's live deposit methods whose currencies name this source in a
 * conversion rule (stored as `"source_id":"<id>"` in deposit_methods.currencies JSON).
 */
export async function methodsUsingSource(db: Db, tenantId: string, sourceId: string): Promise<string[]> {
  const rows = await db
    .selectFrom("deposit_methods")
    .select("name")
    .where("tenant_id", "=", tenantId)
    .where("deleted_at", "is", null)
    .where(sql<boolean>`currencies like ${`%"source_id":"${sourceId}"%`}`)
    .orderBy("name", "asc")
    .execute();
  return rows.map((r) => r.name);
}

export async function listRates(db: Db, tenantId: string, sourceId: string): Promise<ManualRateRow[]> {
  return db
    .selectFrom("fx_manual_rates")
    .selectAll()
    .where("tenant_id", "=", tenantId)
    .where("source_id", "=", sourceId)
    .orderBy("from_currency", "asc")
    .orderBy("to_currency", "asc")
    .execute();
}

export async function findRate(
  db: Db,
  tenantId: string,
  sourceId: string,
  from: string,
  to: string,
): Promise<ManualRateRow | undefined> {
  return db
    .selectFrom("fx_manual_rates")
    .selectAll()
    .where("tenant_id", "=", tenantId)
    .where("source_id", "=", sourceId)
    .where("from_currency", "=", from)
    .where("to_currency", "=", to)
    .executeTakeFirst();
}

export async function upsertRate(db: Db, row: ManualRateRow): Promise<void> {
  await db
    .insertInto("fx_manual_rates")
    .values(row)
    .onConflict((oc) =>
      oc.columns(["source_id", "from_currency", "to_currency"]).doUpdateSet({
        rate: row.rate,
        markup_bps: row.markup_bps,
        updated_at: row.updated_at,
        updated_by: row.updated_by,
      }),
    )
    .execute();
}

export async function deleteRate(db: Db, tenantId: string, sourceId: string, from: string, to: string) {
  const res = await db
    .deleteFrom("fx_manual_rates")
    .where("tenant_id", "=", tenantId)
    .where("source_id", "=", sourceId)
    .where("from_currency", "=", from)
    .where("to_currency", "=", to)
    .executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}
