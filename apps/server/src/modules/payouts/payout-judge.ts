import { type CallbackErrorType, formatAmount, isCallbackStatus, tryParseAmount } from "@psphub/protocol";
import type { WithdrawalStatus } from "../withdrawals/withdrawal-state.js";

/**
 * Checks 6–8 of an API-5 result against its payout (pure, docs/psp-open-api.md#api-5): the
 * currency, the amount (exactly the payout's: no amount policy applies to money going out) and
 * the status, allowed from the withdrawal's status. The same table judges an API-5 callback and a
 * payout status answer.
 */

export type PayoutResult = { currency: string; amountText: string; status: number };
export type PayoutFacts = {
  status: WithdrawalStatus;
  currency: string;
  decimals: number;
  payoutMinor: bigint;
};

export type PayoutJudgement =
  /** Move the withdrawal: paid (the debit), failed (the hold by policy), paying (nothing moves). */
  | { kind: "apply"; to: "paid" | "failed" | "paying" }
  /** It already has this status: 204, nothing changes. */
  | { kind: "repeat" }
  | {
      kind: "refuse";
      type: CallbackErrorType;
      detail: string;
      /** A result that contradicts a final one: money may have moved; finance must look. */
      contradiction?: boolean;
    };

const STARTED: ReadonlySet<WithdrawalStatus> = new Set(["approved", "paying"]);
const WORD = { 0: "0 (failed)", 1: "1 (paid)", 2: "2 (processing)" } as const;

export function judgePayoutResult(w: PayoutFacts, r: PayoutResult): PayoutJudgement {
  if (r.currency !== w.currency)
    return {
      kind: "refuse",
      type: "payment_currency_not_allowed",
      detail: `\`currency\` is \`${r.currency.slice(0, 64)}\`, the payout's is \`${w.currency}\``,
    };
  const expected = formatAmount(w.payoutMinor, w.decimals);
  const parsed = tryParseAmount(r.amountText, w.decimals);
  if (!parsed.ok || parsed.minor !== w.payoutMinor)
    return {
      kind: "refuse",
      type: "payment_amount_not_allowed",
      detail: `\`amount\` \`${r.amountText.slice(0, 64)}\` is not the payout's ${expected}`,
    };
  if (!isCallbackStatus(r.status))
    return {
      kind: "refuse",
      type: "payment_status_not_allowed",
      detail: `\`status\` ${r.status} is not 0 (failed), 1 (paid) or 2 (processing)`,
    };
  const to = r.status === 1 ? "paid" : r.status === 0 ? "failed" : "paying";
  if (w.status === to) return { kind: "repeat" };
  if (STARTED.has(w.status))
    return to === "paying" && w.status === "paying" ? { kind: "repeat" } : { kind: "apply", to };
  if (to === "paying")
    return {
      kind: "refuse",
      type: "payment_status_not_allowed",
      detail: `\`status\` 2 (processing) cannot follow the payout's final status \`${w.status}\``,
    };
  return {
    kind: "refuse",
    type: "payment_status_not_pending",
    detail: `the payout is already \`${w.status}\`: \`status\` ${WORD[r.status]} cannot change it`,
    contradiction: w.status === "paid" || w.status === "failed",
  };
}
