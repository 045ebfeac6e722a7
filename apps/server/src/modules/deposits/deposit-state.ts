import type { DepositStatus } from "../../infra/db/schema.js";

/**
 * The deposit state machine (pure):
 *
 *   pending ─▶ processing ─▶ succeeded | failed
 *   pending ─────────────────▶ succeeded | failed
 *   pending | processing ─▶ expired (TTL sweep) | cancelled (client or admin)
 *
 * Terminal states are final: nothing leaves them. Transitions are monotonic, so a stale
 * "processing" after "succeeded" is refused, never applied (docs/failure-modes.md#failure-mode-5).
 */
export const DEPOSIT_STATUSES: readonly DepositStatus[] = [
  "pending",
  "processing",
  "succeeded",
  "failed",
  "expired",
  "cancelled",
];

export const TERMINAL: ReadonlySet<DepositStatus> = new Set(["succeeded", "failed", "expired", "cancelled"]);
export const OPEN: ReadonlySet<DepositStatus> = new Set(["pending", "processing"]);

const ALLOWED: Record<DepositStatus, readonly DepositStatus[]> = {
  pending: ["processing", "succeeded", "failed", "expired", "cancelled"],
  processing: ["succeeded", "failed", "expired", "cancelled"],
  succeeded: [],
  failed: [],
  expired: [],
  cancelled: [],
};

export const isTerminal = (s: DepositStatus): boolean => TERMINAL.has(s);

export function canTransition(from: DepositStatus, to: DepositStatus): boolean {
  return ALLOWED[from].includes(to);
}

/**
 * The one exception to "terminal states are final", for a human only (docs/failure-modes.md#failure-mode-7): when an
 * admin resolves a review item holding a success callback, a deposit that ended without a credit
 * (expired, cancelled, or failed before the PSP reported success) may still be credited.
 * Callbacks and the expiry sweep never use it; `succeeded` stays final for everyone.
 */
export const LATE_CREDIT_SOURCES: readonly DepositStatus[] = ["expired", "cancelled", "failed"];

export function canResolveLate(from: DepositStatus, to: DepositStatus): boolean {
  return to === "succeeded" && LATE_CREDIT_SOURCES.includes(from);
}

/** The statuses from which `to` may be reached: the WHERE clause of a conditional update. */
export function sourcesOf(to: DepositStatus): DepositStatus[] {
  return DEPOSIT_STATUSES.filter((from) => canTransition(from, to));
}

/** API-2 `status` → the deposit status it asks for. */
export function statusFromCallback(code: number): DepositStatus | undefined {
  return code === 1 ? "succeeded" : code === 0 ? "failed" : code === 2 ? "processing" : undefined;
}

/**
 * What an API-2 status means for an order in a given state:
 * - `apply`: move to `to`;
 * - `repeat`: the order is already there (or already past processing): answer 204, change nothing;
 * - `conflict`: contradicts a final status: `payment_status_not_pending`, record for review;
 * - `late`: success for an expired/cancelled order: record for review (never dropped).
 */
export type CallbackDecision =
  | { kind: "apply"; to: DepositStatus }
  | { kind: "repeat" }
  | { kind: "conflict" }
  | { kind: "late" };

export function decideCallback(current: DepositStatus, requested: DepositStatus): CallbackDecision {
  if (current === requested) return { kind: "repeat" };
  if (canTransition(current, requested)) return { kind: "apply", to: requested };
  // A stale "processing" after a final status is a harmless repeat of an older message only
  // when the order moved on from processing normally; after a final status it is a regression.
  if (requested === "processing" && (current === "succeeded" || current === "failed"))
    return { kind: "conflict" };
  if ((current === "expired" || current === "cancelled") && requested === "succeeded")
    return { kind: "late" };
  return { kind: "conflict" };
}
