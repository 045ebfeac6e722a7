import type { CallbackErrorType } from "@psphub/protocol";
import type { CallbackLogsTable, DepositStatus } from "../../infra/db/schema.js";
import type { ApplyOutcome, ResultStatus } from "../deposits/apply-result.js";
import type { ReviewReason } from "../review/review-repo.js";

export type CallbackVerdict = CallbackLogsTable["verdict"];

/** What an API-2 callback that passed every check before the status ends in (pure). */
export type ClaimOutcome = {
  verdict: CallbackVerdict;
  /** null: answer 204. */
  errorType: CallbackErrorType | null;
  /** A review item to keep, so that no reported payment is ever lost (spec, failure mode 7). */
  review: ReviewReason | null;
};

/**
 * Maps the result of applying a callback's status to the answer (spec "Idempotency"):
 * - applied → 204 `accepted`; the same status again → 204 `duplicate`, nothing changed;
 * - a stale `processing` after any final status → `payment_status_not_allowed` (a regression is
 *   refused, never applied: failure mode 5), logged only;
 * - success for an expired/cancelled order → `payment_status_not_pending` + `late_success` item;
 * - success vs failed, or failure vs succeeded → `payment_status_not_pending` + `conflict` item;
 * - failure for an expired/cancelled order → `payment_status_not_pending`, logged only: the order
 *   is closed and nothing was paid.
 */
export function claimOutcome(requested: ResultStatus, result: ApplyOutcome): ClaimOutcome {
  switch (result.kind) {
    case "applied":
      return { verdict: "accepted", errorType: null, review: null };
    case "repeat":
      return { verdict: "duplicate", errorType: null, review: null };
    case "late":
      return { verdict: "review", errorType: "payment_status_not_pending", review: "late_success" };
    case "conflict":
      if (requested === "processing")
        return { verdict: "rejected", errorType: "payment_status_not_allowed", review: null };
      if (isSettled(result.current))
        return { verdict: "review", errorType: "payment_status_not_pending", review: "conflict" };
      return { verdict: "rejected", errorType: "payment_status_not_pending", review: null };
  }
}

const isSettled = (s: DepositStatus): boolean => s === "succeeded" || s === "failed";

/**
 * The credit when the PSP reports a paid amount other than the ordered one and the amount is
 * credited anyway (policy `credit_paid`, or an admin crediting a held or mismatched payment):
 * the paid amount minus the fee fixed when the order was created, floored at 0. The fee is not
 * recomputed on the paid amount: the client was quoted it, and the method's fee settings may
 * have changed since. `paid_amount_minor` keeps what was paid beside the ordered amount.
 */
export function creditForPaid(paidMinor: bigint, feeMinor: bigint): bigint {
  return paidMinor > feeMinor ? paidMinor - feeMinor : 0n;
}
