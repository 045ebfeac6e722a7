import type { Kysely } from "kysely";

/**
 * Exchange rates (docs/exchange-rates.md):
 * - `fx_sources`: a tenant's rate sources, a manual table or an external exchange-rate API
 *   (URL, the generated `key` encrypted like tokens, timeout, TTL). Soft-deleted, since orders
 *   keep a source's id and name.
 * - `fx_manual_rates`: a manual source's rates, one per pair, with the pair's markup.
 * - `deposits`: the quote locked on the order. Null columns: an order without a quote (every
 *   order before this migration, and every same-currency one), credited in its own currency.
 *   `credit_minor` is in the account currency's minor units when `account_currency` is set.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's table types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("fx_sources")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("url", "text")
    .addColumn("key_enc", "text")
    .addColumn("key_last4", "text")
    .addColumn("timeout_ms", "integer", (c) => c.notNull())
    .addColumn("ttl_seconds", "integer")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addColumn("deleted_at", "bigint")
    .execute();
  await db.schema.createIndex("fx_sources_tenant").on("fx_sources").columns(["tenant_id", "name"]).execute();

  await db.schema
    .createTable("fx_manual_rates")
    .addColumn("source_id", "text", (c) => c.notNull())
    .addColumn("from_currency", "text", (c) => c.notNull())
    .addColumn("to_currency", "text", (c) => c.notNull())
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("rate", "text", (c) => c.notNull())
    .addColumn("markup_bps", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addColumn("updated_by", "text")
    .addPrimaryKeyConstraint("fx_manual_rates_pk", ["source_id", "from_currency", "to_currency"])
    .execute();

  for (const [name, type] of [
    ["account_currency", "text"],
    ["account_decimals", "integer"],
    ["fx_rate", "text"],
    ["fx_markup_bps", "integer"],
    ["fx_markup_minor", "bigint"],
    ["fx_source_kind", "text"],
    ["fx_source_id", "text"],
    ["fx_source_name", "text"],
    ["fx_rate_time", "bigint"],
    ["fx_quoted_at", "bigint"],
  ] as const) {
    await db.schema.alterTable("deposits").addColumn(name, type).execute();
  }
  await db.schema
    .createIndex("deposits_tenant_fx")
    .on("deposits")
    .columns(["tenant_id", "account_currency", "finalized_at"])
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("deposits_tenant_fx").execute();
  for (const name of [
    "account_currency",
    "account_decimals",
    "fx_rate",
    "fx_markup_bps",
    "fx_markup_minor",
    "fx_source_kind",
    "fx_source_id",
    "fx_source_name",
    "fx_rate_time",
    "fx_quoted_at",
  ]) {
    await db.schema.alterTable("deposits").dropColumn(name).execute();
  }
  await db.schema.dropTable("fx_manual_rates").execute();
  await db.schema.dropTable("fx_sources").execute();
}
