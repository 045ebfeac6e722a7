import {
  type CSSVariablesResolver,
  createTheme,
  darken,
  luminance,
  type MantineColorsTuple,
} from "@mantine/core";

// One brand colour, system fonts (no font download, nothing for the CSP to allow).
const brand: MantineColorsTuple = [
  "#eef3ff",
  "#dce4f5",
  "#b9c7e2",
  "#94a8d0",
  "#748dc1",
  "#5f7cb8",
  "#5474b4",
  "#44639f",
  "#39588f",
  "#2d4b81",
];

export const theme = createTheme({
  primaryColor: "brand",
  colors: { brand },
  // Shade 6 of the brand colour is 4.39:1 on the page background: links and filled buttons take 7.
  primaryShade: { light: 7, dark: 8 },
  // Filled buttons and badges take black or white text, whichever reads at 4.5:1 on their colour:
  // at a luminance of 0.179 both reach 4.58, so either side of it passes (WCAG AA).
  autoContrast: true,
  luminanceThreshold: 0.179,
  defaultRadius: "md",
  fontFamily:
    "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, 'Noto Sans', sans-serif",
  fontFamilyMonospace: "ui-monospace, SFMono-Regular, Menlo, Consolas, 'Liberation Mono', monospace",
  headings: { fontWeight: "650" },
  components: {
    Button: { defaultProps: { radius: "md" } },
    Paper: { defaultProps: { radius: "md" } },
    Card: { defaultProps: { radius: "md", withBorder: true } },
  },
});

/** `styles` for inputs holding keys, URLs and ids: monospace text, normal label. */
export const monoInput = { input: { fontFamily: "var(--mantine-font-family-monospace)" } };

/** WCAG AA for normal text, with a little room for rounding in the browser's colour maths. */
export const AA_TEXT = 4.6;

/** The WCAG contrast ratio of two colours (1 to 21). */
export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/** `color`, darkened in small steps until it reads at {@link AA_TEXT} on every background given. */
export function readableOn(color: string, backgrounds: readonly string[]): string {
  let shade = color;
  for (let step = 1; step <= 20 && backgrounds.some((bg) => contrast(shade, bg) < AA_TEXT); step++) {
    shade = darken(color, step * 0.05);
  }
  return shade;
}

/**
 * Mantine's light-scheme text colours drawn on white or a pale tint miss WCAG AA (4.5:1):
 * `dimmed` (gray 6) is 3.32:1 on white, coloured text (`c="teal"`) and the light variant's text
 * (status badges: yellow 9 on yellow 1 is 2.68:1) as low. Each is darkened just enough to pass
 * on the backgrounds it is drawn on; the dark scheme keeps Mantine's values.
 */
export const cssVariablesResolver: CSSVariablesResolver = (t) => {
  const gray = t.colors.gray;
  const page = [t.white, gray[0], gray[1]];
  const light: Record<string, string> = {
    "--mantine-color-dimmed": readableOn(gray[6], page),
    "--mantine-color-error": "var(--mantine-color-red-text)",
  };
  for (const [name, shades] of Object.entries(t.colors)) {
    light[`--mantine-color-${name}-text`] = readableOn(shades[7], [...page, shades[0], shades[1]]);
    light[`--mantine-color-${name}-light-color`] = readableOn(shades[9], [t.white, shades[1], shades[2]]);
  }
  light["--mantine-color-anchor"] = `var(--mantine-color-${t.primaryColor}-text)`;
  return { variables: {}, light, dark: {} };
};
