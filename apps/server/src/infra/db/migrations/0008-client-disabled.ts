import type { Kysely } from "kysely";

/**
 * A client can be disabled: it cannot log in to the portal and its sessions end, while its
 * wallets, ledger and deposits stay as they are (a stored 0/1 like `users.disabled`).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's table types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("clients")
    .addColumn("disabled", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("clients").dropColumn("disabled").execute();
}
