import type { Kysely } from "kysely";

/**
 * Integration health (modules/integration-health, docs/operations.md).
 *
 * - `integration_health_minutes`: one row per integration and minute, re-derived from the source
 *   rows (api1_call events, callback logs, review items, finalized deposits) by an idempotent
 *   job; latencies as fixed-bucket histograms (JSON arrays of counts) so that percentiles of a
 *   window merge from its minutes. A 24 h window reads at most 1 440 rows per integration.
 * - `integration_health_state`: how far the rollup has gone, so a restart catches up.
 * - `alerts`: what the detectors opened and resolved. `open_key` (integration and kind) is set
 *   while the alert is open and cleared on resolve: its unique index lets several processes run
 *   the detectors at once and still open one alert.
 * - Indexes by time on the source rows the rollup reads.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's table types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("integration_health_minutes")
    .addColumn("integration_id", "text", (c) => c.notNull())
    .addColumn("minute", "bigint", (c) => c.notNull())
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("api1_ok", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("api1_failed", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("api1_ok_latency", "text", (c) => c.notNull())
    .addColumn("api1_failed_latency", "text", (c) => c.notNull())
    .addColumn("urls_issued", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("cb_accepted", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("cb_duplicate", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("cb_rejected", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("cb_review", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("status_answers", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("signature_failures", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("amount_mismatches", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("succeeded", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("failed", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("time_to_final", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("integration_health_minutes_pk", ["integration_id", "minute"])
    .execute();
  await db.schema
    .createIndex("integration_health_minutes_tenant")
    .on("integration_health_minutes")
    .columns(["tenant_id", "minute"])
    .execute();

  await db.schema
    .createTable("integration_health_state")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("rolled_to", "bigint", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("alerts")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("integration_id", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("open_key", "text")
    .addColumn("opened_at", "bigint", (c) => c.notNull())
    .addColumn("resolved_at", "bigint")
    .addColumn("data", "text", (c) => c.notNull())
    .addColumn("acknowledged_by", "text")
    .addColumn("acknowledged_at", "bigint")
    .execute();
  await db.schema.createIndex("alerts_open_key").on("alerts").column("open_key").unique().execute();
  await db.schema
    .createIndex("alerts_tenant_opened")
    .on("alerts")
    .columns(["tenant_id", "opened_at"])
    .execute();
  await db.schema
    .createIndex("alerts_tenant_resolved")
    .on("alerts")
    .columns(["tenant_id", "resolved_at"])
    .execute();

  await db.schema
    .createIndex("deposit_events_kind_created")
    .on("deposit_events")
    .columns(["kind", "created_at"])
    .execute();
  await db.schema.createIndex("callback_logs_created").on("callback_logs").column("created_at").execute();
  await db.schema
    .createIndex("deposits_finalized")
    .on("deposits")
    .column("finalized_at")
    .where("finalized_at", "is not", null)
    .execute();
  await db.schema.createIndex("review_items_created").on("review_items").column("created_at").execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  for (const i of [
    "review_items_created",
    "deposits_finalized",
    "callback_logs_created",
    "deposit_events_kind_created",
  ]) {
    await db.schema.dropIndex(i).execute();
  }
  await db.schema.dropTable("alerts").execute();
  await db.schema.dropTable("integration_health_state").execute();
  await db.schema.dropTable("integration_health_minutes").execute();
}
