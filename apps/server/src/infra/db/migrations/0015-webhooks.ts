import { type Kysely, sql } from "kysely";

/**
 * Outbound webhooks (docs/webhooks.md):
 * - `webhook_endpoints`: a tenant's receivers: URL, the event types wanted (`*`, or a list
 *   written `,a,b,` so one `instr`/`strpos` tests membership), the secret (and, while a
 *   rotation overlaps, the previous one) sealed like tokens, and the failure streak that
 *   disables it. Soft-deleted, so the delivery log keeps its endpoint.
 * - `webhook_events`: the outbox, one row per event, written in the transaction of the change it
 *   reports; `seq` numbers one order's events (unique per deposit).
 * - `webhook_deliveries`: one row per (event, subscribed endpoint). `due_at` is the job claim's
 *   column (infra/jobs): set while pending, null once delivered or given up.
 * - `webhook_attempts`: the delivery log, one row per HTTP attempt.
 * - `webhook_replays`: replay and recovery tasks, run in the background with their progress.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's table types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("webhook_endpoints")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("url", "text", (c) => c.notNull())
    .addColumn("description", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("event_types", "text", (c) => c.notNull().defaultTo("*"))
    .addColumn("enabled", "integer", (c) => c.notNull().defaultTo(1))
    .addColumn("disabled_reason", "text")
    .addColumn("disabled_at", "bigint")
    .addColumn("secret_enc", "text", (c) => c.notNull())
    .addColumn("previous_secret_enc", "text")
    .addColumn("previous_expires_at", "bigint")
    .addColumn("failing_since", "bigint")
    .addColumn("last_success_at", "bigint")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addColumn("deleted_at", "bigint")
    .execute();
  await db.schema
    .createIndex("webhook_endpoints_tenant")
    .on("webhook_endpoints")
    .columns(["tenant_id", "created_at"])
    .execute();

  await db.schema
    .createTable("webhook_events")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("deposit_id", "text")
    .addColumn("order_no", "text")
    .addColumn("seq", "integer")
    .addColumn("data", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("webhook_events_tenant_created")
    .on("webhook_events")
    .columns(["tenant_id", "created_at"])
    .execute();
  await db.schema
    .createIndex("webhook_events_deposit_seq")
    .on("webhook_events")
    .columns(["deposit_id", "seq"])
    .unique()
    .where(sql.ref("deposit_id"), "is not", null)
    .execute();

  await db.schema
    .createTable("webhook_deliveries")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("event_id", "text", (c) => c.notNull())
    .addColumn("endpoint_id", "text", (c) => c.notNull())
    .addColumn("deposit_id", "text")
    .addColumn("seq", "integer")
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("due_at", "bigint")
    .addColumn("last_attempt_at", "bigint")
    .addColumn("last_http_status", "integer")
    .addColumn("last_error", "text")
    .addColumn("delivered_at", "bigint")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("webhook_deliveries_due")
    .on("webhook_deliveries")
    .column("due_at")
    .where(sql.ref("status"), "=", "pending")
    .execute();
  await db.schema
    .createIndex("webhook_deliveries_endpoint")
    .on("webhook_deliveries")
    .columns(["endpoint_id", "created_at"])
    .execute();
  await db.schema
    .createIndex("webhook_deliveries_order")
    .on("webhook_deliveries")
    .columns(["endpoint_id", "deposit_id", "seq"])
    .where(sql.ref("status"), "=", "pending")
    .execute();
  await db.schema
    .createIndex("webhook_deliveries_event")
    .on("webhook_deliveries")
    .column("event_id")
    .execute();

  await db.schema
    .createTable("webhook_attempts")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("delivery_id", "text", (c) => c.notNull())
    .addColumn("event_id", "text", (c) => c.notNull())
    .addColumn("endpoint_id", "text", (c) => c.notNull())
    .addColumn("attempt", "integer", (c) => c.notNull())
    .addColumn("request_headers", "text", (c) => c.notNull())
    .addColumn("response_status", "integer")
    .addColumn("response_headers", "text")
    .addColumn("response_body", "text")
    .addColumn("error", "text")
    .addColumn("latency_ms", "integer", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("webhook_attempts_delivery")
    .on("webhook_attempts")
    .columns(["delivery_id", "created_at"])
    .execute();
  await db.schema
    .createIndex("webhook_attempts_endpoint")
    .on("webhook_attempts")
    .columns(["endpoint_id", "created_at"])
    .execute();

  await db.schema
    .createTable("webhook_replays")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("endpoint_id", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("from_at", "bigint", (c) => c.notNull())
    .addColumn("to_at", "bigint", (c) => c.notNull())
    .addColumn("event_type", "text")
    .addColumn("only_failed", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("cursor", "text")
    .addColumn("total", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("done", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("due_at", "bigint")
    .addColumn("created_by", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("finished_at", "bigint")
    .execute();
  await db.schema
    .createIndex("webhook_replays_endpoint")
    .on("webhook_replays")
    .columns(["endpoint_id", "created_at"])
    .execute();
  await db.schema
    .createIndex("webhook_replays_due")
    .on("webhook_replays")
    .column("due_at")
    .where(sql.ref("state"), "=", "running")
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  for (const t of [
    "webhook_replays",
    "webhook_attempts",
    "webhook_deliveries",
    "webhook_events",
    "webhook_endpoints",
  ])
    await db.schema.dropTable(t).execute();
}
