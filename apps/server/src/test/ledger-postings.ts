import { newId } from "../common/ids.js";
import type { Db } from "../infra/db/database.js";
import { runWrites } from "../infra/db/write-batch.js";
import { type LedgerPosting, ledgerWrites, type PlannedPosting } from "../modules/clients/ledger.js";

/**
 * Ledger postings for tests that need money in a wallet without going through a deposit. They
 * write with the server's own `ledgerWrites`, so the balance and the entry move together.
 */

/** Finds the client's wallet in a currency, creating it if needed (insert-or-ignore, then read). */
export async function ensureWallet(
  db: Db,
  w: { tenantId: string; clientId: string; currency: string; now: number },
): Promise<string> {
  await db
    .insertInto("wallets")
    .values({
      id: newId(),
      tenant_id: w.tenantId,
      client_id: w.clientId,
      currency: w.currency,
      balance_minor: 0,
      held_minor: 0,
      created_at: w.now,
    })
    .onConflict((oc) => oc.columns(["client_id", "currency"]).doNothing())
    .execute();
  const row = await db
    .selectFrom("wallets")
    .select("id")
    .where("client_id", "=", w.clientId)
    .where("currency", "=", w.currency)
    .where("tenant_id", "=", w.tenantId)
    .executeTakeFirstOrThrow();
  return row.id;
}

/**
 * Appends one ledger entry and moves the wallet's cached balance by the same amount. Must run
 * inside the caller's transaction, so that both happen or neither does; if the entry fails (a
 * second `deposit` entry for the same deposit violates `ledger_one_credit_per_deposit`) the
 * transaction must roll back.
 */
export async function postLedgerEntry(
  trx: Db,
  p: LedgerPosting,
): Promise<{ walletId: string; entryId: string }> {
  const existing = await trx
    .selectFrom("wallets")
    .select(["id", "tenant_id"])
    .where("client_id", "=", p.clientId)
    .where("currency", "=", p.currency)
    .executeTakeFirst();
  // A client belongs to one tenant: a wallet of another tenant is never touched.
  if (existing && existing.tenant_id !== p.tenantId)
    throw new Error("no wallet of this tenant for the client");
  const planned: PlannedPosting = { ...p, walletId: existing?.id ?? newId(), entryId: newId() };
  await runWrites(trx, ledgerWrites(trx, [planned]));
  return { walletId: planned.walletId, entryId: planned.entryId };
}
