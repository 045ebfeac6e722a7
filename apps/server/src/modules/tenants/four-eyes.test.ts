import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fourEyesLimitsOf, needsSecondApprover } from "./four-eyes.js";

describe("four-eyes limits", () => {
  it("reads stored limits; none stored means none set", () => {
    expect(fourEyesLimitsOf(null)).toEqual({});
    expect(fourEyesLimitsOf('{"USD":"500.00"}')).toEqual({ USD: "500.00" });
    expect(() => fourEyesLimitsOf("[]")).toThrow();
  });

  it("needs a second approver above the limit or for a currency without one", () => {
    const limits = { USD: "500", BTC: "0.5", JPY: "10000.5" };
    expect(needsSecondApprover(limits, "USD", 50_000n, 2)).toBe(false);
    expect(needsSecondApprover(limits, "USD", 50_001n, 2)).toBe(true);
    expect(needsSecondApprover(limits, "BTC", 50_000_000n, 8)).toBe(false);
    expect(needsSecondApprover(limits, "BTC", 50_000_001n, 8)).toBe(true);
    expect(needsSecondApprover(limits, "JPY", 10_000n, 0)).toBe(false);
    expect(needsSecondApprover(limits, "JPY", 10_001n, 0)).toBe(true);
    expect(needsSecondApprover(limits, "EUR", 1n, 2)).toBe(true);
  });

  it("agrees with comparing the amounts as integers of minor units", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 18n }),
        fc.bigInt({ min: 0n, max: 10n ** 18n }),
        fc.integer({ min: 0, max: 8 }),
        (limitMinor, creditMinor, decimals) => {
          const digits = limitMinor.toString().padStart(decimals + 1, "0");
          const text = decimals === 0 ? digits : `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
          expect(needsSecondApprover({ X: text }, "X", creditMinor, decimals)).toBe(creditMinor > limitMinor);
        },
      ),
    );
  });
});
