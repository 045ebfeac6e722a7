import { type Kysely, sql } from "kysely";

/**
 * Payouts through an integration (docs/psp-open-api.md#payouts, docs/withdrawals.md#payouts):
 * - `withdrawals.integration_id`: the integration paying it out, fixed when the payout starts;
 * - `withdrawals.transaction_id`: the backend's id from API-4 or API-5;
 * - `withdrawals.payout_due`: the payout job's due time (infra/jobs/job-claim.ts): API-4 sent
 *   (again) while approved, the payout status query while paying; null when nothing is due;
 * - `withdrawals.payout_step`: how many steps of the payout schedule have run;
 * - `withdrawals.needs_assistance`: why finance must decide (the schedule ran out, a failure
 *   whose hold is kept, a contradicting API-5); null otherwise;
 * - `callback_logs.withdrawal_id`: the withdrawal an API-5 callback or payout status answer is about.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's table types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("withdrawals").addColumn("integration_id", "text").execute();
  await db.schema.alterTable("withdrawals").addColumn("transaction_id", "text").execute();
  await db.schema.alterTable("withdrawals").addColumn("payout_due", "bigint").execute();
  await db.schema
    .alterTable("withdrawals")
    .addColumn("payout_step", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable("withdrawals").addColumn("needs_assistance", "text").execute();
  await db.schema
    .createIndex("withdrawals_payout_due")
    .on("withdrawals")
    .column("payout_due")
    .where(sql.ref("payout_due"), "is not", null)
    .execute();
  await db.schema
    .createIndex("withdrawals_needs_assistance")
    .on("withdrawals")
    .columns(["tenant_id", "created_at"])
    .where(sql.ref("needs_assistance"), "is not", null)
    .execute();
  await db.schema.alterTable("callback_logs").addColumn("withdrawal_id", "text").execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("callback_logs").dropColumn("withdrawal_id").execute();
  await db.schema.dropIndex("withdrawals_needs_assistance").execute();
  await db.schema.dropIndex("withdrawals_payout_due").execute();
  for (const c of ["needs_assistance", "payout_step", "payout_due", "transaction_id", "integration_id"])
    await db.schema.alterTable("withdrawals").dropColumn(c).execute();
}
