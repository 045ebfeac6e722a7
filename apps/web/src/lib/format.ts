import { locale } from "../i18n/index.js";

/** Dates in the current language (Intl), with one formatter per language and style. */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(style: "short" | "medium"): Intl.DateTimeFormat {
  const loc = locale();
  const key = `${loc}|${style}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(loc, { dateStyle: "medium", timeStyle: style });
    formatters.set(key, f);
  }
  return f;
}

/** Epoch ms → a short local date and time ("Nov 26, 2026, 7:21 PM"; "2026年11月26日 19:21"). */
export function dateTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  return formatter("short").format(ms);
}

export function dateTimeSeconds(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  return formatter("medium").format(ms);
}
