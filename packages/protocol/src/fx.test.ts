import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ProtocolError } from "./errors.js";
import { computeFee } from "./fees.js";
import {
  applyMarkup,
  type Conversion,
  convertMinor,
  convertNet,
  formatRate,
  MAX_RATE_SIGNIFICANT_DIGITS,
  parseRate,
  quoteFigures,
  type Rate,
} from "./fx.js";
import { RUNS } from "./test-arbitraries.js";

const EXPONENTS = [0, 2, 3, 6, 8] as const;
const exponent = fc.constantFrom(...EXPONENTS);
/** Rates of 1..12 significant digits at scales 0..14: from 1e-14 to 1e12. */
const rate: fc.Arbitrary<Rate> = fc
  .record({
    digits: fc.bigInt({ min: 1n, max: 999_999_999_999n }),
    scale: fc.integer({ min: 0, max: 14 }),
  })
  .map(({ digits, scale }) => parseRate(formatRate({ digits, scale })));
const amount = fc.bigInt({ min: 0n, max: 10n ** 15n - 1n });
const markup = fc.integer({ min: 0, max: 5_000 });
const feeRule = fc.record({
  feePercentBps: fc.integer({ min: 0, max: 2_000 }),
  feeFixedMinor: fc.bigInt({ min: 0n, max: 10_000n }),
  feeMaxMinor: fc.option(fc.bigInt({ min: 0n, max: 1_000_000n }), { nil: null }),
});

describe("parseRate / formatRate", () => {
  it.each([
    ["1.0781", "1.0781"],
    ["1.078100", "1.0781"],
    ["150", "150"],
    ["0.000012345", "0.000012345"],
    ["999999999999", "999999999999"],
  ])("%s reads as %s", (text, shown) => {
    expect(formatRate(parseRate(text))).toBe(shown);
  });

  it.each([
    ["", "not a plain decimal"],
    ["1e3", "not a plain decimal"],
    ["-1", "not a plain decimal"],
    ["+1", "not a plain decimal"],
    [".5", "not a plain decimal"],
    ["1.", "not a plain decimal"],
    ["01.5", "not a plain decimal"],
    [" 1", "not a plain decimal"],
    ["0", "greater than 0"],
    ["0.000", "greater than 0"],
    ["1.234567890123", "at most 12 significant digits"],
  ])("refuses %j (%s)", (text, why) => {
    expect(() => parseRate(text)).toThrow(ProtocolError);
    expect(() => parseRate(text)).toThrow(why);
  });

  it("round-trips every rate it accepts", () => {
    fc.assert(
      fc.property(rate, (r) => {
        expect(parseRate(formatRate(r))).toEqual(r);
        expect(r.digits.toString().length).toBeLessThanOrEqual(MAX_RATE_SIGNIFICANT_DIGITS);
      }),
      RUNS,
    );
  });
});

describe("applyMarkup", () => {
  it("takes the markup off the rate exactly", () => {
    expect(formatRate(applyMarkup(parseRate("1.0850"), 150))).toBe("1.068725");
    expect(formatRate(applyMarkup(parseRate("1.0781"), 0))).toBe("1.0781");
  });
  it.each([-1, 5_001, 1.5])("refuses a markup of %s bps", (bps) => {
    expect(() => applyMarkup(parseRate("1"), bps)).toThrow("basis points");
  });
});

describe("convertMinor", () => {
  it("rounds half up, once", () => {
    // 1.005 USD-cents worth: 100.50 EUR × 0.01 = 1.005 → 1.01
    expect(convertMinor(10_050n, 2, parseRate("0.01"), 2)).toBe(101n);
    expect(convertMinor(10_049n, 2, parseRate("0.01"), 2)).toBe(100n);
    // 100.00 EUR at 1.0781 into USD: 107.81
    expect(convertMinor(10_000n, 2, parseRate("1.0781"), 2)).toBe(10_781n);
    // Into JPY (0 decimals) and BTC (8).
    expect(convertMinor(10_000n, 2, parseRate("157.255"), 0)).toBe(15_726n);
    expect(convertMinor(10_000n, 2, parseRate("0.0000105"), 8)).toBe(105_000n);
  });

  it("is within half a minor unit of the exact product, for any amount, rate and exponents", () => {
    fc.assert(
      fc.property(amount, exponent, rate, exponent, (a, from, r, to) => {
        const got = convertMinor(a, from, r, to);
        // exact = a × digits × 10^to / 10^(scale + from); |got − exact| ≤ ½ ⇔ |2·got·D − 2·N| ≤ D
        const n = a * r.digits * 10n ** BigInt(to);
        const d = 10n ** BigInt(r.scale + from);
        const diff = 2n * got * d - 2n * n;
        expect(diff <= d && diff > -d).toBe(true); // half up: ties go up, so −D < diff ≤ D
      }),
      RUNS,
    );
  });
});

describe("quoteFigures", () => {
  const conversion = (r: Rate, bps: number, from: number, to: number): Conversion => ({
    rate: r,
    markupBps: bps,
    paymentExponent: from,
    accountExponent: to,
  });

  it("quotes 100.00 EUR, fee 2.50 EUR, at 1.0781 as 105.11 USD", () => {
    const q = quoteFigures(
      10_000n,
      { feePercentBps: 250, feeFixedMinor: 0n, feeMaxMinor: null },
      conversion(parseRate("1.0781"), 0, 2, 2),
    );
    expect(q).toMatchObject({ feeMinor: 250n, netMinor: 9_750n, accountMinor: 10_511n, markupMinor: 0n });
    // 97.50 × 1.0781 = 105.11475, rounded half up once: 105.11
  });

  it("without a conversion credits the amount less the fee, as before", () => {
    fc.assert(
      fc.property(amount, feeRule, (a, rule) => {
        const q = quoteFigures(a, rule, null);
        const fee = computeFee(a, rule);
        // biome-ignore lint/complexity/useMathMinMax: bigints, which Math.min does not take
        expect(q.feeMinor).toBe(fee < a ? fee : a);
        expect(q.accountMinor).toBe(a - q.feeMinor);
        expect(q.markupMinor).toBe(0n);
      }),
      RUNS,
    );
  });

  it("credits what the quote says when the ordered amount is paid, with integer arithmetic only", () => {
    fc.assert(
      fc.property(amount, feeRule, rate, markup, exponent, exponent, (a, rule, r, bps, from, to) => {
        const c = conversion(r, bps, from, to);
        const q = quoteFigures(a, rule, c);
        expect(q.feeMinor + q.netMinor).toBe(a);
        // The credit of a success at the ordered amount is the quote's account amount, exactly.
        expect(convertNet(q.netMinor, c).accountMinor).toBe(q.accountMinor);
        expect(q.accountMinor).toBe(convertMinor(q.netMinor, from, applyMarkup(r, bps), to));
        expect(q.markupMinor).toBeGreaterThanOrEqual(0n);
        // Every figure is a bigint: nothing went through a float.
        for (const v of [q.feeMinor, q.netMinor, q.accountMinor, q.markupMinor])
          expect(typeof v).toBe("bigint");
      }),
      RUNS,
    );
  });

  it("never loses a cent to floating point where a float would (0.1 + 0.2 style inputs)", () => {
    // 1.15 × 100 is 114.99999999999999 in floating point; here it is 115.
    expect(convertMinor(115n, 2, parseRate("1"), 2)).toBe(115n);
    expect(convertMinor(1n, 2, parseRate("1.005"), 3)).toBe(10n); // 0.01005 → 0.010
    expect(convertMinor(33n, 2, parseRate("0.3"), 2)).toBe(10n); // 0.099 → 0.10
  });
});
