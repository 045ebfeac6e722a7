import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { WITHDRAWAL_STATUSES, type WithdrawalStatus } from "../withdrawals/withdrawal-state.js";
import { judgePayoutResult, type PayoutFacts } from "./payout-judge.js";

const payout = (status: WithdrawalStatus): PayoutFacts => ({
  status,
  currency: "USD",
  decimals: 2,
  payoutMinor: 9_550n,
});
const result = (status: number, amountText = "95.50", currency = "USD") => ({ status, amountText, currency });

describe("judgePayoutResult", () => {
  // Every (withdrawal status, reported status) pair, one by one.
  const table: Array<[WithdrawalStatus, number, string]> = [
    ["approved", 1, "apply:paid"],
    ["approved", 0, "apply:failed"],
    ["approved", 2, "apply:paying"],
    ["paying", 1, "apply:paid"],
    ["paying", 0, "apply:failed"],
    ["paying", 2, "repeat"],
    ["paid", 1, "repeat"],
    ["paid", 0, "refuse:payment_status_not_pending!"],
    ["paid", 2, "refuse:payment_status_not_allowed"],
    ["failed", 0, "repeat"],
    ["failed", 1, "refuse:payment_status_not_pending!"],
    ["failed", 2, "refuse:payment_status_not_allowed"],
    ["rejected", 1, "refuse:payment_status_not_pending"],
    ["cancelled", 0, "refuse:payment_status_not_pending"],
    ["requested", 1, "refuse:payment_status_not_pending"],
    ["approving", 2, "refuse:payment_status_not_allowed"],
  ];
  it.each(table)("a %s payout reported %i: %s", (status, reported, expected) => {
    const j = judgePayoutResult(payout(status), result(reported));
    const text =
      j.kind === "apply"
        ? `apply:${j.to}`
        : j.kind === "repeat"
          ? "repeat"
          : `refuse:${j.type}${j.contradiction ? "!" : ""}`;
    expect(text).toBe(expected);
  });

  it("refuses another currency, another amount and an unknown status before the status", () => {
    expect(judgePayoutResult(payout("paying"), result(1, "95.50", "EUR"))).toMatchObject({
      type: "payment_currency_not_allowed",
    });
    for (const amount of ["95.5", "95.500"])
      expect(judgePayoutResult(payout("paying"), result(1, amount)).kind).toBe("apply");
    for (const amount of ["95.49", "95.501", "96", "1e2", "-95.50", "abc"])
      expect(judgePayoutResult(payout("paying"), result(1, amount))).toMatchObject({
        type: "payment_amount_not_allowed",
      });
    expect(judgePayoutResult(payout("paying"), result(3))).toMatchObject({
      type: "payment_status_not_allowed",
    });
  });

  it("only applies a result to a started payout, and never moves a final one", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...WITHDRAWAL_STATUSES),
        fc.integer({ min: -1, max: 3 }),
        (status, reported) => {
          const j = judgePayoutResult(payout(status), result(reported));
          if (j.kind === "apply") expect(["approved", "paying"]).toContain(status);
          if (["paid", "failed", "rejected", "cancelled"].includes(status)) expect(j.kind).not.toBe("apply");
        },
      ),
    );
  });
});
