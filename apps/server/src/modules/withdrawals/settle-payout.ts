import { type Db, toBigInt } from "../../infra/db/database.js";
import { debitHold, type HoldRef, releaseHold } from "../clients/ledger-holds.js";
import { insertWebhookEvents } from "../webhooks/outbox-repo.js";
import type { WithdrawalMethod } from "./withdrawal-model.js";
import { createWithdrawalRepo, type WithdrawalRow } from "./withdrawal-repo.js";
import { withdrawalWebhook } from "./withdrawal-webhook.js";

/**
 * The one apply step of a payout's result (docs/withdrawals.md#payouts), whoever reports it: an
 * API-5 callback, a payout status answer, API-4's refusal, or finance closing a payout by hand.
 * Runs inside the caller's transaction. The withdrawal's conditional update decides between
 * racing reports (in any number of processes), and the ledger's unique index on (withdrawal,
 * kind) is the last guard: the hold becomes the debit, or goes back, exactly once.
 *
 * A failure under the method's `keep` policy does not fail the withdrawal: the hold stays and
 * the payout waits for finance (`needs_assistance: failed_hold_kept`), who marks it failed (the
 * hold goes back) or paid (the debit).
 */

export type PayoutCause = "callback" | "status_query" | "api4" | "manual";
export type PayoutOutcome = "applied" | "repeat";

/** The ledger hold of a withdrawal, as its entries name it. */
export const holdOf = (w: WithdrawalRow, now: number): HoldRef => ({
  tenantId: w.tenant_id,
  walletId: w.wallet_id,
  withdrawalId: w.id,
  amountMinor: toBigInt(w.amount_minor),
  now,
});

const STARTED = ["approved", "paying"] as const;

export async function applyPayoutResult(
  trx: Db,
  w: WithdrawalRow,
  method: Pick<WithdrawalMethod, "failedPayout">,
  r: {
    to: "paid" | "failed" | "paying";
    cause: PayoutCause;
    transactionId?: string | null;
    /** paid by hand: finance's reference. failed: why. */
    reference?: string | null;
    /** The person who closed it by hand. */
    by?: string;
    reason?: string | null;
    /** When the first status query of a paying payout is due. */
    firstQueryAt?: number;
    now: number;
  },
): Promise<PayoutOutcome> {
  const repo = createWithdrawalRepo(trx);
  const { now } = r;
  const tx = r.transactionId ?? w.transaction_id;
  const cause = { cause: r.cause, transactionId: tx ?? null, ...(r.by ? { by: r.by } : {}) };

  if (r.to === "paying") {
    const moved = await repo.move(w.tenant_id, w.id, ["approved"], "paying", now, {
      transaction_id: tx,
      payout_due: r.firstQueryAt ?? now,
      payout_step: 0,
    });
    if (moved) await repo.addEvent(w.tenant_id, w.id, "payout_processing", cause, now);
    return moved ? "applied" : "repeat";
  }

  if (r.to === "paid") {
    const moved = await repo.move(w.tenant_id, w.id, [...STARTED], "paid", now, {
      transaction_id: tx,
      payout_due: null,
      needs_assistance: null,
      ...(r.reference ? { payout_reference: r.reference } : {}),
    });
    if (!moved) return "repeat";
    await debitHold(trx, holdOf(w, now));
    await repo.addEvent(w.tenant_id, w.id, "paid", { ...cause, reference: r.reference ?? null }, now);
    await repo.addEvent(w.tenant_id, w.id, "debited", { amount: String(w.amount_minor) }, now);
    const after: WithdrawalRow = { ...w, status: "paid", transaction_id: tx, updated_at: now };
    await insertWebhookEvents(trx, [
      withdrawalWebhook("withdrawal.paid", after, now, { reference: r.reference ?? tx ?? undefined }),
    ]);
    return "applied";
  }

  // Failed. Finance closing it by hand always gives the hold back.
  if (method.failedPayout === "keep" && r.cause !== "manual") {
    if (w.needs_assistance === "failed_hold_kept") return "repeat";
    const flagged = await repo.setPayout(
      w.tenant_id,
      w.id,
      { needs_assistance: "failed_hold_kept", payout_due: null, transaction_id: tx },
      { status: STARTED },
      now,
    );
    if (!flagged) return "repeat";
    await repo.addEvent(w.tenant_id, w.id, "payout_failed", { ...cause, reason: r.reason ?? null }, now);
    await repo.addEvent(w.tenant_id, w.id, "needs_assistance", { why: "failed_hold_kept" }, now);
    return "applied";
  }
  const moved = await repo.move(w.tenant_id, w.id, [...STARTED], "failed", now, {
    transaction_id: tx,
    payout_due: null,
    needs_assistance: null,
  });
  if (!moved) return "repeat";
  await releaseHold(trx, holdOf(w, now));
  await repo.addEvent(w.tenant_id, w.id, "failed", { ...cause, reason: r.reason ?? null }, now);
  await repo.addEvent(w.tenant_id, w.id, "hold_released", { amount: String(w.amount_minor) }, now);
  const after: WithdrawalRow = { ...w, status: "failed", transaction_id: tx, updated_at: now };
  await insertWebhookEvents(trx, [withdrawalWebhook("withdrawal.failed", after, now)]);
  return "applied";
}

/**
 * Starts an approved withdrawal's payout through its method's integration (in the caller's
 * transaction): the integration is fixed on the withdrawal and API-4 is due now (the payout job
 * sends it). Returns false when it is not approved or already started.
 */
export async function beginPayout(
  trx: Db,
  w: WithdrawalRow,
  integrationId: string,
  now: number,
  by: string,
): Promise<boolean> {
  const repo = createWithdrawalRepo(trx);
  const started = await repo.setPayout(
    w.tenant_id,
    w.id,
    { integration_id: integrationId, payout_due: now, payout_step: 0, needs_assistance: null },
    { status: ["approved"], notStarted: true },
    now,
  );
  if (started) await repo.addEvent(w.tenant_id, w.id, "payout_started", { by, integrationId }, now);
  return started;
}
