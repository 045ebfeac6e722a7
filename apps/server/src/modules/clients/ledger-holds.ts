import { newId } from "../../common/ids.js";
import { type Db, toDbMinor } from "../../infra/db/database.js";

/**
 * Holds on a wallet for withdrawals (docs/withdrawals.md#the-hold). A hold is ledger entries of
 * kinds of their own, never a plain debit: `withdrawal_hold` (+amount) and `withdrawal_release`
 * (−amount) move the wallet's `held_minor`; `withdrawal_debit` (−amount) moves its balance.
 * Available = balance − held. The unique index on (withdrawal_id, kind) lets each happen once
 * per withdrawal, whatever races: a second release or debit fails its transaction.
 */

export type HoldRef = {
  tenantId: string;
  walletId: string;
  withdrawalId: string;
  amountMinor: bigint;
  now: number;
};

const entry = (
  r: HoldRef,
  kind: "withdrawal_hold" | "withdrawal_release" | "withdrawal_debit",
  sign: 1n | -1n,
) => ({
  id: newId(),
  tenant_id: r.tenantId,
  wallet_id: r.walletId,
  amount_minor: toDbMinor(sign * r.amountMinor),
  kind,
  deposit_id: null,
  withdrawal_id: r.withdrawalId,
  memo: null,
  created_at: r.now,
});

/**
 * Holds `amountMinor` if the wallet's available balance covers it, in one conditional update:
 * two holds racing on the same wallet (two processes, either database) are decided by the
 * wallet's row, and the second sees the first's. Returns false, writing nothing, when it does not.
 */
export async function placeHold(trx: Db, r: HoldRef): Promise<boolean> {
  if (r.amountMinor <= 0n) throw new Error("a hold is of a positive amount");
  const res = await trx
    .updateTable("wallets")
    .set((eb) => ({ held_minor: eb("held_minor", "+", toDbMinor(r.amountMinor)) }))
    .where("id", "=", r.walletId)
    .where("tenant_id", "=", r.tenantId)
    .where((eb) => eb(eb("balance_minor", "-", eb.ref("held_minor")), ">=", toDbMinor(r.amountMinor)))
    .executeTakeFirst();
  if (res.numUpdatedRows !== 1n) return false;
  await trx
    .insertInto("ledger_entries")
    .values(entry(r, "withdrawal_hold", 1n))
    .execute();
  return true;
}

/** Gives the held amount back to the available balance (a rejection, a cancel, a failed payout). */
export async function releaseHold(trx: Db, r: HoldRef): Promise<void> {
  await trx
    .insertInto("ledger_entries")
    .values(entry(r, "withdrawal_release", -1n))
    .execute();
  await trx
    .updateTable("wallets")
    .set((eb) => ({ held_minor: eb("held_minor", "-", toDbMinor(r.amountMinor)) }))
    .where("id", "=", r.walletId)
    .where("tenant_id", "=", r.tenantId)
    .execute();
}

/** The payout happened: the hold is released and the same amount leaves the balance. */
export async function debitHold(trx: Db, r: HoldRef): Promise<void> {
  await trx
    .insertInto("ledger_entries")
    .values([entry(r, "withdrawal_release", -1n), entry(r, "withdrawal_debit", -1n)])
    .execute();
  await trx
    .updateTable("wallets")
    .set((eb) => ({
      held_minor: eb("held_minor", "-", toDbMinor(r.amountMinor)),
      balance_minor: eb("balance_minor", "-", toDbMinor(r.amountMinor)),
    }))
    .where("id", "=", r.walletId)
    .where("tenant_id", "=", r.tenantId)
    .execute();
}
