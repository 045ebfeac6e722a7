import { type Kysely, PostgresAdapter, sql } from "kysely";

/**
 * Ledger entries are append-only: a wallet's history is its entries, and its cached
 * balance is their sum. No code path updates an entry; this makes the database refuse it too, on
 * both dialects, so neither a bug nor a hand-written statement can rewrite money history.
 * (PostgreSQL also refuses TRUNCATE.) Corrections are new entries of kind `adjustment`.
 *
 * DELETE is refused by migration 0003 (tests that cleaned up ledger rows now take a fresh database).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's table types
export async function up(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`
      create function ledger_entries_append_only() returns trigger language plpgsql as $$
      begin
        raise exception 'ledger_entries is append-only: % is not allowed', tg_op
          using errcode = 'restrict_violation';
      end
      $$`.execute(db);
    await sql`
      create trigger ledger_entries_no_update before update on ledger_entries
      for each row execute function ledger_entries_append_only()`.execute(db);
    await sql`
      create trigger ledger_entries_no_truncate before truncate on ledger_entries
      for each statement execute function ledger_entries_append_only()`.execute(db);
    return;
  }
  await sql`
    create trigger ledger_entries_no_update before update on ledger_entries
    begin
      select raise(abort, 'ledger_entries is append-only: UPDATE is not allowed');
    end`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger if exists ledger_entries_no_update${
    db.getExecutor().adapter instanceof PostgresAdapter ? sql` on ledger_entries` : sql``
  }`.execute(db);
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`drop trigger if exists ledger_entries_no_truncate on ledger_entries`.execute(db);
    await sql`drop function if exists ledger_entries_append_only()`.execute(db);
  }
}
