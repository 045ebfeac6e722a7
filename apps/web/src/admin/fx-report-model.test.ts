import { describe, expect, it } from "vitest";
import { defaultReportDays, reportRange } from "./fx-report-model.js";

describe("the FX report's range", () => {
  it("defaults to the last 30 days, today included", () => {
    expect(defaultReportDays(new Date(2026, 2, 5, 15, 30))).toEqual({ from: "2026-02-04", to: "2026-03-05" });
  });

  it("runs from the first day's start to the start of the day after the last", () => {
    expect(reportRange({ from: "2026-03-01", to: "2026-03-01" })).toEqual({
      from: new Date(2026, 2, 1).getTime(),
      to: new Date(2026, 2, 2).getTime(),
    });
  });

  it("has no range without both days or when it runs backwards", () => {
    expect(reportRange({ from: "", to: "2026-03-01" })).toBeNull();
    expect(reportRange({ from: "2026-03-02", to: "2026-03-01" })).toBeNull();
  });
});
