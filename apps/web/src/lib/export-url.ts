import type { paths } from "./api-schema.js";

/** The API's CSV exports (`…/export.csv`), by path. */
type CsvPath = Extract<keyof paths, `${string}/export.csv`>;
type QueryOf<P extends CsvPath> = paths[P]["get"] extends { parameters: { query?: infer Q } } ? Q : never;

/**
 * The URL of a CSV export with the list's current filters and order: a plain link, so the browser
 * downloads it with the session cookie (a GET needs no CSRF token) while the server streams it.
 * Empty filters are left out, as the typed client leaves them out of a list's query.
 */
export function csvExportUrl<P extends CsvPath>(
  path: P,
  opts: { path?: Record<string, string>; query?: QueryOf<P> } = {},
): string {
  const url = (path as string).replace(/\{(\w+)\}/g, (_m, name: string) =>
    encodeURIComponent(opts.path?.[name] ?? ""),
  );
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries((opts.query ?? {}) as Record<string, unknown>)) {
    if (v !== undefined && v !== null && v !== "") params.set(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${url}?${qs}` : url;
}
