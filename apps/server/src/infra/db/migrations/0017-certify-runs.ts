import type { Kysely } from "kysely";

/**
 * Conformance runs from the back office (docs/certify.md#from-the-back-office):
 * - `certify_runs`: one run of the suite against an integration: who started it, its state, the
 *   hash of the integration's configuration it ran against, and its report (JSON) once done.
 *   `prompts` holds what the admin is asked to do on payment pages in manual mode.
 * - `certify_orders`: the run's API-2 test orders, each with the script its callbacks are
 *   answered by. Their callbacks arrive at the real CRM_Callback_URL and are routed here.
 * - `certify_callbacks`: those callbacks as received, with the answer given.
 * - `certify_status`, one row per integration ever run: `live_until`, while a run lives, until
 *   when its test orders may be called back (every process sees it through the integration
 *   lookup, so other callbacks never look for a test order); `certified_hash`: the configuration
 *   hash of the last run that certified the integration (the badge holds while the
 *   configuration hashes the same).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's table types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("certify_runs")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("integration_id", "text", (c) => c.notNull())
    .addColumn("started_by", "text")
    .addColumn("manual", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("config_hash", "text", (c) => c.notNull())
    .addColumn("started_at", "bigint", (c) => c.notNull())
    .addColumn("finished_at", "bigint")
    .addColumn("certified", "integer")
    .addColumn("passed", "integer")
    .addColumn("failed", "integer")
    .addColumn("skipped", "integer")
    .addColumn("prompts", "text")
    .addColumn("report", "text")
    .addColumn("error", "text")
    .execute();
  await db.schema
    .createIndex("certify_runs_integration")
    .on("certify_runs")
    .columns(["tenant_id", "integration_id", "started_at"])
    .execute();

  await db.schema
    .createTable("certify_orders")
    .addColumn("integration_id", "text", (c) => c.notNull())
    .addColumn("order_no", "text", (c) => c.notNull())
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("run_id", "text", (c) => c.notNull())
    .addColumn("script", "text", (c) => c.notNull())
    .addColumn("amount_minor", "bigint", (c) => c.notNull())
    .addColumn("received", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("certify_orders_pk", ["integration_id", "order_no"])
    .execute();

  await db.schema
    .createTable("certify_callbacks")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("run_id", "text", (c) => c.notNull())
    .addColumn("order_no", "text", (c) => c.notNull())
    .addColumn("seq", "integer", (c) => c.notNull())
    .addColumn("received_at", "bigint", (c) => c.notNull())
    .addColumn("raw_body", "text", (c) => c.notNull())
    .addColumn("content_type", "text")
    .addColumn("token", "text", (c) => c.notNull())
    .addColumn("answer_status", "integer", (c) => c.notNull())
    .addColumn("answer_body", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("certify_callbacks_order")
    .on("certify_callbacks")
    .columns(["run_id", "order_no", "seq"])
    .unique()
    .execute();

  await db.schema
    .createTable("certify_status")
    .addColumn("integration_id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("live_until", "bigint")
    .addColumn("certified_hash", "text")
    .addColumn("certified_at", "bigint")
    .addColumn("certified_run_id", "text")
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("certify_status").execute();
  await db.schema.dropTable("certify_callbacks").execute();
  await db.schema.dropTable("certify_orders").execute();
  await db.schema.dropTable("certify_runs").execute();
}
