import { defineConfig } from "tsup";

// The production build: one ESM bundle per entry. Workspace packages are bundled from source
// (the "source" export condition); npm dependencies stay external.
export default defineConfig({
  entry: { psphub: "src/psphub.ts" },
  format: ["esm"],
  platform: "node",
  target: "node20",
  sourcemap: true,
  clean: true,
  noExternal: [/^@psphub\//],
  esbuildOptions(options) {
    options.conditions = ["source"];
  },
});
