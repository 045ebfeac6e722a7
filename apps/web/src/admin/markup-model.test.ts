import { MAX_MARKUP_BPS } from "@psphub/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bpsToMarkupPercent, MAX_MARKUP_PERCENT, markupPercentToBps } from "./markup-model.js";

describe("markup as a percentage", () => {
  it("reads a percentage of up to 2 decimals as whole basis points", () => {
    expect(markupPercentToBps("1.25")).toBe(125);
    expect(markupPercentToBps(" 0.5 ")).toBe(50);
    expect(markupPercentToBps("0")).toBe(0);
    expect(markupPercentToBps("50")).toBe(MAX_MARKUP_BPS);
    expect(MAX_MARKUP_PERCENT).toBe("50");
  });

  it("refuses what is not a markup: empty, more than 2 decimals, negative, above the maximum, words", () => {
    for (const text of ["", "  ", "1.255", "-1", "50.01", "abc", "1,5", "1e2"]) {
      expect(markupPercentToBps(text), text).toBeNull();
    }
  });

  it("shows basis points without trailing zeros", () => {
    expect(bpsToMarkupPercent(125)).toBe("1.25");
    expect(bpsToMarkupPercent(150)).toBe("1.5");
    expect(bpsToMarkupPercent(100)).toBe("1");
    expect(bpsToMarkupPercent(0)).toBe("0");
    expect(bpsToMarkupPercent(7)).toBe("0.07");
  });

  it("round-trips every markup: bps → % → bps", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_MARKUP_BPS }), (bps) => {
        expect(markupPercentToBps(bpsToMarkupPercent(bps))).toBe(bps);
      }),
    );
  });

  it("round-trips every typed percentage: % → bps → the same number, canonically written", () => {
    const percentText = fc
      .tuple(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 99 }), fc.boolean())
      .filter(([whole, frac]) => whole < 50 || frac === 0)
      .map(([whole, frac, twoDigits]) =>
        twoDigits
          ? `${whole}.${String(frac).padStart(2, "0")}`
          : frac % 10 === 0
            ? `${whole}.${frac / 10}`
            : `${whole}.${String(frac).padStart(2, "0")}`,
      );
    fc.assert(
      fc.property(percentText, (text) => {
        const bps = markupPercentToBps(text);
        expect(bps).not.toBeNull();
        const shown = bpsToMarkupPercent(bps as number);
        expect(Number(shown)).toBe(Number(text));
        expect(markupPercentToBps(shown)).toBe(bps);
        expect(shown).not.toMatch(/\.\d*0$|\.$/);
      }),
    );
  });
});
