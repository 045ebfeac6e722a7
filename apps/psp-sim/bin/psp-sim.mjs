#!/usr/bin/env node
// The `psp-sim` command. Runs the build (npm run build); from a source checkout without a build,
// use `npm run dev -w @psphub/psp-sim -- <flags>` instead.
import { existsSync } from "node:fs";

const entry = new URL("../dist/main.js", import.meta.url);
if (!existsSync(entry)) {
  console.error("psp-sim is not built yet: run `npm run build` at the repository root first.");
  process.exit(1);
}
await import(entry.href);
