import { api } from "./api.js";
import type {
  FxManualRate,
  FxReport,
  FxSource,
  FxSourceInput,
  FxSourceUpdate,
  FxTestResult,
} from "./fx-types.js";

/**
 * The exchange-rate calls of the back office, through the one API client (session, CSRF,
 * errors as ApiError). The client is typed by the generated schema, which does not list these
 * routes yet: the paths go through an untyped view of it, and the answers are fx-types.ts.
 */
type LooseInit = {
  params?: { path?: Record<string, string>; query?: Record<string, string | number> };
  body?: unknown;
};
type LooseCall = (path: string, init?: LooseInit) => Promise<unknown>;
const loose = api as unknown as { GET: LooseCall; POST: LooseCall; PUT: LooseCall; DELETE: LooseCall };
const at = (id: string) => ({ params: { path: { id } } });

export const fxApi = {
  listSources: async () => ((await loose.GET("/api/admin/fx/sources")) as { items: FxSource[] }).items,
  createSource: (body: FxSourceInput) =>
    loose.POST("/api/admin/fx/sources", { body }) as Promise<{ source: FxSource; key: string | null }>,
  updateSource: (id: string, body: FxSourceUpdate) =>
    loose.PUT("/api/admin/fx/sources/{id}", { ...at(id), body }) as Promise<{ source: FxSource }>,
  deleteSource: (id: string) => loose.DELETE("/api/admin/fx/sources/{id}", at(id)).then(() => undefined),
  regenerateKey: (id: string) =>
    loose.POST("/api/admin/fx/sources/{id}/key", at(id)) as Promise<{ key: string }>,
  testSource: (id: string, pair: { from: string; to: string }) =>
    loose.POST("/api/admin/fx/sources/{id}/test", { ...at(id), body: pair }) as Promise<FxTestResult>,
  listRates: async (id: string) =>
    ((await loose.GET("/api/admin/fx/sources/{id}/rates", at(id))) as { items: FxManualRate[] }).items,
  putRate: (id: string, from: string, to: string, body: { rate: string; markupBps: number }) =>
    loose.PUT("/api/admin/fx/sources/{id}/rates/{from}/{to}", {
      params: { path: { id, from, to } },
      body,
    }) as Promise<FxManualRate>,
  deleteRate: (id: string, from: string, to: string) =>
    loose
      .DELETE("/api/admin/fx/sources/{id}/rates/{from}/{to}", { params: { path: { id, from, to } } })
      .then(() => undefined),
  report: (range: { from: number; to: number }) =>
    loose.GET("/api/admin/reports/fx", { params: { query: range } }) as Promise<FxReport>,
};

/**
 * The FX report as CSV: a plain link, downloaded with the session cookie (a GET needs no CSRF
 * token), like lib/export-url.ts's exports, whose typed paths do not list this one yet.
 */
export function fxReportCsvUrl(range: { from: number; to: number }): string {
  const params = new URLSearchParams({ from: String(range.from), to: String(range.to), format: "csv" });
  return `/api/admin/reports/fx?${params.toString()}`;
}
