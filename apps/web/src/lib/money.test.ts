import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { computeFee as serverComputeFee } from "../../../server/src/modules/deposit-methods/method-model.js";
import {
  bpsToPercent,
  checkAmount,
  computeFee,
  decimalSortKey,
  groupDigits,
  money,
  percentToBps,
} from "./money.js";

describe("portal fee preview", () => {
  it("computes exactly the server's fee for every amount and setting (property)", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 9_007_199_254_740_991n }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.bigInt({ min: 0n, max: 10_000_000n }),
        fc.option(fc.bigInt({ min: 0n, max: 10_000_000n }), { nil: null }),
        (amount, bps, fixed, cap) => {
          const web = computeFee(amount, { feeBps: BigInt(bps), feeFixedMinor: fixed, feeMaxMinor: cap });
          const server = serverComputeFee(amount, {
            feePercentBps: bps,
            feeFixedMinor: fixed,
            feeMaxMinor: cap,
          });
          expect(web).toBe(server);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it("rounds the percentage half up to the minor unit", () => {
    const s = { feeBps: 250n, feeFixedMinor: 30n, feeMaxMinor: 2_000n };
    expect(computeFee(10_000n, s)).toBe(280n); // 2.5 % of 100.00 + 0.30
    expect(computeFee(1_010n, s)).toBe(55n); // 25.25 → 25, + 30
    expect(computeFee(1_030n, s)).toBe(56n); // 25.75 → 26, + 30
    expect(computeFee(1_020n, s)).toBe(56n); // 25.50 → 26 (half up), + 30
    expect(computeFee(10_000_000n, s)).toBe(2_000n); // capped
  });

  it("reads percentages as basis points without floats", () => {
    expect(percentToBps("2.5")).toBe(250n);
    expect(percentToBps("2.50")).toBe(250n);
    expect(percentToBps("0.01")).toBe(1n);
    expect(percentToBps("2.555")).toBeNull();
    expect(percentToBps("x")).toBeNull();
    expect(bpsToPercent(250n)).toBe("2.5");
    expect(bpsToPercent(0)).toBe("0");
  });

  it("checks amounts against limits in minor units", () => {
    const limits = { minMinor: 1_000n, maxMinor: 500_000n };
    expect(checkAmount("100", 2, limits)).toEqual({ ok: true, minor: 10_000n });
    expect(checkAmount(" 10.00 ", 2, limits)).toEqual({ ok: true, minor: 1_000n });
    expect(checkAmount("9.99", 2, limits)).toEqual({ ok: false, reason: "below_min" });
    expect(checkAmount("5000.01", 2, limits)).toEqual({ ok: false, reason: "above_max" });
    expect(checkAmount("10.001", 2, limits)).toEqual({ ok: false, reason: "too_precise" });
    expect(checkAmount("1,000", 2, limits)).toEqual({ ok: false, reason: "invalid" });
    expect(checkAmount("", 2, limits)).toEqual({ ok: false, reason: "empty" });
    // 0.1 + 0.2 in floats is 0.30000000000000004; here it is text and integers.
    expect(checkAmount("100000000000.30", 2, { minMinor: 0n, maxMinor: 10n ** 15n })).toEqual({
      ok: true,
      minor: 10_000_000_000_030n,
    });
  });

  it("shows decimal text as text", () => {
    expect(groupDigits("1234567.50")).toBe("1,234,567.50");
    expect(groupDigits("-1000")).toBe("-1,000");
    expect(groupDigits("999.999")).toBe("999.999");
    expect(money("97.20", "USD")).toBe("97.20 USD");
    expect(money(null, "USD")).toBe("—");
    expect(decimalSortKey("100.5") > decimalSortKey("100.49")).toBe(true);
    expect(decimalSortKey("1000") > decimalSortKey("999.99999999")).toBe(true);
  });
});
