import type { Kysely } from "kysely";

/**
 * Login attempt counters, in the database so that every server process
 * shares them: one row per counter key (an (address, account) pair, an account, an address;
 * hashed, so that no typed e-mail is stored), counting the attempts reserved in the window that
 * began at `window_start` (epoch ms). Rows of past windows are pruned by a background job.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's table types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("login_attempts")
    .ifNotExists()
    .addColumn("key", "text", (c) => c.primaryKey())
    .addColumn("window_start", "bigint", (c) => c.notNull())
    .addColumn("count", "integer", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("login_attempts_window")
    .ifNotExists()
    .on("login_attempts")
    .column("window_start")
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("login_attempts").ifExists().execute();
}
