#!/usr/bin/env node
// The `psphub` command. Runs the build (npm run build); from a source checkout without a
// build, use `npm run psphub -- <command>` at the repository root instead.
import { existsSync } from "node:fs";

const entry = new URL("../dist/psphub.js", import.meta.url);
if (!existsSync(entry)) {
  console.error("psphub is not built yet: run `npm run build` at the repository root first.");
  process.exit(1);
}
await import(entry.href);
