import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { COUNTRY_CODES, isCountryCode } from "./countries.js";

describe("ISO 3166-1 alpha-2 codes", () => {
  it("lists the 249 assigned codes once each, lower case, every one a named region", () => {
    expect(COUNTRY_CODES).toHaveLength(249);
    expect(new Set(COUNTRY_CODES).size).toBe(249);
    const names = new Intl.DisplayNames(["en"], { type: "region" });
    for (const code of COUNTRY_CODES) {
      expect(code).toMatch(/^[a-z]{2}$/);
      expect(names.of(code.toUpperCase()), code).not.toBe(code.toUpperCase());
    }
    expect(names.of("ES")).toBe("Spain");
  });

  it("accepts assigned codes in either case and refuses the rest", () => {
    for (const code of ["es", "ES", "gb", "us", "Ch", "ax"]) expect(isCountryCode(code), code).toBe(true);
    // "sp" is what "Spain" became in a free two-letter box; uk, eu and xk are reserved or user-assigned.
    for (const code of ["sp", "uk", "eu", "xk", "zz", "", "e", "esp", "e s", "\u212Ae"]) {
      expect(isCountryCode(code), code).toBe(false);
    }
  });

  it("agrees with the list for any string", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 4 }), (s) => {
        expect(isCountryCode(s)).toBe(/^[A-Za-z]{2}$/.test(s) && COUNTRY_CODES.includes(s.toLowerCase()));
      }),
    );
  });
});
