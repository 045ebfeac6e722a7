import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { computeFee } from "./fees.js";

const feeConfig = fc.record({
  feePercentBps: fc.integer({ min: 0, max: 10_000 }),
  feeFixedMinor: fc.bigInt({ min: 0n, max: 10_000_000n }),
  feeMaxMinor: fc.option(fc.bigInt({ min: 0n, max: 100_000_000n }), { nil: null }),
});
const amount = fc.bigInt({ min: 0n, max: 9_007_199_254_740_991n });

describe("computeFee", () => {
  it("spot checks: percentage rounded half up, fixed part added, capped", () => {
    const c = { feePercentBps: 250, feeFixedMinor: 30n, feeMaxMinor: 500n }; // 2.5 % + 0.30, max 5.00
    expect(computeFee(10_000n, c)).toBe(280n); // 100.00 → 2.50 + 0.30
    expect(computeFee(1_000n, c)).toBe(55n); // 10.00 → 0.25 + 0.30
    expect(computeFee(100_000n, c)).toBe(500n); // 1000.00 → 25.30, capped at 5.00
    expect(computeFee(20n, { ...c, feeFixedMinor: 0n })).toBe(1n); // 0.5 minor → 1
    expect(computeFee(19n, { ...c, feeFixedMinor: 0n })).toBe(0n); // 0.475 minor → 0
    expect(computeFee(12_345n, { feePercentBps: 0, feeFixedMinor: 0n, feeMaxMinor: null })).toBe(0n);
    expect(computeFee(12_345n, { feePercentBps: 10_000, feeFixedMinor: 0n, feeMaxMinor: null })).toBe(
      12_345n,
    );
  });

  it("rounds the percentage half up to the minor unit", () => {
    const s = { feePercentBps: 250n, feeFixedMinor: 30n, feeMaxMinor: 2_000n };
    expect(computeFee(10_000n, s)).toBe(280n); // 2.5 % of 100.00 + 0.30
    expect(computeFee(1_010n, s)).toBe(55n); // 25.25 → 25, + 30
    expect(computeFee(1_030n, s)).toBe(56n); // 25.75 → 26, + 30
    expect(computeFee(1_020n, s)).toBe(56n); // 25.50 → 26 (half up), + 30
    expect(computeFee(10_000_000n, s)).toBe(2_000n); // capped
  });

  it("takes basis points as a number or a bigint alike", () => {
    fc.assert(
      fc.property(
        amount,
        feeConfig,
        (a, c) => computeFee(a, c) === computeFee(a, { ...c, feePercentBps: BigInt(c.feePercentBps) }),
      ),
    );
  });

  it("is never negative", () => {
    fc.assert(fc.property(amount, feeConfig, (a, c) => computeFee(a, c) >= 0n));
  });

  it("never exceeds the maximum fee when one is set", () => {
    fc.assert(
      fc.property(amount, feeConfig, (a, c) => c.feeMaxMinor === null || computeFee(a, c) <= c.feeMaxMinor),
    );
  });

  it("is monotone in the amount", () => {
    fc.assert(
      fc.property(amount, amount, feeConfig, (x, y, c) => {
        const [lo, hi] = x <= y ? [x, y] : [y, x];
        return computeFee(lo, c) <= computeFee(hi, c);
      }),
    );
  });

  it("is the exact rounded percentage plus the fixed part below the cap", () => {
    fc.assert(
      fc.property(amount, feeConfig, (a, c) => {
        const uncapped = computeFee(a, { ...c, feeMaxMinor: null });
        // |percentage part − a·bps/10000| ≤ 1/2 minor unit, in integers: |2·10000·p − 2·a·bps| ≤ 10000
        const p = uncapped - c.feeFixedMinor;
        const diff = 20_000n * p - 2n * a * BigInt(c.feePercentBps);
        return diff <= 10_000n && diff > -10_000n;
      }),
    );
  });
});
