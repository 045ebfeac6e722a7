import { describe, expect, it } from "vitest";
import pkg from "../package.json" with { type: "json" };

// @psphub/protocol has no runtime dependencies, so it is usable in Node and in a browser.
// A dependency can arrive two ways: declared in package.json, or imported by a source file.

// This package compiles without Node's types (it runs in browsers), so node:fs is fetched here.
type Fs = {
  readdirSync(dir: URL): string[];
  readFileSync(file: URL, encoding: "utf8"): string;
};
const { readdirSync, readFileSync } = (
  globalThis as unknown as { process: { getBuiltinModule(id: string): Fs } }
).process.getBuiltinModule("node:fs");

const SRC = new URL("./", import.meta.url);
const sources = readdirSync(SRC).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"));

/** Module specifiers of every static or dynamic import and re-export in `text`. */
function specifiers(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/\b(?:import|export)\b[^;"'`]*?\bfrom\s*["']([^"']+)["']/g)) out.push(m[1]!);
  for (const m of text.matchAll(/\bimport\s*["']([^"']+)["']/g)) out.push(m[1]!);
  for (const m of text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) out.push(m[1]!);
  for (const m of text.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)) out.push(m[1]!);
  return out;
}

describe("@psphub/protocol has no runtime dependencies", () => {
  it("declares none in package.json", () => {
    const declared = pkg as Record<string, unknown>;
    for (const field of ["dependencies", "peerDependencies", "optionalDependencies", "bundleDependencies"]) {
      expect(declared[field] ?? {}, field).toEqual({});
    }
  });

  it("imports nothing but its own files (no package, no node: module) outside tests", () => {
    expect(sources.length).toBeGreaterThanOrEqual(6);
    const foreign: string[] = [];
    for (const file of sources) {
      const text = readFileSync(new URL(file, SRC), "utf8");
      for (const s of specifiers(text)) if (!s.startsWith("./")) foreign.push(`${file}: ${s}`);
    }
    // test-arbitraries.ts is a test helper (fast-check); index.test.ts proves it is not exported.
    expect(foreign).toEqual(["test-arbitraries.ts: fast-check"]);
  });

  it("the specifier scan sees imports of every form (so the check above can fail)", () => {
    expect(
      specifiers(
        `import a from "x";\nimport { b,\n c } from 'y';\nexport * from "./z.js";\nimport "side";\nawait import("dyn");\nrequire("req");`,
      ),
    ).toEqual(["x", "y", "./z.js", "side", "dyn", "req"]);
  });
});
