import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { t } from "../i18n/index.js";
import {
  type ConversionValues,
  conversionBody,
  conversionErrors,
  conversionServerPath,
  conversionValuesOf,
  newRule,
  noConversion,
  withAccountCurrency,
} from "./conversion-model.js";
import type { FxConversion } from "./types.js";

let n = 0;
const uid = () => `u${++n}`;

const usd = (over: Partial<ConversionValues> = {}): ConversionValues => ({
  accountCurrency: "USD",
  accountDecimals: "",
  rules: [{ uid: uid(), group: null, sourceId: "src-1", markupPercent: "1.5" }],
  ...over,
});

describe("the conversion block of a method currency", () => {
  it("credits the payment currency itself when no account currency is set: valid, body null", () => {
    expect(conversionErrors(noConversion(), "EUR")).toEqual({});
    expect(conversionBody(noConversion())).toBeNull();
    expect(conversionValuesOf(null)).toEqual(noConversion());
  });

  it("adds a default rule when an account currency is typed, and clears everything when emptied", () => {
    const on = withAccountCurrency(noConversion(), "USD");
    expect(on.rules).toHaveLength(1);
    expect(on.rules[0]?.group).toBeNull();
    expect(withAccountCurrency(on, "usd").rules).toHaveLength(1);
    expect(withAccountCurrency(on, " ")).toEqual(noConversion());
  });

  it("builds the request body: upper-case code, ISO decimals, markup in basis points", () => {
    const v = usd({
      accountCurrency: " usd ",
      rules: [
        { uid: uid(), group: null, sourceId: "src-1", markupPercent: "1.5" },
        { uid: uid(), group: " vip ", sourceId: "src-2", markupPercent: "" },
      ],
    });
    expect(conversionErrors(v, "EUR")).toEqual({});
    expect(conversionBody(v)).toEqual({
      accountCurrency: "USD",
      accountDecimals: 2,
      rules: [
        { group: null, sourceId: "src-1", markupBps: 150 },
        { group: "vip", sourceId: "src-2", markupBps: 0 },
      ],
    });
    expect(conversionBody(usd({ accountCurrency: "USDT", accountDecimals: 6 }))?.accountDecimals).toBe(6);
  });

  it("names each wrong field", () => {
    expect(conversionErrors(usd({ accountCurrency: "EUR" }), "eur")).toEqual({
      accountCurrency: t("fx.conv.sameCurrency"),
    });
    expect(conversionErrors(usd({ accountCurrency: "X" }), "EUR")).toHaveProperty("accountCurrency");
    expect(conversionErrors(usd({ accountCurrency: "USDT" }), "EUR")).toEqual({
      accountDecimals: t("methods.decimalsRequired"),
    });
    expect(conversionErrors(usd({ accountDecimals: 9 }), "EUR")).toHaveProperty("accountDecimals");
    expect(conversionErrors(usd({ rules: [{ ...newRule("vip", uid), sourceId: "s" }] }), "EUR")).toEqual({
      rules: t("fx.conv.defaultRequired"),
    });
    const errors = conversionErrors(
      usd({
        rules: [
          { uid: uid(), group: null, sourceId: null, markupPercent: "60" },
          { uid: uid(), group: "vip", sourceId: "s", markupPercent: "1" },
          { uid: uid(), group: "vip ", sourceId: "s", markupPercent: "1.234" },
          { uid: uid(), group: "", sourceId: "s", markupPercent: "1" },
        ],
      }),
      "EUR",
    );
    expect(Object.keys(errors).sort()).toEqual([
      "rules.0.markupPercent",
      "rules.0.sourceId",
      "rules.2.group",
      "rules.2.markupPercent",
      "rules.3.group",
    ]);
  });

  it("reads a method's conversion back into the same body (default rule first)", () => {
    const conversion = fc.record({
      accountCurrency: fc.constantFrom("USD", "JPY", "BHD", "USDT"),
      accountDecimals: fc.constantFrom(0, 2, 3, 6, 8),
      rules: fc.tuple(
        fc.record({ sourceId: fc.uuid(), markupBps: fc.integer({ min: 0, max: 5000 }) }),
        fc.uniqueArray(
          fc.record({
            group: fc.stringMatching(/^[a-z]{1,8}$/),
            sourceId: fc.uuid(),
            markupBps: fc.integer({ min: 0, max: 5000 }),
          }),
          { selector: (r) => r.group, maxLength: 4 },
        ),
      ),
    });
    fc.assert(
      fc.property(conversion, ({ accountCurrency, accountDecimals, rules: [def, groups] }) => {
        const c: FxConversion = {
          accountCurrency,
          accountDecimals,
          rules: [...groups, { group: null, ...def }],
        };
        const values = conversionValuesOf(c, uid);
        expect(values.rules[0]?.group).toBeNull();
        expect(conversionErrors(values, "EUR")).toEqual({});
        const body = conversionBody(values);
        expect(body?.accountCurrency).toBe(accountCurrency);
        expect(body?.accountDecimals).toBe(accountDecimals);
        expect(new Set(body?.rules.map((r) => JSON.stringify(r)))).toEqual(
          new Set(c.rules.map((r) => JSON.stringify(r))),
        );
      }),
    );
  });

  it("maps the server's markup issue onto the percentage input", () => {
    expect(conversionServerPath("currencies.1.conversion.rules.0.markupBps")).toBe(
      "currencies.1.conversion.rules.0.markupPercent",
    );
    expect(conversionServerPath("currencies.1.conversion.accountCurrency")).toBe(
      "currencies.1.conversion.accountCurrency",
    );
  });
});
