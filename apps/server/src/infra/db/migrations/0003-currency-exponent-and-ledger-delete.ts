import { type Kysely, PostgresAdapter, sql } from "kysely";

/**
 * Ledger entries: the database refuses DELETE too, on both dialects, as
 * 0002 made it refuse UPDATE (and TRUNCATE on PostgreSQL). 0002 left DELETE open only because
 * storage tests cleaned up ledger rows between cases; they now use a fresh database instead.
 * On PostgreSQL the trigger reuses 0002's function, which names the operation refused.
 *
 * Currency exponents (one per currency per tenant) need no schema change: an order keeps the decimals it
 * was created with (`deposits.decimals`), so a deposit entry's exponent is its order's, and
 * existing data that mixes exponents is reported by `psphub doctor`, never rescaled here.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's table types
export async function up(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`
      create trigger ledger_entries_no_delete before delete on ledger_entries
      for each row execute function ledger_entries_append_only()`.execute(db);
    return;
  }
  await sql`
    create trigger ledger_entries_no_delete before delete on ledger_entries
    begin
      select raise(abort, 'ledger_entries is append-only: DELETE is not allowed');
    end`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger if exists ledger_entries_no_delete${
    db.getExecutor().adapter instanceof PostgresAdapter ? sql` on ledger_entries` : sql``
  }`.execute(db);
}
