/**
 * Where each dashboard figure leads: the list behind it, filtered the same way. The deposits
 * list takes local days (YYYY-MM-DD) for `from`/`to`, and the server's days start at the
 * browser's midnight (the `tz` it is sent), so a day of the chart is a day of the list.
 */

/** Epoch ms → the browser's local day, as the deposits list's date filter takes it. */
export function localDay(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** The deposits list over [from, to) (to is exclusive: its last day is the day before). */
export function depositsLink(
  range: { from: number; to: number },
  filter: { status?: string; currency?: string; integrationId?: string } = {},
): string {
  const q = new URLSearchParams();
  if (filter.status) q.set("status", filter.status);
  if (filter.currency) q.set("currency", filter.currency);
  if (filter.integrationId) q.set("integrationId", filter.integrationId);
  q.set("from", localDay(range.from));
  q.set("to", localDay(range.to - 1));
  return `/deposits?${q.toString()}`;
}

export const reviewLink = (reason: string) => `/review?reason=${encodeURIComponent(reason)}`;
