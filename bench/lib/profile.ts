import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../../tests/support/processes.js";

/**
 * A text summary of a V8 CPU profile (`node --cpu-prof`): self time by function and by module
 * (npm package, node internals, or the server's own source file), heaviest first.
 */
type ProfileNode = {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
};

function moduleOf(url: string): string {
  if (!url) return "(native / idle / gc)";
  if (url.startsWith("node:")) return url.split("/")[0]!;
  const nm = url.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const rest = url.slice(nm + "node_modules/".length).split("/");
    return rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  return url.replace(/^file:\/\//, "").replace(/^.*\/(bench\/\.build|apps|packages)\//, "$1/");
}

export function summariseProfile(text: string, top = 30): string {
  const profile = JSON.parse(text) as { nodes: ProfileNode[]; startTime: number; endTime: number };
  let total = 0;
  const byFn = new Map<string, number>();
  const byModule = new Map<string, number>();
  for (const n of profile.nodes) {
    const hits = n.hitCount ?? 0;
    if (hits === 0) continue;
    total += hits;
    const f = n.callFrame;
    const name = `${f.functionName || "(anonymous)"} ${moduleOf(f.url)}:${f.lineNumber + 1}`;
    byFn.set(name, (byFn.get(name) ?? 0) + hits);
    const mod =
      f.functionName === "(idle)"
        ? "(idle)"
        : f.functionName === "(garbage collector)"
          ? "(gc)"
          : moduleOf(f.url);
    byModule.set(mod, (byModule.get(mod) ?? 0) + hits);
  }
  const pct = (n: number) => `${((100 * n) / total).toFixed(1).padStart(5)}%`;
  const list = (m: Map<string, number>, k: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([name, n]) => `  ${pct(n)}  ${name}`)
      .join("\n");
  const seconds = (profile.endTime - profile.startTime) / 1e6;
  return [
    `profile: ${seconds.toFixed(1)} s, ${total} samples`,
    "self time by module:",
    list(byModule, 20),
    "self time by function:",
    list(byFn, top),
  ].join("\n");
}

// `tsx bench/lib/profile.ts file.cpuprofile` prints the summary of one profile.
if (import.meta.url === `file://${process.argv[1]}`) {
  const text = readFileSync(process.argv[2]!, "utf8");
  console.log(process.argv[3] === "inclusive" ? inclusive(text, 60) : summariseProfile(text));
}

/** Inclusive (total) time per function name, for finding which caller owns the cost. */
function inclusive(text: string, top = 40): string {
  const profile = JSON.parse(text) as { nodes: (ProfileNode & { children?: number[] })[] };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const total = new Map<string, number>();
  let all = 0;
  for (const n of profile.nodes) {
    const hits = n.hitCount ?? 0;
    if (!hits) continue;
    all += hits;
    const seen = new Set<string>();
    let cur: number | undefined = n.id;
    while (cur !== undefined) {
      const node = byId.get(cur)!;
      const key = `${node.callFrame.functionName || "(anon)"} ${moduleOf(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`;
      if (!seen.has(key)) {
        seen.add(key);
        total.set(key, (total.get(key) ?? 0) + hits);
      }
      cur = parent.get(cur);
    }
  }
  return [...total.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, v]) => `  ${((100 * v) / all).toFixed(1).padStart(5)}%  ${k}`)
    .join("\n");
}

/** Where `--profile` writes the servers' CPU profiles, one folder per database and server. */
export const PROFILE_DIR = join(REPO_ROOT, "bench", "results", "profiles");

/**
 * Prints and saves the summary of the newest main-thread CPU profile in `dir`; returns its path.
 * Files are CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile: the main thread's (id 0), not
 * the SQLite checkpoint worker's.
 */
export function printProfile(dir: string, name: string, what: string): string | undefined {
  const newest = readdirSync(dir)
    .filter((f) => /\.0\.\d+\.cpuprofile$/.test(f))
    .sort()
    .at(-1);
  if (!newest) return undefined;
  const summary = summariseProfile(readFileSync(join(dir, newest), "utf8"));
  writeFileSync(join(dir, "summary.txt"), summary);
  console.log(`\n--- CPU profile of the ${name.replace(/-.*/, "")} server during ${what} ---\n${summary}`);
  return join("bench", "results", "profiles", name, newest);
}
