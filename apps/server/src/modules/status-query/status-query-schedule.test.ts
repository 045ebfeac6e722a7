import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_STATUS_QUERY_SCHEDULE,
  dueAt,
  JITTER_FRACTION,
  scheduleLengthMs,
  scheduleOf,
} from "./status-query-schedule.js";

describe("status query schedule", () => {
  it("defaults to the spec's: 1 min, 5 min five times, 1 h, 1 day", () => {
    expect(scheduleOf(null)).toEqual([60, 300, 300, 300, 300, 300, 3600, 86_400]);
    expect(scheduleLengthMs(DEFAULT_STATUS_QUERY_SCHEDULE)).toBe((60 + 1500 + 3600 + 86_400) * 1000);
  });

  it("reads a stored schedule and refuses a corrupt one", () => {
    expect(scheduleOf("[30,120]")).toEqual([30, 120]);
    for (const bad of ["[]", "[0]", "[1.5]", '["60"]', "{}"]) expect(() => scheduleOf(bad), bad).toThrow();
  });

  it("puts each step within the jitter of its delay after `from`, and ends after the last step", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 10, max: 604_800 }), { minLength: 1, maxLength: 20 }),
        fc.nat({ max: 25 }),
        fc.integer({ min: 0, max: 2 ** 42 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (schedule, step, from, random) => {
          const at = dueAt(schedule, step, from, random);
          const delay = schedule[step];
          if (delay === undefined) {
            expect(at).toBeNull();
            return;
          }
          const ms = delay * 1000;
          expect(at).not.toBeNull();
          expect(Math.abs((at as number) - from - ms)).toBeLessThanOrEqual(Math.ceil(ms * JITTER_FRACTION));
        },
      ),
    );
    expect(dueAt([60], 0, 1000, 0.5)).toBe(61_000);
  });
});
