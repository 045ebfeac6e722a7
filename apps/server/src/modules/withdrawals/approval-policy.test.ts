import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ApprovalPolicy, levelsFor, mayDecide, policyProblems, rolesAt } from "./approval-policy.js";

// Who approves a withdrawal (docs/withdrawals.md#approval).
const policy: ApprovalPolicy = {
  bands: [
    { fromMinor: 0n, levels: 1 },
    { fromMinor: 100_000n, levels: 2 },
    { fromMinor: 1_000_000n, levels: 3 },
  ],
  rolesByLevel: [["finance", "admin"], ["admin"], ["owner"]],
  autoPayout: false,
};

describe("levelsFor", () => {
  it("takes the levels of the highest band the amount reaches", () => {
    expect(levelsFor(policy, 1n)).toBe(1);
    expect(levelsFor(policy, 99_999n)).toBe(1);
    expect(levelsFor(policy, 100_000n)).toBe(2);
    expect(levelsFor(policy, 999_999n)).toBe(2);
    expect(levelsFor(policy, 1_000_000n)).toBe(3);
  });

  it("never asks fewer levels of a larger amount", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        (a, b) => {
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          expect(levelsFor(policy, lo)).toBeLessThanOrEqual(levelsFor(policy, hi));
        },
      ),
    );
  });
});

describe("policyProblems", () => {
  it("accepts a sane policy and names what is wrong with a broken one", () => {
    expect(policyProblems(policy, "manual")).toEqual([]);
    expect(policyProblems({ ...policy, bands: [] }, "manual")).toEqual([
      "at least one amount band is needed",
    ]);
    expect(policyProblems({ ...policy, bands: [{ fromMinor: 5n, levels: 1 }] }, "manual")).toEqual([
      "the first band must start at 0",
    ]);
    expect(
      policyProblems(
        {
          ...policy,
          bands: [
            { fromMinor: 0n, levels: 1 },
            { fromMinor: 0n, levels: 2 },
          ],
        },
        "manual",
      ),
    ).toEqual(["bands must start at increasing amounts"]);
    expect(policyProblems({ ...policy, bands: [{ fromMinor: 0n, levels: 11 }] }, "manual")).toEqual([
      "levels must be 1 to 10",
    ]);
    expect(policyProblems(policy, "integration")).toEqual([
      "payouts through an integration need at least 2 levels",
    ]);
    expect(policyProblems({ ...policy, rolesByLevel: [["viewer"]] }, "manual")).toEqual([
      "each level needs roles, and viewers never decide",
    ]);
  });
});

describe("mayDecide", () => {
  const open = { open: true, nextLevel: 1, requestedByStaffId: null, deciders: [] as string[] };

  it("lets an allowed role decide the next level", () => {
    expect(mayDecide(open, policy, { staffId: "f1", role: "finance" })).toEqual({ ok: true });
    expect(rolesAt(policy, 4)).toEqual(["owner", "admin"]);
  });

  it("never lets the same person decide twice, nor approve their own request", () => {
    const level2 = { ...open, nextLevel: 2, deciders: ["a1"] };
    expect(mayDecide(level2, policy, { staffId: "a1", role: "admin" })).toEqual({
      ok: false,
      why: "already_decided_by_you",
    });
    expect(mayDecide(level2, policy, { staffId: "a2", role: "admin" })).toEqual({ ok: true });
    expect(
      mayDecide({ ...open, requestedByStaffId: "f1" }, policy, { staffId: "f1", role: "finance" }),
    ).toEqual({
      ok: false,
      why: "own_request",
    });
  });

  it("refuses a role the level does not allow, and a closed request", () => {
    expect(mayDecide({ ...open, nextLevel: 3 }, policy, { staffId: "a9", role: "admin" })).toEqual({
      ok: false,
      why: "role_not_allowed",
    });
    expect(mayDecide({ ...open, open: false }, policy, { staffId: "o1", role: "owner" })).toEqual({
      ok: false,
      why: "not_open",
    });
  });

  it("holds for any history of deciders: whoever decided before is refused", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.constantFrom("a", "b", "c", "d", "e"), { maxLength: 4 }),
        fc.constantFrom("a", "b", "c", "d", "e"),
        (deciders, who) => {
          const r = mayDecide(
            { ...open, nextLevel: deciders.length + 1, deciders },
            { ...policy, rolesByLevel: [] },
            { staffId: who, role: "owner" },
          );
          expect(r.ok).toBe(!deciders.includes(who));
        },
      ),
    );
  });
});
