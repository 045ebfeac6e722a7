import { sql } from "kysely";
import { type Db, toBigInt, toDbMinor } from "../../infra/db/database.js";
import type { LedgerEntriesTable } from "../../infra/db/schema.js";
import { newId } from "../../shared/ids.js";

export type LedgerPosting = {
  tenantId: string;
  clientId: string;
  currency: string;
  amountMinor: bigint;
  kind: LedgerEntriesTable["kind"];
  /** For kind `deposit`: the deposit credited. A unique index allows one deposit entry per deposit. */
  depositId: string | null;
  memo?: string | null;
  now: number;
};

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
 * Appends one ledger entry and moves the wallet's cached balance by the same amount.
 * Must run inside the caller's transaction, so that both happen or neither does: the wallet is
 * written first (one upsert that creates it or adds to its balance, returning its id), then the
 * entry; if the entry fails (a second `deposit` entry for the same deposit violates
 * `ledger_one_credit_per_deposit` and throws) the caller's transaction must roll back, as every
 * caller's does (the error propagates out of it).
 */
export async function postLedgerEntry(
  trx: Db,
  p: LedgerPosting,
): Promise<{ walletId: string; entryId: string }> {
  const amount = toDbMinor(p.amountMinor);
  const wallet = await trx
    .insertInto("wallets")
    .values({
      id: newId(),
      tenant_id: p.tenantId,
      client_id: p.clientId,
      currency: p.currency,
      balance_minor: amount,
      created_at: p.now,
    })
    .onConflict((oc) =>
      oc
        .columns(["client_id", "currency"])
        .doUpdateSet({ balance_minor: sql`wallets.balance_minor + excluded.balance_minor` })
        // A client belongs to one tenant; a wallet of another tenant is never touched (no row
        // comes back, and the posting fails as the tenant-filtered read did before).
        .where("wallets.tenant_id", "=", p.tenantId),
    )
    .returning("id")
    .executeTakeFirst();
  if (!wallet) throw new Error("no wallet of this tenant for the client");
  const walletId = wallet.id;
  const entryId = newId();
  await trx
    .insertInto("ledger_entries")
    .values({
      id: entryId,
      tenant_id: p.tenantId,
      wallet_id: walletId,
      amount_minor: amount,
      kind: p.kind,
      deposit_id: p.depositId,
      memo: p.memo ?? null,
      created_at: p.now,
    })
    .execute();
  return { walletId, entryId };
}

export type LedgerMismatch = { walletId: string; balanceMinor: bigint; ledgerSumMinor: bigint };

/**
 * The ledger invariant: every wallet's cached balance equals the sum of its entries. Returns the
 * wallets where it does not hold (none, always). Scoped to one tenant when given.
 */
export async function findLedgerMismatches(db: Db, tenantId?: string): Promise<LedgerMismatch[]> {
  let q = db
    .selectFrom("wallets as w")
    .leftJoin("ledger_entries as e", "e.wallet_id", "w.id")
    .select(["w.id", "w.balance_minor", sql<string | number | null>`sum(e.amount_minor)`.as("total")])
    .groupBy(["w.id", "w.balance_minor"]);
  if (tenantId) q = q.where("w.tenant_id", "=", tenantId);
  const rows = await q.execute();
  return rows
    .map((r) => ({
      walletId: r.id,
      balanceMinor: toBigInt(r.balance_minor),
      ledgerSumMinor: toBigInt(r.total),
    }))
    .filter((r) => r.balanceMinor !== r.ledgerSumMinor);
}
