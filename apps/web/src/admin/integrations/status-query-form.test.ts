import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_SCHEDULE_SECONDS,
  delayRow,
  describeSchedule,
  scheduleErrors,
  secondsOf,
} from "./status-query-form.js";

describe("the status-query schedule editor", () => {
  it("describes the default schedule the way the spec says it", () => {
    expect(describeSchedule(DEFAULT_SCHEDULE_SECONDS)).toBe("1 min, 5 min ×5, 1 h, 1 d");
    expect(describeSchedule([90, 90, 7200])).toBe("90 s ×2, 2 h");
  });

  it("shows each delay in the largest whole unit and reads it back unchanged", () => {
    expect(delayRow(300)).toMatchObject({ value: 5, unit: "min" });
    expect(delayRow(86_400)).toMatchObject({ value: 1, unit: "d" });
    expect(delayRow(45)).toMatchObject({ value: 45, unit: "s" });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 604_800 }), (s) => {
        expect(secondsOf(delayRow(s))).toBe(s);
      }),
    );
  });

  it("refuses delays outside 10 s – 7 days and more than 20 queries", () => {
    const rows = [
      delayRow(5),
      delayRow(60),
      { ...delayRow(60), value: "1.5", unit: "s" as const },
      delayRow(8 * 86_400),
    ];
    expect(Object.keys(scheduleErrors(rows, "sq"))).toEqual(["sq.0.value", "sq.2.value", "sq.3.value"]);
    expect(
      scheduleErrors(
        Array.from({ length: 21 }, () => delayRow(60)),
        "sq",
      ),
    ).toHaveProperty("sq");
    expect(scheduleErrors([], "sq")).toHaveProperty("sq");
  });
});
