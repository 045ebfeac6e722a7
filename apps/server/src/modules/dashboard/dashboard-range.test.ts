import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DASHBOARD_RANGES, type DashboardRange, rangeDays } from "./dashboard-range.js";

const DAY = 86_400_000;
const T = Date.UTC(2026, 0, 10, 14, 0, 0);
const MIDNIGHT = Date.UTC(2026, 0, 10);

describe("rangeDays", () => {
  it("starts the days at the viewer's midnight", () => {
    expect(rangeDays("today", T, 0)).toMatchObject({ from: MIDNIGHT, to: MIDNIGHT + DAY });
    // UTC+2 (getTimezoneOffset -120): local midnight is 22:00 UTC the day before.
    expect(rangeDays("today", T, -120).from).toBe(MIDNIGHT - 2 * 3_600_000);
    // UTC-5 at 03:00 UTC is still the day before, locally.
    expect(rangeDays("today", MIDNIGHT + 3 * 3_600_000, 300).from).toBe(MIDNIGHT - DAY + 5 * 3_600_000);
    const week = rangeDays("7d", T, 0);
    expect(week.days).toHaveLength(7);
    expect(week.from).toBe(MIDNIGHT - 6 * DAY);
  });

  it("covers now, whole local days, one per day of the range", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...(Object.keys(DASHBOARD_RANGES) as DashboardRange[])),
        fc.integer({ min: 0, max: 4_102_444_800_000 }),
        fc.integer({ min: -840, max: 840 }),
        (range, now, tz) => {
          const r = rangeDays(range, now, tz);
          expect(r.from).toBeLessThanOrEqual(now);
          expect(now).toBeLessThan(r.to);
          expect(r.to - now).toBeLessThanOrEqual(DAY);
          expect(r.to - r.from).toBe(DASHBOARD_RANGES[range] * DAY);
          expect((((r.from - tz * 60_000) % DAY) + DAY) % DAY).toBe(0);
          expect(r.days).toEqual(Array.from({ length: DASHBOARD_RANGES[range] }, (_, i) => r.from + i * DAY));
        },
      ),
    );
  });
});
