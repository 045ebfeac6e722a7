import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { computeFee } from "../deposit-methods/method-model.js";
import { creditForPaid, type OrderFeeRule, orderAmounts } from "./paid-credit.js";

// Fixture-like rule: 2.5 % (half up) + 0.30, at most 20.00.
const RULE: OrderFeeRule = { feePercentBps: 250, feeFixedMinor: 30n, feeMaxMinor: 2_000n };
const order = (amountMinor: bigint, rule = RULE) => ({
  amountMinor,
  feeMinor: computeFee(amountMinor, rule),
  rule,
  conversion: null,
});

const rule = fc.record({
  feePercentBps: fc.integer({ min: 0, max: 10_000 }),
  feeFixedMinor: fc.bigInt({ min: 0n, max: 100_000n }),
  feeMaxMinor: fc.option(fc.bigInt({ min: 0n, max: 1_000_000n }), { nil: null }),
});
const minor = fc.bigInt({ min: 0n, max: 10n ** 15n });
// Only orders that can exist: an amount at or below its fee is refused when the order is created
// (deposit-validation.ts), and crediting it as quoted would be negative.
const possibleOrder = (amountMinor: bigint, r: OrderFeeRule) => {
  const o = order(amountMinor, r);
  fc.pre(o.feeMinor < amountMinor);
  return o;
};

describe("creditForPaid", () => {
  it("charges the fee of the amount paid, by the order's rule, not the ordered amount's fee", () => {
    expect(creditForPaid(10_000n, order(10_000n))).toEqual({
      feeMinor: 280n,
      creditMinor: 9_720n,
      markupMinor: 0n,
    });
    expect(creditForPaid(5_050n, order(10_000n))).toEqual({
      feeMinor: 156n,
      creditMinor: 4_894n,
      markupMinor: 0n,
    });
    expect(creditForPaid(12_000n, order(10_000n))).toEqual({
      feeMinor: 330n,
      creditMinor: 11_670n,
      markupMinor: 0n,
    });
    expect(creditForPaid(100_000n, order(10_000n))).toEqual({
      feeMinor: 2_000n,
      creditMinor: 98_000n,
      markupMinor: 0n,
    });
    // Below its fee: nothing credited, the whole payment is the fee.
    expect(creditForPaid(20n, order(10_000n))).toEqual({ feeMinor: 20n, creditMinor: 0n, markupMinor: 0n });
    expect(creditForPaid(0n, order(10_000n))).toEqual({ feeMinor: 0n, creditMinor: 0n, markupMinor: 0n });
  });

  it("keeps the quoted fee and credit for exactly the ordered amount, whatever the rule says", () => {
    const quoted = {
      amountMinor: 10_000n,
      feeMinor: 500n,
      rule: { ...RULE, feePercentBps: 0 },
      conversion: null,
    };
    expect(creditForPaid(10_000n, quoted)).toEqual({ feeMinor: 500n, creditMinor: 9_500n, markupMinor: 0n });
  });

  it("fee + credit = paid, both ≥ 0, the fee is the rule's on the paid amount (capped at paid)", () => {
    fc.assert(
      fc.property(minor, minor, rule, (amount, paid, r) => {
        const got = creditForPaid(paid, possibleOrder(amount, r));
        expect(got.feeMinor + got.creditMinor).toBe(paid);
        expect(got.creditMinor >= 0n && got.feeMinor >= 0n).toBe(true);
        const fee = paid === 0n ? 0n : computeFee(paid, r);
        expect(got.feeMinor).toBe(fee < paid ? fee : paid);
      }),
    );
  });

  it("credits more when more was paid (never less)", () => {
    fc.assert(
      fc.property(minor, minor, minor, rule, (amount, a, b, r) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        const o = possibleOrder(amount, r);
        expect(creditForPaid(lo, o).creditMinor <= creditForPaid(hi, o).creditMinor).toBe(true);
      }),
    );
  });

  it("reads the rule from an order's row (numbers from either database)", () => {
    const o = orderAmounts({
      amount_minor: 10_000,
      fee_minor: 280,
      fee_rule_bps: 250,
      fee_rule_fixed_minor: 30,
      fee_rule_max_minor: null,
      decimals: 2,
      account_decimals: null,
      fx_rate: null,
      fx_markup_bps: null,
    });
    expect(o).toEqual({
      amountMinor: 10_000n,
      feeMinor: 280n,
      rule: { feePercentBps: 250, feeFixedMinor: 30n, feeMaxMinor: null },
      conversion: null,
    });
  });
});
