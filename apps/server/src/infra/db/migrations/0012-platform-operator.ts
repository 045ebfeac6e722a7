import { type Kysely, sql } from "kysely";

/**
 * The platform operator (docs/security.md#the-platform-operator): an identity above tenants.
 *
 * - `platform_operators`: e-mail (unique, case-folded by the use-case), scrypt hash, disabled.
 * - `operator_sessions`: a table of its own rather than a kind of `sessions`, whose tenant_id is
 *   NOT NULL and whose lookups (every back-office and portal request) must never find one.
 * - `tenants.suspended_at` / `suspension_reason`: a suspended tenant's portal and deposit
 *   creation stop; its callbacks are judged and applied as before.
 * - Operator actions are audited in `audit_log` against the tenant they touch (actor_type
 *   `operator`; every action names a tenant), so that tenant's admins see them too.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's table types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("platform_operators")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("email", "text", (c) => c.notNull().unique())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("password_hash", "text", (c) => c.notNull())
    .addColumn("disabled", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("operator_sessions")
    .addColumn("id_hash", "text", (c) => c.primaryKey())
    .addColumn("operator_id", "text", (c) => c.notNull().references("platform_operators.id"))
    .addColumn("csrf_token", "text", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("operator_sessions_expiry")
    .on("operator_sessions")
    .column("expires_at")
    .execute();
  await db.schema.alterTable("tenants").addColumn("suspended_at", "bigint").execute();
  await db.schema.alterTable("tenants").addColumn("suspension_reason", "text").execute();
  // The console's list of unrouted callbacks: rows without a tenant, newest first.
  await db.schema
    .createIndex("callback_logs_unrouted")
    .on("callback_logs")
    .columns(["created_at", "id"])
    .where(sql.ref("tenant_id"), "is", null)
    .execute();
  // The console's operator audit trail, across tenants, newest first.
  await db.schema
    .createIndex("audit_log_operator")
    .on("audit_log")
    .columns(["created_at", "id"])
    .where(sql.ref("actor_type"), "=", sql.lit("operator"))
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("audit_log_operator").execute();
  await db.schema.dropIndex("callback_logs_unrouted").execute();
  await db.schema.alterTable("tenants").dropColumn("suspension_reason").execute();
  await db.schema.alterTable("tenants").dropColumn("suspended_at").execute();
  await db.schema.dropTable("operator_sessions").execute();
  await db.schema.dropTable("platform_operators").execute();
}
