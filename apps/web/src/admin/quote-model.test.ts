import { formatAmount, MAX_SIGNIFICANT_DIGITS } from "@psphub/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { quoteNet } from "./quote-model.js";

describe("a quote's net", () => {
  it("is the payment amount less the fee, in the payment currency's decimals", () => {
    expect(quoteNet({ paymentAmount: "100.00", fee: "2.50" })).toBe("97.50");
    expect(quoteNet({ paymentAmount: "1000", fee: "0" })).toBe("1000");
    expect(quoteNet({ paymentAmount: "1.000", fee: "0.125" })).toBe("0.875");
    expect(quoteNet({ paymentAmount: "abc", fee: "1" })).toBeNull();
  });

  it("is exact for any amounts and exponents (no floating point)", () => {
    // Every amount the server accepts: at most MAX_SIGNIFICANT_DIGITS digits.
    const max = 10n ** BigInt(MAX_SIGNIFICANT_DIGITS) - 1n;
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max }),
        fc.bigInt({ min: 0n, max }),
        fc.constantFrom(0, 2, 3, 6, 8),
        (a, f, e) => {
          const fee = f % (a + 1n); // a fee never above the amount
          expect(quoteNet({ paymentAmount: formatAmount(a, e), fee: formatAmount(fee, e) })).toBe(
            formatAmount(a - fee, e),
          );
        },
      ),
    );
  });
});
