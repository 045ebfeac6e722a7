/**
 * The withdrawal state machine (pure, docs/withdrawals.md#states):
 *
 *   requested ─▶ approving ─▶ approved ─▶ paying ─▶ paid
 *       │            │            │          │ ╲
 *       │            │            │          │  ▶ failed (the hold released, or kept for finance)
 *       ├─▶ cancelled (by the client, while no approval has been given)
 *       └────────────┴────────────┴─▶ rejected (at any level, before the payout starts)
 *
 * `requested`: the hold is placed, no decision yet. `approving`: some levels approved, not all.
 * `approved`: every level approved; a manual payout waits for finance, an integration's payout
 * starts (API-4). `paying`: API-4 accepted, the result not known. Terminal: paid, failed,
 * rejected, cancelled. While a withdrawal is not terminal its amount is held in the wallet.
 */
export const WITHDRAWAL_STATUSES = [
  "requested",
  "approving",
  "approved",
  "paying",
  "paid",
  "failed",
  "rejected",
  "cancelled",
] as const;
export type WithdrawalStatus = (typeof WITHDRAWAL_STATUSES)[number];

const ALLOWED: Record<WithdrawalStatus, readonly WithdrawalStatus[]> = {
  requested: ["approving", "approved", "rejected", "cancelled"],
  approving: ["approving", "approved", "rejected"],
  approved: ["paying", "paid", "failed", "rejected"],
  paying: ["paid", "failed"],
  paid: [],
  failed: [],
  rejected: [],
  cancelled: [],
};

export const TERMINAL_WITHDRAWAL: ReadonlySet<WithdrawalStatus> = new Set([
  "paid",
  "failed",
  "rejected",
  "cancelled",
]);

export const canMoveWithdrawal = (from: WithdrawalStatus, to: WithdrawalStatus): boolean =>
  ALLOWED[from].includes(to);

/** The statuses `to` may be reached from: the WHERE clause of a conditional update. */
export const withdrawalSourcesOf = (to: WithdrawalStatus): WithdrawalStatus[] =>
  WITHDRAWAL_STATUSES.filter((from) => canMoveWithdrawal(from, to));

/** What becomes of the held amount when a withdrawal reaches a status. */
export function holdOutcome(to: WithdrawalStatus): "keep" | "release" | "debit" {
  if (to === "paid") return "debit";
  if (to === "rejected" || to === "cancelled") return "release";
  // A failed payout: released or kept for finance by the method's policy (the caller decides).
  return "keep";
}
