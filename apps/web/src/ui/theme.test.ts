import { DEFAULT_THEME, mergeMantineTheme } from "@mantine/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AA_TEXT, contrast, cssVariablesResolver, readableOn, theme } from "./theme.js";

const merged = mergeMantineTheme(DEFAULT_THEME, theme);
const light = cssVariablesResolver(merged).light as Record<string, string>;
const hex = fc
  .tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }))
  .map(([r, g, b]) => `#${[r, g, b].map((v) => v.toString(16).padStart(2, "0")).join("")}`);

describe("theme contrast (WCAG AA, light scheme)", () => {
  it("measures contrast as WCAG does", () => {
    expect(contrast("#000000", "#ffffff")).toBeCloseTo(21, 5);
    expect(contrast("#868e96", "#ffffff")).toBeCloseTo(3.32, 2); // Mantine's gray 6, issue 16
    expect(contrast("#ffffff", "#ffffff")).toBe(1);
  });

  it("dimmed text reads at AA on white and the page greys (was 3.32:1 and 3.15:1)", () => {
    for (const bg of ["#ffffff", merged.colors.gray[0], merged.colors.gray[1]]) {
      expect(contrast(light["--mantine-color-dimmed"]!, bg)).toBeGreaterThanOrEqual(AA_TEXT);
    }
  });

  it("every colour's text and light-variant text read at AA on their backgrounds", () => {
    for (const [name, shades] of Object.entries(merged.colors)) {
      const text = light[`--mantine-color-${name}-text`]!;
      for (const bg of ["#ffffff", merged.colors.gray[0], shades[0], shades[1]]) {
        expect([name, contrast(text, bg) >= AA_TEXT]).toEqual([name, true]);
      }
      const onLight = light[`--mantine-color-${name}-light-color`]!;
      for (const bg of ["#ffffff", shades[1], shades[2]]) {
        expect([name, contrast(onLight, bg) >= AA_TEXT]).toEqual([name, true]);
      }
    }
  });

  it("the brand's filled shade takes white text at AA", () => {
    const filled = merged.colors.brand![7];
    expect(contrast("#ffffff", filled)).toBeGreaterThanOrEqual(4.5);
  });

  it("readableOn reaches AA on any light background and never lightens", () => {
    fc.assert(
      fc.property(hex, hex, (color, bg) => {
        fc.pre(contrast("#000000", bg) >= AA_TEXT);
        const out = readableOn(color, [bg]);
        expect(contrast(out, bg)).toBeGreaterThanOrEqual(AA_TEXT - 1e-9);
        expect(contrast(out, "#000000")).toBeLessThanOrEqual(contrast(color, "#000000") + 1e-9);
      }),
    );
  });
});
