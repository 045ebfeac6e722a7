import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// Comments cite the protocol and the failure modes by links into docs/ (for example
// `docs/psp-open-api.md#api-2-checks`); a link whose file or anchor is gone fails here.

const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const SOURCE_ROOTS = ["apps", "packages", "bench", "tests"];
const SKIP_DIRS = new Set(["node_modules", "dist", ".build", ".before", "results", "screenshots"]);

function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (!SKIP_DIRS.has(entry.name) && !entry.name.startsWith(".")) walk(join(d, entry.name));
      } else if (keep(entry.name)) {
        found.push(join(d, entry.name));
      }
    }
  };
  if (existsSync(dir)) walk(dir);
  return found;
}

const sourceFiles = SOURCE_ROOTS.flatMap((r) => filesUnder(join(ROOT, r), (n) => /\.(ts|tsx)$/.test(n)));
const docFiles = filesUnder(join(ROOT, "docs"), (n) => n.endsWith(".md"));

/** GitHub's heading anchor: lower case, punctuation dropped, spaces as hyphens. */
function headingSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");
}

const anchorCache = new Map<string, Set<string>>();
/** The anchors of a Markdown file: explicit `<a id="…">` and its headings' slugs. */
function anchorsOf(file: string): Set<string> {
  let anchors = anchorCache.get(file);
  if (!anchors) {
    const text = readFileSync(file, "utf8");
    anchors = new Set<string>();
    for (const m of text.matchAll(/<a id="([^"]+)"><\/a>/g)) anchors.add(m[1]!);
    for (const m of text.replace(/```[\s\S]*?```/g, "").matchAll(/^#{1,6} (.+)$/gm)) {
      anchors.add(headingSlug(m[1]!));
    }
    anchorCache.set(file, anchors);
  }
  return anchors;
}

type Problem = { where: string; link: string; why: string };

function checkLink(where: string, target: string, anchor: string | undefined, link: string): Problem | null {
  if (!existsSync(target)) return { where, link, why: "no such file" };
  if (anchor !== undefined && !anchorsOf(target).has(anchor)) return { where, link, why: "no such anchor" };
  return null;
}

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split("\n").length;
}

describe("links into docs/", () => {
  it("finds the files it scans", () => {
    expect(sourceFiles.length).toBeGreaterThan(100);
    expect(docFiles.map((f) => relative(ROOT, f))).toContain("docs/psp-open-api.md");
  });

  it("every docs/<file>.md#<anchor> link in the source names an existing file and anchor", () => {
    const problems: Problem[] = [];
    for (const file of sourceFiles) {
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/\bdocs\/([\w.-]+\.md)(?:#([\w-]+))?/g)) {
        const where = `${relative(ROOT, file)}:${lineOf(text, m.index)}`;
        const problem = checkLink(where, join(ROOT, "docs", m[1]!), m[2], m[0]);
        if (problem) problems.push(problem);
      }
    }
    expect(problems).toEqual([]);
  });

  it("every relative Markdown link between the docs names an existing file and anchor", () => {
    const problems: Problem[] = [];
    for (const file of docFiles) {
      const text = readFileSync(file, "utf8").replace(/```[\s\S]*?```/g, (block) =>
        block.replace(/[^\n]/g, " "),
      );
      for (const m of text.matchAll(/\]\(((?:[\w./-]+\.md)?)(?:#([\w-]+))?\)/g)) {
        const [link, path, anchor] = [m[0], m[1]!, m[2]];
        if (!path && anchor === undefined) continue;
        const target = path ? join(file, "..", path) : file;
        const problem = checkLink(`${relative(ROOT, file)}:${lineOf(text, m.index)}`, target, anchor, link);
        if (problem) problems.push(problem);
      }
    }
    expect(problems).toEqual([]);
  });

  it("every spec and failure-mode citation links to an anchor", () => {
    const citation = /\bspec(?:'s)? ["'‘“]|\bfailure modes? \d+|\(spec[,)]/i;
    const link = /\bdocs\/[\w.-]+\.md#[\w-]+/;
    const unlinked: string[] = [];
    for (const file of sourceFiles) {
      const lines = readFileSync(file, "utf8").split("\n");
      const isComment = (l: string) => /^\s*(\/\/|\/\*|\*)/.test(l);
      lines.forEach((line, i) => {
        const at = line.search(citation);
        if (at < 0) return;
        const commentStart = isComment(line) ? 0 : line.indexOf("//");
        if (commentStart < 0 || commentStart > at) return;
        // The link may sit anywhere in the same comment block.
        let from = i;
        let to = i;
        while (from > 0 && isComment(lines[from - 1]!)) from--;
        while (to < lines.length - 1 && isComment(lines[to + 1]!)) to++;
        if (!link.test(lines.slice(from, to + 1).join("\n")))
          unlinked.push(`${relative(ROOT, file)}:${i + 1}`);
      });
    }
    expect(unlinked).toEqual([]);
  });
});
