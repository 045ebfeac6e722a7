import type { Kysely } from "kysely";

/**
 * The API-1 circuit breaker per integration and the deposit methods' fallback
 * (docs/operations.md#api-1-circuit-breaker).
 *
 * - `api1_breakers`: one row per integration once it has one (no row: closed, mode `on`), so
 *   every process reads the same state. `probe_until` is the lease of the half-open probe a
 *   process claimed with a conditional update.
 * - `api1_breaker_buckets`: API-1 calls and failures per integration in 10 s buckets, counted
 *   by an atomic upsert; the rolling window is the sum of its recent buckets.
 * - `api1_breaker_events`: transitions, hand closings and (dry run) the deposits it would
 *   have refused, for the integration page.
 * - `deposit_methods.fallback_method_id`: the method the portal offers while this one's
 *   integration is unavailable.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's table types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("api1_breakers")
    .addColumn("integration_id", "text", (c) => c.primaryKey().references("psp_integrations.id"))
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("mode", "text", (c) => c.notNull().defaultTo("on"))
    .addColumn("state", "text", (c) => c.notNull().defaultTo("closed"))
    .addColumn("opened_at", "bigint")
    .addColumn("reason", "text")
    .addColumn("probe_until", "bigint")
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("api1_breaker_buckets")
    .addColumn("integration_id", "text", (c) => c.notNull())
    .addColumn("bucket_at", "bigint", (c) => c.notNull())
    .addColumn("calls", "integer", (c) => c.notNull())
    .addColumn("failures", "integer", (c) => c.notNull())
    .addPrimaryKeyConstraint("api1_breaker_buckets_pk", ["integration_id", "bucket_at"])
    .execute();

  await db.schema
    .createTable("api1_breaker_events")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("integration_id", "text", (c) => c.notNull())
    .addColumn("at", "bigint", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("dry_run", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("detail", "text")
    .execute();
  await db.schema
    .createIndex("api1_breaker_events_integration")
    .on("api1_breaker_events")
    .columns(["integration_id", "at"])
    .execute();

  await db.schema.alterTable("deposit_methods").addColumn("fallback_method_id", "text").execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("deposit_methods").dropColumn("fallback_method_id").execute();
  await db.schema.dropTable("api1_breaker_events").execute();
  await db.schema.dropTable("api1_breaker_buckets").execute();
  await db.schema.dropTable("api1_breakers").execute();
}
