import { api } from "./api.js";
import type { FxRateInput, FxSourceInput, FxSourceUpdate } from "./types.js";

/** The exchange-rate calls of the back office, through the one typed API client. */
const at = (id: string) => ({ params: { path: { id } } });

export const fxApi = {
  listSources: async () => (await api.GET("/api/admin/fx/sources")).items,
  createSource: (body: FxSourceInput) => api.POST("/api/admin/fx/sources", { body }),
  updateSource: (id: string, body: FxSourceUpdate) =>
    api.PUT("/api/admin/fx/sources/{id}", { ...at(id), body }),
  deleteSource: (id: string) => api.DELETE("/api/admin/fx/sources/{id}", at(id)).then(() => undefined),
  regenerateKey: (id: string) => api.POST("/api/admin/fx/sources/{id}/key", at(id)),
  testSource: (id: string, pair: { from: string; to: string }) =>
    api.POST("/api/admin/fx/sources/{id}/test", { ...at(id), body: pair }),
  listRates: async (id: string) => (await api.GET("/api/admin/fx/sources/{id}/rates", at(id))).items,
  putRate: (id: string, from: string, to: string, body: FxRateInput) =>
    api.PUT("/api/admin/fx/sources/{id}/rates/{from}/{to}", { params: { path: { id, from, to } }, body }),
  deleteRate: (id: string, from: string, to: string) =>
    api
      .DELETE("/api/admin/fx/sources/{id}/rates/{from}/{to}", { params: { path: { id, from, to } } })
      .then(() => undefined),
  report: (range: { from: number; to: number }) =>
    api.GET("/api/admin/reports/fx", { params: { query: range } }),
};

/**
 * The FX report as CSV: a plain link, downloaded with the session cookie (a GET needs no CSRF
 * token), like lib/export-url.ts's exports (which cover the `…/export.csv` paths only).
 */
export function fxReportCsvUrl(range: { from: number; to: number }): string {
  const params = new URLSearchParams({ from: String(range.from), to: String(range.to), format: "csv" });
  return `/api/admin/reports/fx?${params.toString()}`;
}
