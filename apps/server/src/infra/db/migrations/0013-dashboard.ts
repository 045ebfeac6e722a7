import type { Kysely } from "kysely";

/**
 * The dashboard's deposit figures (docs/operations.md#dashboard): the columns it groups and
 * sums after the (tenant_id, created_at) range, so PostgreSQL and SQLite answer it from the
 * index alone instead of reading every order of the range from the table.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's table types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex("deposits_tenant_created_figures")
    .on("deposits")
    .columns(["tenant_id", "created_at", "currency", "status", "amount_minor", "decimals"])
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("deposits_tenant_created_figures").execute();
}
