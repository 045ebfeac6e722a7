import type { Kysely } from "kysely";

/**
 * API-3 status queries and the needs-assistance queue (docs/psp-open-api.md#api-3-status-query).
 *
 * - `psp_integrations`: the status query is off by default; its schedule (JSON array of delays
 *   in seconds, null: the spec's default) and its timeout.
 * - `deposits.status_query_due_at`: when the order's next query is due (null: none). A worker
 *   claims a due order by moving this forward by a lease, in a short transaction (`SKIP LOCKED`
 *   on PostgreSQL), so the schedule survives restarts and each query runs in one process.
 *   `status_query_step` is how far the order is in its schedule.
 * - `callback_logs.source`: `callback` (API-2) or `status_query` (an API-3 answer).
 * - `review_items.approval_*`: a needs-assistance credit above the tenant's limit waits for a
 *   second admin; the first one's request is kept here (four eyes).
 * - `tenants.four_eyes_limits`: JSON `{currency: decimal text}`; a credit above the limit of
 *   its currency needs a second approver. A currency not listed: every credit does.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's table types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("psp_integrations")
    .addColumn("status_query_enabled", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable("psp_integrations").addColumn("status_query_schedule", "text").execute();
  await db.schema
    .alterTable("psp_integrations")
    .addColumn("status_query_timeout_ms", "integer", (c) => c.notNull().defaultTo(10000))
    .execute();

  await db.schema.alterTable("deposits").addColumn("status_query_due_at", "bigint").execute();
  await db.schema
    .alterTable("deposits")
    .addColumn("status_query_step", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createIndex("deposits_status_query_due")
    .on("deposits")
    .column("status_query_due_at")
    .where("status_query_due_at", "is not", null)
    .execute();

  await db.schema
    .alterTable("callback_logs")
    .addColumn("source", "text", (c) => c.notNull().defaultTo("callback"))
    .execute();

  await db.schema.alterTable("review_items").addColumn("approval_requested_by", "text").execute();
  await db.schema.alterTable("review_items").addColumn("approval_requested_at", "bigint").execute();
  await db.schema.alterTable("review_items").addColumn("approval_comment", "text").execute();
  // Review lookups by deposit (the portal's `underReview`, the deposit page).
  await db.schema.createIndex("review_items_deposit").on("review_items").column("deposit_id").execute();

  await db.schema.alterTable("tenants").addColumn("four_eyes_limits", "text").execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("tenants").dropColumn("four_eyes_limits").execute();
  await db.schema.dropIndex("review_items_deposit").execute();
  for (const c of ["approval_comment", "approval_requested_at", "approval_requested_by"]) {
    await db.schema.alterTable("review_items").dropColumn(c).execute();
  }
  await db.schema.alterTable("callback_logs").dropColumn("source").execute();
  await db.schema.dropIndex("deposits_status_query_due").execute();
  await db.schema.alterTable("deposits").dropColumn("status_query_step").execute();
  await db.schema.alterTable("deposits").dropColumn("status_query_due_at").execute();
  for (const c of ["status_query_timeout_ms", "status_query_schedule", "status_query_enabled"]) {
    await db.schema.alterTable("psp_integrations").dropColumn(c).execute();
  }
}
