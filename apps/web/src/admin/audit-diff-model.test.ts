import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { auditDiff } from "./audit-diff-model.js";

describe("audit diff", () => {
  it("marks only the fields that changed, nested ones by dotted path", () => {
    const rows = auditDiff(
      { name: "Ann", nationality: null, disabled: false, currencies: [{ code: "USD", min: "10.00" }] },
      { name: "Ann B", nationality: "es", disabled: false, currencies: [{ code: "USD", min: "5.00" }] },
    );
    expect(rows.map((r) => [r.path, r.changed])).toEqual([
      ["name", true],
      ["nationality", true],
      ["disabled", false],
      ["currencies.0.code", false],
      ["currencies.0.min", true],
    ]);
    expect(rows[1]).toMatchObject({ before: null, after: "es", inBefore: true, inAfter: true });
  });

  it("shows a created record's fields as added, and a field that appears or goes away as changed", () => {
    expect(auditDiff(null, { name: "Ann", tags: [] })).toEqual([
      { path: "name", before: undefined, after: "Ann", inBefore: false, inAfter: true, changed: true },
      { path: "tags", before: undefined, after: [], inBefore: false, inAfter: true, changed: true },
    ]);
    const rows = auditDiff({ portalAccess: true }, { portalAccess: true, password: "[redacted]" });
    expect(rows.map((r) => [r.path, r.changed, r.inBefore])).toEqual([
      ["portalAccess", false, true],
      ["password", true, false],
    ]);
  });

  it("changes nothing between a record and itself, and marks exactly the differing leaves", () => {
    const leaf = fc.oneof(fc.string({ maxLength: 3 }), fc.integer(), fc.boolean(), fc.constant(null));
    const record = fc.dictionary(
      fc.constantFrom("a", "b", "c", "d"),
      fc.oneof(leaf, fc.dictionary(fc.constantFrom("x", "y"), leaf)),
    );
    fc.assert(
      fc.property(record, record, (before, after) => {
        expect(auditDiff(before, before).some((r) => r.changed)).toBe(false);
        const rows = auditDiff(before, after);
        expect(new Set(rows.map((r) => r.path)).size).toBe(rows.length);
        for (const r of rows) {
          const differs = r.inBefore !== r.inAfter || JSON.stringify(r.before) !== JSON.stringify(r.after);
          expect(r.changed).toBe(differs);
        }
      }),
    );
  });
});
