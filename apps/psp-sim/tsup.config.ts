import { defineConfig } from "tsup";

// One self-contained ESM build: the workspace packages (@psphub/sdk, @psphub/protocol) are
// bundled from source, so `psp-sim` runs with node alone.
export default defineConfig({
  entry: { index: "src/index.ts", main: "src/main.ts" },
  format: ["esm"],
  platform: "node",
  target: "node20",
  dts: { entry: { index: "src/index.ts" } },
  sourcemap: true,
  clean: true,
  noExternal: [/^@psphub\//],
  esbuildOptions(options) {
    options.conditions = ["source"];
  },
});
