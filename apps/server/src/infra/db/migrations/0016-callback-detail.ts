import type { Kysely } from "kysely";

/**
 * Callback verdicts that explain themselves (docs/psp-open-api.md#api-2-answers):
 * `callback_logs.error_detail` is the short human reason the answer gave (null when accepted),
 * and `diagnosis` a JSON object for the tenant's admins: the check that failed and, for a sign
 * failure, the StringA the CRM computed in both number forms; for an amount, the ordered and the
 * paid amount. Rows written before this have neither.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's table types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("callback_logs").addColumn("error_detail", "text").execute();
  await db.schema.alterTable("callback_logs").addColumn("diagnosis", "text").execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("callback_logs").dropColumn("diagnosis").execute();
  await db.schema.alterTable("callback_logs").dropColumn("error_detail").execute();
}
