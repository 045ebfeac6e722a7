import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { PERMISSIONS, type Permission, ROLE_PERMISSIONS, ROLES } from "../modules/auth/permissions.js";

const DOC = new URL("../../../../docs/permissions.md", import.meta.url);

/** The first markdown table whose header starts with `permission`, as rows of trimmed cells. */
function matrixTable(markdown: string): { header: string[]; rows: string[][] } {
  const lines = markdown.split("\n");
  const start = lines.findIndex((l) => /^\|\s*permission\s*\|/i.test(l));
  if (start < 0) throw new Error("docs/permissions.md has no table starting with a `permission` column");
  const cells = (l: string) =>
    l
      .trim()
      .replace(/^\|/, "")
      .replace(/\|$/, "")
      .split("|")
      .map((c) => c.trim());
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.trim().startsWith("|")) break;
    rows.push(cells(line));
  }
  return { header: cells(lines[start]!), rows };
}

describe("docs/permissions.md", () => {
  const { header, rows } = matrixTable(readFileSync(DOC, "utf8"));

  it("has one column per role, in order", () => {
    expect(header).toEqual(["permission", "meaning", ...ROLES]);
  });

  it("lists every permission exactly once, with its meaning from PERMISSIONS", () => {
    const documented = rows.map((r) => r[0]!.replace(/`/g, ""));
    expect([...documented].sort()).toEqual(Object.keys(PERMISSIONS).sort());
    expect(new Set(documented).size).toBe(documented.length);
    for (const r of rows) {
      const p = r[0]!.replace(/`/g, "") as Permission;
      expect(r[1], p).toBe(PERMISSIONS[p]);
    }
  });

  it("grants exactly what ROLE_PERMISSIONS grants", () => {
    const documented: Record<string, string[]> = Object.fromEntries(ROLES.map((r) => [r, []]));
    for (const r of rows) {
      const p = r[0]!.replace(/`/g, "");
      ROLES.forEach((role, i) => {
        const cell = r[i + 2] ?? "";
        if (cell !== "" && cell !== "✓")
          throw new Error(`unexpected cell ${JSON.stringify(cell)} for ${p}/${role}`);
        if (cell === "✓") documented[role]!.push(p);
      });
    }
    for (const role of ROLES) {
      expect(documented[role]!.sort(), role).toEqual([...ROLE_PERMISSIONS[role]].sort());
    }
  });
});
