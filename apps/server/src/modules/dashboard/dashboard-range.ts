/** The dashboard's ranges of days (docs/operations.md#dashboard). Pure: no I/O. */

const DAY_MS = 24 * 3_600_000;
export const DASHBOARD_RANGES = { today: 1, "7d": 7, "30d": 30 } as const;
export type DashboardRange = keyof typeof DASHBOARD_RANGES;

/**
 * The range's days in the viewer's time zone: `tzOffsetMin` is the browser's
 * getTimezoneOffset() (UTC minus local), so the days match the deposits list's date filter.
 */
export function rangeDays(range: DashboardRange, now: number, tzOffsetMin: number) {
  const off = tzOffsetMin * 60_000;
  const todayStart = Math.floor((now - off) / DAY_MS) * DAY_MS + off;
  const n = DASHBOARD_RANGES[range];
  const from = todayStart - (n - 1) * DAY_MS;
  return { from, to: todayStart + DAY_MS, off, days: Array.from({ length: n }, (_, i) => from + i * DAY_MS) };
}
