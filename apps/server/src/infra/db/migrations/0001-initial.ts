import type { Kysely } from "kysely";

/**
 * The first schema. Written with Kysely's schema builder so that one migration serves both
 * SQLite and PostgreSQL. Every tenant-owned table carries tenant_id; uniqueness constraints
 * carry the money invariants (one credit per deposit, one wallet per client and currency).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's table types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("tenants")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("slug", "text", (c) => c.notNull().unique())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("users")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("email", "text", (c) => c.notNull().unique())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("password_hash", "text", (c) => c.notNull())
    .addColumn("role", "text", (c) => c.notNull())
    .addColumn("disabled", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("users_tenant").on("users").column("tenant_id").execute();

  await db.schema
    .createTable("sessions")
    .addColumn("id_hash", "text", (c) => c.primaryKey())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("subject_id", "text", (c) => c.notNull())
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("csrf_token", "text", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("sessions_expiry").on("sessions").column("expires_at").execute();

  await db.schema
    .createTable("api_keys")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("prefix", "text", (c) => c.notNull())
    .addColumn("key_hash", "text", (c) => c.notNull().unique())
    .addColumn("role", "text", (c) => c.notNull())
    .addColumn("created_by", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("last_used_at", "bigint")
    .addColumn("revoked_at", "bigint")
    .execute();

  await db.schema
    .createTable("psp_integrations")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("enabled", "integer", (c) => c.notNull())
    .addColumn("app_url", "text", (c) => c.notNull())
    .addColumn("merchant_id", "text", (c) => c.notNull().unique())
    .addColumn("token_enc", "text", (c) => c.notNull())
    .addColumn("prev_token_enc", "text")
    .addColumn("prev_token_expires_at", "bigint")
    .addColumn("token_rotated_at", "bigint")
    .addColumn("api1_timeout_ms", "integer", (c) => c.notNull())
    .addColumn("amount_policy", "text", (c) => c.notNull())
    .addColumn("param_config", "text", (c) => c.notNull())
    .addColumn("custom_params", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("psp_integrations_tenant").on("psp_integrations").column("tenant_id").execute();

  await db.schema
    .createTable("deposit_methods")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("integration_id", "text", (c) => c.notNull().references("psp_integrations.id"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("enabled", "integer", (c) => c.notNull())
    .addColumn("sort_order", "integer", (c) => c.notNull())
    .addColumn("currencies", "text", (c) => c.notNull())
    .addColumn("visibility", "text", (c) => c.notNull())
    .addColumn("client_groups", "text", (c) => c.notNull())
    .addColumn("field_labels", "text", (c) => c.notNull())
    .addColumn("order_ttl_seconds", "integer", (c) => c.notNull())
    .addColumn("deleted_at", "bigint")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("deposit_methods_tenant").on("deposit_methods").column("tenant_id").execute();

  await db.schema
    .createTable("clients")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("email", "text", (c) => c.notNull())
    .addColumn("phone", "text")
    .addColumn("nationality", "text")
    .addColumn("language", "text")
    .addColumn("client_group", "text")
    .addColumn("password_hash", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addUniqueConstraint("clients_tenant_email", ["tenant_id", "email"])
    .execute();

  await db.schema
    .createTable("wallets")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("client_id", "text", (c) => c.notNull().references("clients.id"))
    .addColumn("currency", "text", (c) => c.notNull())
    .addColumn("balance_minor", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addUniqueConstraint("wallets_client_currency", ["client_id", "currency"])
    .execute();

  await db.schema
    .createTable("ledger_entries")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("wallet_id", "text", (c) => c.notNull().references("wallets.id"))
    .addColumn("amount_minor", "bigint", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("deposit_id", "text")
    .addColumn("memo", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
  // The exactly-once guarantee lives here, not in application code: a second deposit credit
  // for the same deposit violates this index and rolls its transaction back.
  await db.schema
    .createIndex("ledger_one_credit_per_deposit")
    .on("ledger_entries")
    .columns(["deposit_id", "kind"])
    .unique()
    .execute();
  await db.schema.createIndex("ledger_wallet").on("ledger_entries").column("wallet_id").execute();

  await db.schema
    .createTable("deposits")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("order_no", "text", (c) => c.notNull().unique())
    .addColumn("client_id", "text", (c) => c.notNull().references("clients.id"))
    .addColumn("method_id", "text", (c) => c.notNull())
    .addColumn("integration_id", "text", (c) => c.notNull())
    .addColumn("currency", "text", (c) => c.notNull())
    .addColumn("decimals", "integer", (c) => c.notNull())
    .addColumn("amount_minor", "bigint", (c) => c.notNull())
    .addColumn("fee_minor", "bigint", (c) => c.notNull())
    .addColumn("credit_minor", "bigint", (c) => c.notNull())
    .addColumn("paid_amount_minor", "bigint")
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("fields", "text", (c) => c.notNull())
    .addColumn("device", "text")
    .addColumn("language", "text")
    .addColumn("idempotency_key", "text")
    .addColumn("request_hash", "text")
    .addColumn("payment_url", "text")
    .addColumn("failure_reason", "text")
    .addColumn("failure_message", "text")
    .addColumn("transaction_id", "text")
    .addColumn("psp_time", "bigint")
    .addColumn("created_by", "text")
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addColumn("finalized_at", "bigint")
    .addUniqueConstraint("deposits_idempotency", ["tenant_id", "client_id", "idempotency_key"])
    .execute();
  await db.schema
    .createIndex("deposits_tenant_created")
    .on("deposits")
    .columns(["tenant_id", "created_at"])
    .execute();
  await db.schema
    .createIndex("deposits_status_expiry")
    .on("deposits")
    .columns(["status", "expires_at"])
    .execute();

  await db.schema
    .createTable("deposit_events")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("deposit_id", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("data", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("deposit_events_deposit").on("deposit_events").column("deposit_id").execute();

  await db.schema
    .createTable("callback_logs")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "text")
    .addColumn("integration_id", "text")
    .addColumn("deposit_id", "text")
    .addColumn("merchant_id", "text")
    .addColumn("order_no", "text")
    .addColumn("content_type", "text")
    .addColumn("raw_body", "text", (c) => c.notNull())
    .addColumn("verdict", "text", (c) => c.notNull())
    .addColumn("error_type", "text")
    .addColumn("http_status", "integer", (c) => c.notNull())
    .addColumn("remote_addr", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("callback_logs_integration")
    .on("callback_logs")
    .columns(["integration_id", "created_at"])
    .execute();
  await db.schema.createIndex("callback_logs_deposit").on("callback_logs").column("deposit_id").execute();

  await db.schema
    .createTable("review_items")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("deposit_id", "text", (c) => c.notNull())
    .addColumn("callback_log_id", "text")
    .addColumn("reason", "text", (c) => c.notNull())
    .addColumn("dedupe_key", "text", (c) => c.notNull().unique())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("resolution", "text")
    .addColumn("resolved_by", "text")
    .addColumn("comment", "text")
    .addColumn("data", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("resolved_at", "bigint")
    .execute();
  await db.schema
    .createIndex("review_items_tenant")
    .on("review_items")
    .columns(["tenant_id", "status"])
    .execute();

  await db.schema
    .createTable("audit_log")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("actor_type", "text", (c) => c.notNull())
    .addColumn("actor_id", "text")
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("target_type", "text", (c) => c.notNull())
    .addColumn("target_id", "text")
    .addColumn("before", "text")
    .addColumn("after", "text")
    .addColumn("ip", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("audit_tenant_created")
    .on("audit_log")
    .columns(["tenant_id", "created_at"])
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  for (const t of [
    "audit_log",
    "review_items",
    "callback_logs",
    "deposit_events",
    "deposits",
    "ledger_entries",
    "wallets",
    "clients",
    "deposit_methods",
    "psp_integrations",
    "api_keys",
    "sessions",
    "users",
    "tenants",
  ]) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
