import type { CallbackErrorType } from "@psphub/protocol";
import type { CallbackLogsTable, DepositStatus } from "../../infra/db/schema.js";
import type { ReviewReason } from "../review/review-repo.js";
import type { ResultStatus, SettlementOutcome } from "../settlement/settlement-planner.js";

export type CallbackVerdict = CallbackLogsTable["verdict"];

/** What an API-2 callback that passed every check before the status ends in (pure). */
export type ClaimOutcome = {
  verdict: CallbackVerdict;
  /** null: answer 204. */
  errorType: CallbackErrorType | null;
  /** A review item to keep, so that no reported payment is ever lost (docs/psp-open-api.md#review-queue, docs/failure-modes.md#failure-mode-7). */
  review: ReviewReason | null;
};

/**
 * Maps the result of applying a callback's status to the answer (docs/psp-open-api.md#api-2-idempotency):
 * - applied → 204 `accepted`; the same status again → 204 `duplicate`, nothing changed;
 * - a stale `processing` after any final status → `payment_status_not_allowed` (a regression is
 *   refused, never applied: docs/failure-modes.md#failure-mode-5), logged only;
 * - success for an expired/cancelled order → `payment_status_not_pending` + `late_success` item;
 * - success vs failed, or failure vs succeeded → `payment_status_not_pending` + `conflict` item;
 * - failure for an expired/cancelled order → `payment_status_not_pending`, logged only: the order
 *   is closed and nothing was paid;
 * - an order the settlement did not read (or another tenant's) → `payment_not_found`.
 */
export function claimOutcome(requested: ResultStatus, result: SettlementOutcome): ClaimOutcome {
  switch (result.kind) {
    case "unknown":
      return { verdict: "rejected", errorType: "payment_not_found", review: null };
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
 * Whether a success reporting `paidMinor` contradicts an order that already succeeded: it was
 * settled with another amount (what the PSP reported as paid then, or the ordered amount when
 * nothing was reported, e.g. approved by hand). That may be a second, real payment: kept for
 * review as a `conflict`, never a 204 duplicate and never credited. Under
 * every amount policy: the first success decides the credit.
 */
export function contradictsSettledAmount(
  order: { status: DepositStatus; amount_minor: number | bigint; paid_amount_minor: number | bigint | null },
  requested: number,
  paidMinor: bigint,
): boolean {
  if (order.status !== "succeeded" || requested !== 1) return false;
  return paidMinor !== BigInt(order.paid_amount_minor ?? order.amount_minor);
}
