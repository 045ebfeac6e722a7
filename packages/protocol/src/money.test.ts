import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MoneyError, ProtocolError } from "./errors.js";
import {
  formatAmount,
  formatAmountNumber,
  isJsonNumberText,
  isoExponent,
  MAX_EXPONENT,
  MAX_MINOR_UNITS,
  MAX_SIGNIFICANT_DIGITS,
  parseAmount,
  tryParseAmount,
} from "./money.js";
import { RUNS } from "./test-arbitraries.js";

const exponentArb = fc.integer({ min: 0, max: MAX_EXPONENT });

function codeOf(input: string, exponent: number): string {
  const result = tryParseAmount(input, exponent);
  return result.ok ? `ok:${result.minor}` : result.code;
}

describe("isoExponent", () => {
  it.each([
    ["USD", 2],
    ["EUR", 2],
    ["GBP", 2],
    ["JPY", 0],
    ["KRW", 0],
    ["CLP", 0],
    ["KWD", 3],
    ["BHD", 3],
    ["TND", 3],
  ])("%s has %i decimals", (code, exponent) => {
    expect(isoExponent(code)).toBe(exponent);
  });

  it.each([
    ["IQD", 3],
    ["IDR", 2],
    ["HUF", 2],
    ["COP", 2],
    ["PKR", 2],
    ["LBP", 2],
  ])("%s follows ISO 4217 (%i), not CLDR's display digits", (code, exponent) => {
    expect(isoExponent(code)).toBe(exponent);
  });

  it.each(["USDT", "BTC", "ETH", "usd", "Usd", "", "US", "ABC", "QQQ", "XAU", "XXX", "XDR", "US$"])(
    "%j is not an ISO currency with a minor unit",
    (code) => {
      expect(isoExponent(code)).toBeUndefined();
    },
  );

  it("answers undefined for a non-string", () => {
    expect(isoExponent(42 as unknown as string)).toBeUndefined();
  });
});

describe("parseAmount", () => {
  it.each([
    ["162.48", 2, 16248n],
    ["100", 2, 10000n],
    ["100.0", 2, 10000n],
    ["100.10", 2, 10010n],
    ["100.1000000", 2, 10010n],
    ["0", 2, 0n],
    ["0.00", 2, 0n],
    ["0.01", 2, 1n],
    ["1e2", 2, 10000n],
    ["1.5E+1", 2, 1500n],
    ["1.5e-1", 2, 15n],
    ["12345e-2", 2, 12345n],
    ["5", 0, 5n],
    ["5.000", 0, 5n],
    ["50e-1", 0, 5n],
    ["0e999999999", 2, 0n],
    ["0.00000001", 8, 1n],
    ["21000000", 8, 2_100_000_000_000_000n],
    ["999999999999999", 0, 999_999_999_999_999n],
    ["9007199254740990", 0, 9_007_199_254_740_990n],
    ["90071992547409.9", 2, 9_007_199_254_740_990n],
  ] as const)("%j with %i decimals is %s minor units", (input, exponent, minor) => {
    expect(parseAmount(input, exponent)).toBe(minor);
  });

  it.each([
    ["", "amount_invalid"],
    [" 1", "amount_invalid"],
    ["1 ", "amount_invalid"],
    ["1\n", "amount_invalid"],
    ["+1", "amount_invalid"],
    ["007", "amount_invalid"],
    ["00", "amount_invalid"],
    ["01.5", "amount_invalid"],
    [".5", "amount_invalid"],
    ["5.", "amount_invalid"],
    ["1e", "amount_invalid"],
    ["1e+", "amount_invalid"],
    ["0x10", "amount_invalid"],
    ["NaN", "amount_invalid"],
    ["Infinity", "amount_invalid"],
    ["-Infinity", "amount_invalid"],
    ["1,5", "amount_invalid"],
    ["1_000", "amount_invalid"],
    ["١٢", "amount_invalid"],
    ["１", "amount_invalid"],
    ["-1", "amount_negative"],
    ["-0.01", "amount_negative"],
    ["-0", "amount_negative"],
    ["1.005", "amount_too_precise"],
    ["0.001", "amount_too_precise"],
    ["1.5", "amount_too_precise", 0],
    ["15e-1", "amount_too_precise", 0],
    ["1e-9", "amount_too_precise", 8],
    ["1e-999999999999", "amount_too_precise"],
    ["1234567890123456", "amount_too_large", 0],
    ["1234567890.123456", "amount_too_large", 6],
    ["90071992547409.92", "amount_too_large"],
    ["9007199254741000", "amount_too_large", 0],
    ["90071992547410", "amount_too_large"],
    ["100000000000000", "amount_too_large"],
    ["1e16", "amount_too_large", 0],
    ["1e999999999999", "amount_too_large"],
  ] as Array<[string, string, number?]>)("rejects %j with %s", (input, code, exponent = 2) => {
    expect(codeOf(input, exponent)).toBe(code);
    expect(() => parseAmount(input, exponent)).toThrow(MoneyError);
  });

  it("MoneyError is a ProtocolError with the code", () => {
    try {
      parseAmount("1.005", 2);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ProtocolError);
      expect(error).toBeInstanceOf(MoneyError);
      expect(error).toMatchObject({ name: "MoneyError", code: "amount_too_precise" });
    }
  });

  it("refuses a non-string input and an exponent outside 0..8", () => {
    expect(codeOf(1.5 as unknown as string, 2)).toBe("amount_invalid");
    for (const exponent of [-1, 9, 1.5, Number.NaN]) {
      expect(() => parseAmount("1", exponent)).toThrow(expect.objectContaining({ code: "exponent_invalid" }));
    }
  });

  it("handles a long run of zeros in linear time", () => {
    expect(parseAmount(`1${"0".repeat(200_000)}e-200000`, 2)).toBe(100n);
    expect(codeOf(`0.${"0".repeat(200_000)}1`, 8)).toBe("amount_too_precise");
    expect(codeOf(`1${"01".repeat(100_000)}`, 2)).toBe("amount_too_large");
  });

  it("tryParseAmount returns the result instead of throwing", () => {
    expect(tryParseAmount("1.50", 2)).toEqual({ ok: true, minor: 150n });
    expect(tryParseAmount("x", 2)).toMatchObject({ ok: false, code: "amount_invalid" });
    expect(() => tryParseAmount("1", 9)).not.toThrow();
    expect(tryParseAmount("1", 9)).toMatchObject({ ok: false, code: "exponent_invalid" });
  });

  it("property: agrees with exact rational arithmetic on generated decimal text", () => {
    const text = fc.tuple(
      fc.oneof(fc.constant("0"), fc.stringMatching(/^[1-9][0-9]{0,17}$/)),
      fc.stringMatching(/^[0-9]{0,10}$/),
      fc.option(fc.integer({ min: -12, max: 12 }), { nil: undefined }),
      fc.constantFrom("e", "E"),
      fc.boolean(),
    );
    fc.assert(
      fc.property(text, exponentArb, ([int, frac, exp, e, plus], exponent) => {
        const input = `${int}${frac ? `.${frac}` : ""}${exp === undefined ? "" : `${e}${plus && exp >= 0 ? "+" : ""}${exp}`}`;
        // value = n × 10^s exactly
        const n = BigInt(int + frac);
        const s = (exp ?? 0) - frac.length;
        let expected: string;
        if (n === 0n) expected = "ok:0";
        else {
          let stripped = n;
          let scale = s;
          while (stripped % 10n === 0n) {
            stripped /= 10n;
            scale++;
          }
          const shift = scale + exponent;
          if (shift < 0) expected = "amount_too_precise";
          else if (stripped.toString().length > MAX_SIGNIFICANT_DIGITS) expected = "amount_too_large";
          else {
            const minor = stripped * 10n ** BigInt(shift);
            expected = minor > MAX_MINOR_UNITS ? "amount_too_large" : `ok:${minor}`;
          }
        }
        expect(codeOf(input, exponent)).toBe(expected);
      }),
      RUNS,
    );
  });

  it("property: never accepts more decimals than the exponent", () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^(0|[1-9][0-9]{0,5})$/),
        fc.stringMatching(/^[0-9]{0,8}[1-9]$/),
        exponentArb,
        (int, frac, exponent) => {
          const result = tryParseAmount(`${int}.${frac}`, exponent);
          if (frac.length > exponent) expect(result).toMatchObject({ ok: false, code: "amount_too_precise" });
          else expect(result.ok).toBe(true);
        },
      ),
      RUNS,
    );
  });

  it("property: never throws anything but MoneyError on arbitrary text", () => {
    const soup = fc
      .array(fc.constantFrom("0", "1", "9", ".", "e", "E", "+", "-", " ", "x", "00"), { maxLength: 12 })
      .map((parts) => parts.join(""));
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: "binary", maxLength: 20 }), soup),
        exponentArb,
        (input, exponent) => {
          try {
            const minor = parseAmount(input, exponent);
            expect(isJsonNumberText(input)).toBe(true);
            expect(minor >= 0n && minor <= MAX_MINOR_UNITS).toBe(true);
          } catch (error) {
            expect(error).toBeInstanceOf(MoneyError);
          }
        },
      ),
      RUNS,
    );
  });
});

describe("formatAmount and formatAmountNumber", () => {
  it.each([
    [16248n, 2, "162.48", "162.48"],
    [10000n, 2, "100.00", "100"],
    [10010n, 2, "100.10", "100.1"],
    [1n, 2, "0.01", "0.01"],
    [0n, 2, "0.00", "0"],
    [5n, 0, "5", "5"],
    [0n, 0, "0", "0"],
    [1n, 3, "0.001", "0.001"],
    [1n, 6, "0.000001", "0.000001"],
    [1n, 7, "0.0000001", "1e-7"],
    [15n, 8, "0.00000015", "1.5e-7"],
    [1n, 8, "0.00000001", "1e-8"],
    [100n, 8, "0.00000100", "0.000001"],
    [2_100_000_000_000_000n, 8, "21000000.00000000", "21000000"],
    [MAX_MINOR_UNITS, 2, "90071992547409.91", "90071992547409.91"],
    [-16248n, 2, "-162.48", "-162.48"],
  ] as const)("%s with %i decimals → %j and %j", (minor, exponent, text, number) => {
    expect(formatAmount(minor, exponent)).toBe(text);
    expect(formatAmountNumber(minor, exponent)).toBe(number);
  });

  it("uses exponent notation like JavaScript past 1e21", () => {
    expect(formatAmountNumber(10n ** 21n, 0)).toBe(String(1e21));
    expect(formatAmountNumber(123n * 10n ** 25n, 2)).toBe(String(1.23e25));
  });

  it("refuses a non-bigint and a bad exponent", () => {
    expect(() => formatAmount(1 as unknown as bigint, 2)).toThrow(MoneyError);
    expect(() => formatAmountNumber(1 as unknown as bigint, 2)).toThrow(MoneyError);
    expect(() => formatAmount(1n, 9)).toThrow(expect.objectContaining({ code: "exponent_invalid" }));
  });

  /** Allowed amounts: at most 15 significant digits and at most MAX_MINOR_UNITS. */
  const allowedMinor = fc
    .tuple(fc.bigInt(0n, 10n ** 15n - 1n), fc.integer({ min: 0, max: 8 }))
    .map(([digits, zeros]) => digits * 10n ** BigInt(zeros))
    .filter((minor) => minor <= MAX_MINOR_UNITS);

  it("property: parse → format round-trips (both formats)", () => {
    fc.assert(
      fc.property(allowedMinor, exponentArb, (minor, exponent) => {
        expect(parseAmount(formatAmount(minor, exponent), exponent)).toBe(minor);
        expect(parseAmount(formatAmountNumber(minor, exponent), exponent)).toBe(minor);
        expect(formatAmount(parseAmount(formatAmount(minor, exponent), exponent), exponent)).toBe(
          formatAmount(minor, exponent),
        );
      }),
      RUNS,
    );
  });

  it("property: formatAmountNumber equals String(Number(text)) for every allowed amount", () => {
    fc.assert(
      fc.property(allowedMinor, exponentArb, (minor, exponent) => {
        const text = formatAmount(minor, exponent);
        expect(formatAmountNumber(minor, exponent)).toBe(String(Number(text)));
        expect(JSON.stringify(Number(text))).toBe(formatAmountNumber(minor, exponent));
      }),
      RUNS,
    );
  });

  it("property: for every accepted literal, formatAmountNumber(parse(text)) is String(Number(text))", () => {
    const literal = fc
      .tuple(
        fc.oneof(fc.constant("0"), fc.stringMatching(/^[1-9][0-9]{0,14}$/)),
        fc.stringMatching(/^[0-9]{0,8}$/),
        fc.option(fc.integer({ min: -9, max: 9 }), { nil: undefined }),
      )
      .map(([int, frac, exp]) => `${int}${frac ? `.${frac}` : ""}${exp === undefined ? "" : `e${exp}`}`);
    fc.assert(
      fc.property(literal, exponentArb, (text, exponent) => {
        const result = tryParseAmount(text, exponent);
        fc.pre(result.ok);
        if (result.ok) expect(formatAmountNumber(result.minor, exponent)).toBe(String(Number(text)));
      }),
      { ...RUNS, maxSkipsPerRun: 1000 },
    );
  });
});
