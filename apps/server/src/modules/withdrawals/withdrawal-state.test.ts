import { describe, expect, it } from "vitest";
import {
  canMoveWithdrawal,
  holdOutcome,
  TERMINAL_WITHDRAWAL,
  WITHDRAWAL_STATUSES,
  type WithdrawalStatus,
  withdrawalSourcesOf,
} from "./withdrawal-state.js";

// The withdrawal state machine, pair by pair (docs/withdrawals.md#states).
const YES: Array<[WithdrawalStatus, WithdrawalStatus]> = [
  ["requested", "approving"],
  ["requested", "approved"],
  ["requested", "rejected"],
  ["requested", "cancelled"],
  ["approving", "approving"],
  ["approving", "approved"],
  ["approving", "rejected"],
  ["approved", "paying"],
  ["approved", "paid"],
  ["approved", "failed"],
  ["approved", "rejected"],
  ["paying", "paid"],
  ["paying", "failed"],
];

describe("the withdrawal state machine", () => {
  it.each(WITHDRAWAL_STATUSES.flatMap((from) => WITHDRAWAL_STATUSES.map((to) => [from, to] as const)))(
    "%s → %s",
    (from, to) => {
      const allowed = YES.some(([f, t]) => f === from && t === to);
      expect(canMoveWithdrawal(from, to)).toBe(allowed);
    },
  );

  it("never leaves a terminal status, and a client cancels only before any approval", () => {
    for (const t of TERMINAL_WITHDRAWAL)
      expect(WITHDRAWAL_STATUSES.filter((to) => canMoveWithdrawal(t, to))).toEqual([]);
    expect(withdrawalSourcesOf("cancelled")).toEqual(["requested"]);
    expect(withdrawalSourcesOf("paid")).toEqual(["approved", "paying"]);
  });

  it("debits the hold once paid, releases it when rejected or cancelled, keeps it otherwise", () => {
    expect(holdOutcome("paid")).toBe("debit");
    expect(holdOutcome("rejected")).toBe("release");
    expect(holdOutcome("cancelled")).toBe("release");
    for (const s of ["requested", "approving", "approved", "paying", "failed"] as const)
      expect(holdOutcome(s)).toBe("keep");
  });
});
