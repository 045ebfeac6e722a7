import { describe, expect, it } from "vitest";
import { type CurrencyInput, currencyView, parseCurrencies } from "./method-currencies.js";
import { decodeCurrencies, encodeCurrencies } from "./method-model.js";

const usd = (over: Partial<CurrencyInput> = {}): CurrencyInput => ({
  code: "USD",
  min: "10.00",
  max: "5000.00",
  feePercent: "2.5",
  feeFixed: "0.30",
  feeMax: "5.00",
  ...over,
});
const paths = (inputs: CurrencyInput[]) => parseCurrencies(inputs).issues.map((i) => i.path);

describe("parseCurrencies", () => {
  it("parses decimal text into minor units and basis points, and formats it back", () => {
    const { currencies, issues } = parseCurrencies([usd()]);
    expect(issues).toEqual([]);
    expect(currencies[0]).toEqual({
      code: "USD",
      decimals: 2,
      minMinor: 1_000n,
      maxMinor: 500_000n,
      feePercentBps: 250,
      feeFixedMinor: 30n,
      feeMaxMinor: 500n,
    });
    expect(currencyView(currencies[0]!)).toEqual({
      code: "USD",
      decimals: 2,
      min: "10.00",
      max: "5000.00",
      feePercent: "2.50",
      feeFixed: "0.30",
      feeMax: "5.00",
      conversion: null,
    });
  });

  it("takes ISO decimals by default and requires them for other codes", () => {
    expect(
      parseCurrencies([usd({ code: "JPY", min: "100", max: "500000", feeFixed: "0", feeMax: null })])
        .currencies[0]?.decimals,
    ).toBe(0);
    expect(
      parseCurrencies([usd({ code: "KWD", min: "1.000", max: "10", feeFixed: "0.100" })]).currencies[0]
        ?.decimals,
    ).toBe(3);
    expect(paths([usd({ code: "USDT" })])).toEqual(["currencies.0.decimals"]);
    const usdt = parseCurrencies([usd({ code: "USDT", decimals: 6, min: "10.5", feeFixed: "0.000001" })]);
    expect(usdt.issues).toEqual([]);
    expect(usdt.currencies[0]?.minMinor).toBe(10_500_000n);
    expect(paths([usd({ decimals: 3 })])).toEqual(["currencies.0.decimals"]);
  });

  it("refuses excess precision, bad ranges, bad fees and duplicates", () => {
    expect(paths([usd({ code: "JPY", min: "1.5", max: "100", feeFixed: "0", feeMax: null })])).toEqual([
      "currencies.0.min",
    ]);
    expect(paths([usd({ min: "10.001" })])).toEqual(["currencies.0.min"]);
    expect(paths([usd({ min: "0" })])).toEqual(["currencies.0.min"]);
    expect(paths([usd({ min: "-1" })])).toEqual(["currencies.0.min"]);
    expect(paths([usd({ min: "100", max: "99.99" })])).toEqual(["currencies.0.max"]);
    expect(paths([usd({ max: "1e3" })])).toEqual([]);
    expect(paths([usd({ max: "abc" })])).toEqual(["currencies.0.max"]);
    expect(paths([usd({ feePercent: "100.01" })])).toEqual(["currencies.0.feePercent"]);
    expect(paths([usd({ feePercent: "2.555" })])).toEqual(["currencies.0.feePercent"]);
    expect(paths([usd({ feePercent: "100" })])).toEqual([]);
    expect(paths([usd({ feeFixed: "0.301" })])).toEqual(["currencies.0.feeFixed"]);
    expect(paths([usd({ feeMax: "-5" })])).toEqual(["currencies.0.feeMax"]);
    expect(paths([usd(), usd({ code: "EUR" }), usd()])).toEqual(["currencies.2.code"]);
  });

  describe("conversion", () => {
    const conv = (over: Record<string, unknown> = {}) => ({
      accountCurrency: "USD",
      rules: [{ group: null, sourceId: "src1", markupBps: 50 }],
      ...over,
    });
    const eur = (c: ReturnType<typeof conv>) => usd({ code: "EUR", conversion: c as never });

    it("keeps the account currency, its ISO decimals and the rules, and shows them back", () => {
      const { currencies, issues } = parseCurrencies([eur(conv())]);
      expect(issues).toEqual([]);
      expect(currencies[0]?.conversion).toEqual({
        account: "USD",
        accountDecimals: 2,
        rules: [{ group: null, sourceId: "src1", markupBps: 50 }],
      });
      expect(currencyView(currencies[0]!).conversion).toEqual({
        accountCurrency: "USD",
        accountDecimals: 2,
        rules: [{ group: null, sourceId: "src1", markupBps: 50 }],
      });
    });

    it("refuses the payment currency itself, wrong or missing decimals, no default rule, a group twice", () => {
      const paths = (c: ReturnType<typeof conv>) => parseCurrencies([eur(c)]).issues.map((i) => i.path);
      expect(paths(conv({ accountCurrency: "EUR" }))).toEqual(["currencies.0.conversion.accountCurrency"]);
      expect(paths(conv({ accountDecimals: 3 }))).toEqual(["currencies.0.conversion.accountDecimals"]);
      expect(paths(conv({ accountCurrency: "USDT" }))).toEqual(["currencies.0.conversion.accountDecimals"]);
      expect(paths(conv({ accountCurrency: "USDT", accountDecimals: 6 }))).toEqual([]);
      expect(paths(conv({ rules: [{ group: "vip", sourceId: "s", markupBps: 0 }] }))).toEqual([
        "currencies.0.conversion.rules",
      ]);
      expect(
        paths(
          conv({
            rules: [
              { group: null, sourceId: "s", markupBps: 0 },
              { group: "vip", sourceId: "s", markupBps: 0 },
              { group: "vip", sourceId: "t", markupBps: 10 },
            ],
          }),
        ),
      ).toEqual(["currencies.0.conversion.rules.2.group"]);
    });

    it("stores the conversion with the key spelling the rate sources search for", () => {
      const { currencies } = parseCurrencies([eur(conv())]);
      const text = encodeCurrencies(currencies);
      expect(text).toContain(
        '"conversion":{"account":"USD","account_decimals":2,"rules":[{"group":null,"source_id":"src1","markup_bps":50}]}',
      );
      expect(decodeCurrencies(text)).toEqual(currencies);
      // A same-currency method's JSON is unchanged: no conversion key at all.
      expect(encodeCurrencies(parseCurrencies([usd()]).currencies)).not.toContain("conversion");
    });
  });
});
