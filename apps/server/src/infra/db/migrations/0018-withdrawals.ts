import { type Kysely, sql } from "kysely";

/**
 * Withdrawals (docs/withdrawals.md):
 * - `wallets.held_minor`: what the wallet's open withdrawals hold; available = balance − held.
 *   It equals the sum of the wallet's hold entries, as `balance_minor` equals the sum of the rest.
 * - `ledger_entries.withdrawal_id`: the withdrawal a `withdrawal_hold`, `withdrawal_release` or
 *   `withdrawal_debit` entry belongs to; a unique index allows one entry of each kind per
 *   withdrawal, so a hold is placed, released and debited at most once whatever races.
 * - `withdrawal_methods`: the back office's payout channels: currencies with limits and fees,
 *   the client's fields, who sees it, manual or through an integration, the approval policy.
 * - `withdrawals`: one request, its amounts in minor units, its status and approval progress.
 * - `withdrawal_decisions`: one row per approval level decided; the unique indexes make each
 *   level one decision and each person one decision per withdrawal.
 * - `withdrawal_events`: the withdrawal's timeline.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's table types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("wallets")
    .addColumn("held_minor", "bigint", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable("ledger_entries").addColumn("withdrawal_id", "text").execute();
  await db.schema
    .createIndex("ledger_one_entry_per_withdrawal_kind")
    .on("ledger_entries")
    .columns(["withdrawal_id", "kind"])
    .unique()
    .where(sql.ref("withdrawal_id"), "is not", null)
    .execute();

  await db.schema
    .createTable("withdrawal_methods")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("enabled", "integer", (c) => c.notNull().defaultTo(1))
    .addColumn("sort_order", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("currencies", "text", (c) => c.notNull())
    .addColumn("fields", "text", (c) => c.notNull().defaultTo("[]"))
    .addColumn("visibility", "text", (c) => c.notNull().defaultTo("all"))
    .addColumn("client_groups", "text", (c) => c.notNull().defaultTo("[]"))
    .addColumn("payout_mode", "text", (c) => c.notNull().defaultTo("manual"))
    .addColumn("integration_id", "text")
    .addColumn("approval_policy", "text", (c) => c.notNull())
    .addColumn("failed_payout", "text", (c) => c.notNull().defaultTo("release"))
    .addColumn("deleted_at", "bigint")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("withdrawal_methods_tenant")
    .on("withdrawal_methods")
    .columns(["tenant_id", "sort_order"])
    .execute();

  await db.schema
    .createTable("withdrawals")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("payout_no", "text", (c) => c.notNull().unique())
    .addColumn("client_id", "text", (c) => c.notNull())
    .addColumn("wallet_id", "text", (c) => c.notNull())
    .addColumn("method_id", "text", (c) => c.notNull())
    .addColumn("currency", "text", (c) => c.notNull())
    .addColumn("decimals", "integer", (c) => c.notNull())
    .addColumn("amount_minor", "bigint", (c) => c.notNull())
    .addColumn("fee_minor", "bigint", (c) => c.notNull())
    .addColumn("payout_minor", "bigint", (c) => c.notNull())
    .addColumn("fields", "text", (c) => c.notNull().defaultTo("{}"))
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("levels_required", "integer", (c) => c.notNull())
    .addColumn("levels_done", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("requested_by_staff_id", "text")
    .addColumn("idempotency_key", "text")
    .addColumn("client_reason", "text")
    .addColumn("payout_reference", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("withdrawals_tenant_status")
    .on("withdrawals")
    .columns(["tenant_id", "status", "created_at"])
    .execute();
  await db.schema
    .createIndex("withdrawals_client")
    .on("withdrawals")
    .columns(["tenant_id", "client_id", "created_at"])
    .execute();
  await db.schema
    .createIndex("withdrawals_idempotency")
    .on("withdrawals")
    .columns(["tenant_id", "client_id", "idempotency_key"])
    .unique()
    .where(sql.ref("idempotency_key"), "is not", null)
    .execute();

  await db.schema
    .createTable("withdrawal_decisions")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("withdrawal_id", "text", (c) => c.notNull())
    .addColumn("level", "integer", (c) => c.notNull())
    .addColumn("decision", "text", (c) => c.notNull())
    .addColumn("staff_id", "text", (c) => c.notNull())
    .addColumn("comment", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addUniqueConstraint("withdrawal_decisions_level", ["withdrawal_id", "level"])
    .addUniqueConstraint("withdrawal_decisions_person", ["withdrawal_id", "staff_id"])
    .execute();

  await db.schema
    .createTable("withdrawal_events")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("withdrawal_id", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("data", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("withdrawal_events_withdrawal")
    .on("withdrawal_events")
    .columns(["withdrawal_id", "created_at"])
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("withdrawal_events").execute();
  await db.schema.dropTable("withdrawal_decisions").execute();
  await db.schema.dropTable("withdrawals").execute();
  await db.schema.dropTable("withdrawal_methods").execute();
  await db.schema.dropIndex("ledger_one_entry_per_withdrawal_kind").execute();
  await db.schema.alterTable("ledger_entries").dropColumn("withdrawal_id").execute();
  await db.schema.alterTable("wallets").dropColumn("held_minor").execute();
}
