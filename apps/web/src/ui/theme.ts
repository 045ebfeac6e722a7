import { createTheme, type MantineColorsTuple } from "@mantine/core";

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
