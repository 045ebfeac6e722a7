import { applyMarkup, convertMinor, MAX_MARKUP_BPS, parseRate, quoteFigures } from "@psphub/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { MethodCurrency } from "../deposit-methods/method-model.js";
import type { RateAnswer } from "../fx-rates/rate-lookup.js";
import { buildQuote, effectiveRate, type QuoteRequest, quoteView, totalMarkup } from "./quote-model.js";

const EUR: MethodCurrency = {
  code: "EUR",
  decimals: 2,
  minMinor: 100n,
  maxMinor: 10_000_000n,
  feePercentBps: 250,
  feeFixedMinor: 0n,
  feeMaxMinor: null,
  conversion: {
    account: "USD",
    accountDecimals: 2,
    rules: [
      { group: null, sourceId: "house", markupBps: 0 },
      { group: "vip", sourceId: "vip-rates", markupBps: 25 },
    ],
  },
};

const request = (over: Partial<QuoteRequest> = {}): QuoteRequest => ({
  tenantId: "t1",
  clientId: "c1",
  methodId: "m1",
  clientGroup: null,
  currency: EUR,
  amountMinor: 10_000n,
  feeMinor: 250n,
  ...over,
});

const answer = (
  over: Partial<Extract<RateAnswer, { ok: true }>> = {},
): Extract<RateAnswer, { ok: true }> => ({
  ok: true,
  rate: "1.0781",
  rateTime: 1_000,
  validUntil: null,
  sourceKind: "manual",
  sourceId: "house",
  sourceName: "House rates",
  pairMarkupBps: 50,
  ...over,
});

describe("buildQuote", () => {
  it("the worked example of docs/exchange-rates.md: 100.00 EUR, fee 2.50, 1.0781 less 50 bps", () => {
    const q = buildQuote(request(), answer(), 5_000, 120_000);
    expect(q).toMatchObject({
      feeMinor: 250n,
      accountCurrency: "USD",
      accountDecimals: 2,
      // 97.50 × 1.0781 × 0.995 = 104.58917625 → 104.59; at the source's rate 105.11475 → 105.11.
      accountMinor: 10_459n,
      markupMinor: 52n,
      rate: "1.0781",
      markupBps: 50,
      quotedAt: 5_000,
      validUntil: 125_000,
    });
    const view = quoteView(q!, "tok");
    expect(view).toMatchObject({
      payment: { amount: "100.00", currency: "EUR", fee: "2.50", net: "97.50" },
      account: { amount: "104.59", currency: "USD" },
      fx: { rate: "1.0727095", sourceRate: "1.0781", markupBps: 50, markupAmount: "0.52" },
      token: "tok",
    });
  });

  it("takes the client group's rule, else the default, and adds its markup to the pair's", () => {
    expect(buildQuote(request({ clientGroup: "vip" }), answer(), 0, 1)?.markupBps).toBe(75);
    expect(buildQuote(request({ clientGroup: "other" }), answer(), 0, 1)?.markupBps).toBe(50);
  });

  it("caps the markup at MAX_MARKUP_BPS", () => {
    expect(totalMarkup(4_000, 4_000)).toBe(MAX_MARKUP_BPS);
    expect(
      buildQuote(request({ clientGroup: "vip" }), answer({ pairMarkupBps: 4_990 }), 0, 1)?.markupBps,
    ).toBe(MAX_MARKUP_BPS);
  });

  it("holds until the earlier of its own validity and the rate's", () => {
    expect(buildQuote(request(), answer({ validUntil: 50_000 }), 10_000, 120_000)?.validUntil).toBe(50_000);
    expect(buildQuote(request(), answer({ validUntil: 500_000 }), 10_000, 120_000)?.validUntil).toBe(130_000);
  });

  it("refuses a rate it cannot read (the caller answers fx_rate_unavailable)", () => {
    expect(buildQuote(request(), answer({ rate: "1e3" }), 0, 1)).toBeNull();
    expect(buildQuote(request({ currency: { ...EUR, conversion: null } }), answer(), 0, 1)).toBeNull();
  });

  const exponent = fc.constantFrom(0, 2, 3, 6, 8);
  const rateText = fc
    .tuple(fc.bigInt({ min: 1n, max: 999_999_999_999n }), fc.integer({ min: 0, max: 12 }))
    .map(([digits, scale]) => {
      const s = digits.toString().padStart(scale + 1, "0");
      return scale === 0 ? s : `${s.slice(0, -scale)}.${s.slice(-scale)}`;
    });

  it("its account amount is the fee-first figures of protocol fx.ts, within half a minor unit of the exact product", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        fc.bigInt({ min: 0n, max: 10n ** 6n }),
        rateText,
        fc.integer({ min: 0, max: 2_000 }),
        exponent,
        exponent,
        (amount, feeRaw, rate, pairBps, pd, ad) => {
          const fee = feeRaw % amount;
          const currency: MethodCurrency = {
            ...EUR,
            code: "PAYX",
            decimals: pd,
            conversion: {
              account: "ACCX",
              accountDecimals: ad,
              rules: [{ group: null, sourceId: "s", markupBps: 0 }],
            },
          };
          const q = buildQuote(
            request({ currency, amountMinor: amount, feeMinor: fee }),
            answer({ rate, pairMarkupBps: pairBps }),
            0,
            1,
          );
          expect(q).not.toBeNull();
          const r = parseRate(rate);
          const figures = quoteFigures(
            amount,
            { feePercentBps: 0, feeFixedMinor: fee, feeMaxMinor: null },
            { rate: r, markupBps: pairBps, paymentExponent: pd, accountExponent: ad },
          );
          expect(q?.accountMinor).toBe(figures.accountMinor);
          expect(q?.accountMinor).toBe(convertMinor(amount - fee, pd, applyMarkup(r, pairBps), ad));
          // |account − exact| ≤ ½ minor unit, in integers: exact = net × eff × 10^ad / 10^(scale+pd).
          const eff = applyMarkup(r, pairBps);
          const num = (amount - fee) * eff.digits * 10n ** BigInt(ad);
          const den = 10n ** BigInt(eff.scale + pd);
          const diff = (q?.accountMinor ?? 0n) * den - num;
          expect(2n * (diff < 0n ? -diff : diff) <= den).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("shows the effective rate exactly", () => {
    expect(effectiveRate("1.0850", 150)).toBe("1.068725");
    expect(effectiveRate("150", 0)).toBe("150");
  });
});
