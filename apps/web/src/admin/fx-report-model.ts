/**
 * The FX report's date range: days (yyyy-mm-dd, the browser's local calendar) as the report
 * takes them, epoch ms from the start of the first day to the start of the day after the last.
 */
const DAY = /^\d{4}-\d{2}-\d{2}$/;

const dayText = (d: Date) =>
  `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;

/** The last 30 days, today included. */
export function defaultReportDays(now: Date): { from: string; to: string } {
  const start = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 29);
  return { from: dayText(start), to: dayText(now) };
}

/** The query of a range of days, or null when a day is missing or the range runs backwards. */
export function reportRange(days: { from: string; to: string }): { from: number; to: number } | null {
  if (!DAY.test(days.from) || !DAY.test(days.to)) return null;
  const at = (day: string, next: boolean) => {
    const [y, m, d] = day.split("-").map(Number) as [number, number, number];
    return new Date(y, m - 1, d + (next ? 1 : 0)).getTime();
  };
  const from = at(days.from, false);
  const to = at(days.to, true);
  return from < to ? { from, to } : null;
}
