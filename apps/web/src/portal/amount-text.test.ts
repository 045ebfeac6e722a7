import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatAmountText, parseAmountText, separatorsOf } from "./amount-text.js";

const LOCALES = [
  "en",
  "en-IN",
  "de",
  "de-CH",
  "fr",
  "es",
  "pt-BR",
  "ru",
  "zh-CN",
  "ar",
  "ar-u-nu-latn",
  "hi",
];
// What the API accepts (apps/server/src/common/plain-decimal.ts).
const PLAIN = /^\d+(\.\d+)?$/;

const wholeDigits = fc.bigInt({ min: 0n, max: 10n ** 15n }).map(String);
const fractionDigits = fc.string({ unit: fc.constantFrom(..."0123456789"), minLength: 1, maxLength: 8 });
const plainAmount = fc
  .tuple(wholeDigits, fc.option(fractionDigits, { nil: undefined }))
  .map(([w, f]) => (f === undefined ? w : `${w}.${f}`));

describe("amounts as clients type them", () => {
  it("reads the issue's examples, and refuses what is not plain decimal text", () => {
    expect(parseAmountText("1,000.00", "en")).toBe("1000.00");
    expect(parseAmountText("25,50", "en")).toBe("25.50");
    expect(parseAmountText("1.000,00", "de")).toBe("1000.00");
    expect(parseAmountText("1,000", "en")).toBe("1000");
    expect(parseAmountText("1.000", "de")).toBe("1000");
    expect(parseAmountText("1 000,5", "fr")).toBe("1000.5");
    expect(parseAmountText("1’000.50", "de-CH")).toBe("1000.50");
    expect(parseAmountText("1,00,000.00", "en-IN")).toBe("100000.00");
    expect(parseAmountText("١٢٣٫٥", "ar")).toBe("123.5");
    expect(parseAmountText(" 100 ", "en")).toBe("100");
    expect(parseAmountText("007", "en")).toBe("7");
    expect(parseAmountText(".5", "en")).toBe("0.5");
    for (const bad of [
      "1e2",
      "1E2",
      "+5",
      "-5",
      "",
      " ",
      "ten",
      "1,0,0",
      "1,000.000.0",
      "1.2.3,4",
      "12,34.5,6",
      "0x10",
      "Infinity",
      "1  000",
    ]) {
      expect(parseAmountText(bad, "en"), bad).toBeNull();
    }
  });

  it("learns the locale's separators", () => {
    expect(separatorsOf("en")).toEqual({ decimal: ".", group: "," });
    expect(separatorsOf("de").decimal).toBe(",");
  });

  it("reads back every amount written in any locale, exactly (no float on the way)", () => {
    fc.assert(
      fc.property(plainAmount, fc.constantFrom(...LOCALES), (plain, locale) => {
        const [w = "", f] = plain.split(".");
        const expected = f === undefined ? w : `${w}.${f}`;
        expect(parseAmountText(formatAmountText(plain, locale), locale)).toBe(expected);
      }),
    );
  });

  it("reads back what the browser's own Intl writes in each locale (grouping, digits, marks)", () => {
    fc.assert(
      fc.property(
        wholeDigits,
        fc.option(fractionDigits, { nil: undefined }),
        fc.constantFrom(...LOCALES),
        (w, f, locale) => {
          const digits = f?.length ?? 0;
          const nf = new Intl.NumberFormat(locale, {
            minimumFractionDigits: digits,
            maximumFractionDigits: digits,
          });
          // A decimal string is formatted exactly (Intl.NumberFormat v3); a bigint is exact anyway.
          const shown = f === undefined ? nf.format(BigInt(w)) : nf.format(`${w}.${f}` as unknown as number);
          expect(parseAmountText(shown, locale)).toBe(f === undefined ? w : `${w}.${f}`);
        },
      ),
    );
  });

  it("gives the API plain decimal text or nothing, whatever is typed", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(..."0123456789.,  '’eE+-x٫٬١"), maxLength: 20 }),
        fc.constantFrom(...LOCALES),
        (typed, locale) => {
          const out = parseAmountText(typed, locale);
          if (out !== null) expect(out).toMatch(PLAIN);
          if (/[eE+\-x]/.test(typed)) expect(out).toBeNull();
        },
      ),
    );
  });
});
