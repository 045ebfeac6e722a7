import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nextStep, type QueryResultKind } from "./status-query-plan.js";

const SCHEDULE = [60, 300, 3600];
const NOW = 1_800_000_000_000;

describe("nextStep", () => {
  it("a final answer ends the schedule at any step", () => {
    for (const step of [0, 1, 2])
      expect(nextStep(SCHEDULE, step, "final", NOW, 0.5)).toEqual({ kind: "end" });
  });

  it("anything else before the last step: the next step, its delay counted from now", () => {
    for (const result of ["still_open", "not_found", "failed"] as const) {
      expect(nextStep(SCHEDULE, 0, result, NOW, 0.5)).toEqual({
        kind: "next",
        step: 1,
        dueAt: NOW + 300_000,
      });
    }
  });

  it("steps ran out without a final answer: needs assistance, why by the last result", () => {
    const why: [QueryResultKind, string][] = [
      ["still_open", "still_open"],
      ["not_found", "not_found"],
      ["failed", "query_failed"],
    ];
    for (const [result, expected] of why)
      expect(nextStep(SCHEDULE, 2, result, NOW, 0.5)).toEqual({ kind: "assist", why: expected });
  });

  it("never ends without a final answer before the steps ran out, and stays within the jitter", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 10, max: 604_800 }), { minLength: 1, maxLength: 20 }),
        fc.nat(25),
        fc.constantFrom<QueryResultKind>("still_open", "not_found", "failed"),
        fc.double({ min: 0, max: 0.999_999, noNaN: true }),
        (schedule, at, result, random) => {
          const step = at % schedule.length;
          const next = nextStep(schedule, step, result, NOW, random);
          if (step === schedule.length - 1) return next.kind === "assist";
          if (next.kind !== "next") return false;
          const nominal = (schedule[step + 1] as number) * 1000;
          return next.step === step + 1 && Math.abs(next.dueAt - NOW - nominal) <= Math.ceil(nominal * 0.05);
        },
      ),
    );
  });
});
