import axe from "axe-core";
import type { Locator, Page } from "playwright-core";

/** axe's impacts that fail a page (WCAG AA problems a person meets: contrast, names, roles). */
const FAILING = new Set(["serious", "critical"]);

/**
 * Runs axe-core on the page as it is now and answers its serious and critical violations, one
 * readable line per element: rule, impact, what to fix, the element's selector and axe's summary.
 * An empty list is a pass.
 */
export async function axeViolations(page: Page): Promise<string[]> {
  // Evaluated over the DevTools protocol, which the page's CSP (script-src 'self') does not
  // govern; an injected <script> tag with the same source would be refused by it.
  const loaded = await page.evaluate(() => typeof (window as { axe?: unknown }).axe === "object");
  if (!loaded) await page.evaluate(axe.source);
  const violations = await page.evaluate(async () => {
    const run = (window as unknown as { axe: typeof axe }).axe.run;
    const result = await run(document, { resultTypes: ["violations"] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact ?? null,
      help: v.help,
      nodes: v.nodes.map((n) => ({
        target: n.target.map(String).join(" "),
        summary: (n.failureSummary ?? "").replace(/\s+/g, " ").trim(),
      })),
    }));
  });
  return violations
    .filter((v) => v.impact !== null && FAILING.has(v.impact))
    .flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact}): ${v.help} at ${n.target}: ${n.summary}`));
}

/**
 * The WCAG contrast ratio of an element's text colour against the background it is drawn on
 * (the first ancestor with an opaque background colour), as computed by the browser.
 */
export async function contrastRatio(locator: Locator): Promise<number> {
  return locator.evaluate((el) => {
    const rgba = (text: string) => {
      const m = /rgba?\(([^)]+)\)/.exec(text);
      if (!m) throw new Error(`not an rgb colour: ${text}`);
      const [r = 0, g = 0, b = 0, a = 1] = m[1]!
        .split(/[\s,/]+/)
        .filter(Boolean)
        .map(Number);
      return { r, g, b, a };
    };
    let bg = { r: 255, g: 255, b: 255, a: 1 };
    for (let node: Element | null = el; node; node = node.parentElement) {
      const c = rgba(getComputedStyle(node).backgroundColor);
      if (c.a === 1) {
        bg = c;
        break;
      }
    }
    const fg = rgba(getComputedStyle(el).color);
    // A translucent text colour is blended over its background, as the browser paints it.
    const blend = (f: number, b: number) => f * fg.a + b * (1 - fg.a);
    const text = { r: blend(fg.r, bg.r), g: blend(fg.g, bg.g), b: blend(fg.b, bg.b) };
    const luminance = (c: { r: number; g: number; b: number }) => {
      const ch = (v: number) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * ch(c.r) + 0.7152 * ch(c.g) + 0.0722 * ch(c.b);
    };
    const [hi, lo] = [luminance(text), luminance(bg)].sort((a, b) => b - a) as [number, number];
    return (hi + 0.05) / (lo + 0.05);
  });
}
