import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { revealInvisible } from "./reveal-invisible.js";

describe("revealInvisible", () => {
  it("shows bidi controls and zero-width characters as escapes, keeping line breaks", () => {
    expect(revealInvisible('{"msg":"invoice_\u202Efdp.exe\u200B"}\n')).toBe(
      '{"msg":"invoice_\\u{202E}fdp.exe\\u{200B}"}\n',
    );
    expect(revealInvisible("a\u2066b\u2069\u0000\tc\ud800")).toBe("a\\u{2066}b\\u{2069}\\u{0}\tc\\u{D800}");
  });

  it("leaves no control (but line breaks and tabs), format or separator character", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 60 }), (s) => {
        expect(revealInvisible(s)).not.toMatch(/[\p{Cf}\p{Cs}\p{Zl}\p{Zp}]|(?![\n\t])\p{Cc}/u);
      }),
      { numRuns: 1000 },
    );
  });
});
