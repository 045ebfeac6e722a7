import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { configureLocales, setLocale } from "../i18n/index.js";
import { ALL_LOCALES } from "../i18n/locales.js";
import {
  bpsToPercent,
  checkAmount,
  decimalSortKey,
  groupDigits,
  money,
  percentToBps,
  separatorsOf,
} from "./money.js";

describe("money in the browser", () => {
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

describe("money in the client's language", () => {
  afterEach(() => configureLocales(["en"]));

  it("groups with the locale's own signs, on the text", () => {
    expect(groupDigits("1234567.50", "de")).toBe("1.234.567,50");
    expect(groupDigits("1234567.50", "zh-CN")).toBe("1,234,567.50");
    expect(groupDigits("1234567.50", "ar-u-nu-latn")).toBe("1,234,567.50");
    expect(groupDigits("12345678901234567890.123456789012345678", "en")).toBe(
      "12,345,678,901,234,567,890.123456789012345678",
    );
  });

  it("keeps every digit of any amount, in every locale", () => {
    const amount = fc
      .tuple(
        fc.boolean(),
        fc.stringMatching(/^(0|[1-9]\d{0,24})$/),
        fc.option(fc.stringMatching(/^\d{1,18}$/)),
      )
      .map(([neg, whole, frac]) => `${neg ? "-" : ""}${whole}${frac === null ? "" : `.${frac}`}`);
    fc.assert(
      fc.property(amount, fc.constantFrom("en", "zh-CN", "ar-u-nu-latn", "de", "fr"), (a, loc) => {
        const { group, decimal } = separatorsOf(loc);
        const shown = groupDigits(a, loc);
        const [whole = "", ...rest] = shown.split(decimal);
        expect(rest.length).toBeLessThanOrEqual(1);
        // Groups of three digits after the first.
        expect(
          whole
            .replace(/^-/, "")
            .split(group)
            .slice(1)
            .every((g) => /^\d{3}$/.test(g)),
        ).toBe(true);
        expect(`${whole.split(group).join("")}${rest.length ? `.${rest[0]}` : ""}`).toBe(a);
      }),
    );
  });

  it("keeps an amount, its sign and its code one left-to-right unit in Arabic", () => {
    configureLocales(ALL_LOCALES);
    setLocale("ar");
    expect(money("97.20", "USD", { plus: true })).toBe("\u2066+97.20 USD\u2069");
    setLocale("zh");
    expect(money("1234.5", "USD")).toBe("1,234.5 USD");
  });
});
