import type { Kysely } from "kysely";

/**
 * Callback log flooding: API-2 requests that fail the token or sign check
 * are rate-limited, and those refused over the limit are not stored one by one but counted in
 * one summary row per minute and source (`http_status` 429). `request_count` is how many
 * requests a row stands for: 1 for every ordinary row (existing rows included), the number of
 * throttled requests for a summary.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's table types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("callback_logs")
    .addColumn("request_count", "integer", (c) => c.notNull().defaultTo(1))
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("callback_logs").dropColumn("request_count").execute();
}
