import { sql } from "kysely";
import type { Db } from "../../infra/db/database.js";
import { MINUTE_MS } from "./health-rollup.js";
import {
  DURATION_BOUNDS_MS,
  emptyHistogram,
  type Histogram,
  LATENCY_BOUNDS_MS,
  merge,
  parseHistogram,
  percentile,
} from "./histogram.js";

export const WINDOWS = { "5m": 5 * MINUTE_MS, "1h": 60 * MINUTE_MS, "24h": 24 * 60 * MINUTE_MS } as const;
export type WindowName = keyof typeof WINDOWS;

/** The summed counters of a range of minutes of one integration. */
export type Totals = {
  api1Ok: number;
  api1Failed: number;
  okLatency: Histogram;
  failedLatency: Histogram;
  urlsIssued: number;
  callbacks: { accepted: number; duplicate: number; rejected: number; review: number };
  statusAnswers: number;
  signatureFailures: number;
  amountMismatches: number;
  succeeded: number;
  failed: number;
  toFinal: Histogram;
};

const percentiles = (h: Histogram, bounds: readonly number[], qs: number[]) =>
  Object.fromEntries(qs.map((q) => [`p${Math.round(q * 100)}`, percentile(h, bounds, q)]));

/** One window's figures as the API shows them (docs/operations.md#figures). */
export function windowFigures(t: Totals) {
  const calls = t.api1Ok + t.api1Failed;
  return {
    api1: {
      calls,
      ok: t.api1Ok,
      failed: t.api1Failed,
      /** null without calls */
      successRate: calls === 0 ? null : t.api1Ok / calls,
      latencyMs: {
        ok: percentiles(t.okLatency, LATENCY_BOUNDS_MS, [0.5, 0.95, 0.99]) as LatencyPercentiles,
        failed: percentiles(t.failedLatency, LATENCY_BOUNDS_MS, [0.5, 0.95, 0.99]) as LatencyPercentiles,
      },
    },
    callbacks: { ...t.callbacks, statusQueryAnswers: t.statusAnswers },
    paymentUrlsIssued: t.urlsIssued,
    succeeded: t.succeeded,
    failed: t.failed,
    /** Succeeded orders over payment URLs issued in the window; null without URLs. */
    conversion: t.urlsIssued === 0 ? null : t.succeeded / t.urlsIssued,
    timeToFinalMs: percentiles(t.toFinal, DURATION_BOUNDS_MS, [0.5, 0.95]) as {
      p50: number | null;
      p95: number | null;
    },
    signatureFailures: t.signatureFailures,
    amountMismatches: t.amountMismatches,
  };
}
type LatencyPercentiles = { p50: number | null; p95: number | null; p99: number | null };
export type WindowFigures = ReturnType<typeof windowFigures>;

const emptyTotals = (): Totals => ({
  api1Ok: 0,
  api1Failed: 0,
  okLatency: emptyHistogram(LATENCY_BOUNDS_MS),
  failedLatency: emptyHistogram(LATENCY_BOUNDS_MS),
  urlsIssued: 0,
  callbacks: { accepted: 0, duplicate: 0, rejected: 0, review: 0 },
  statusAnswers: 0,
  signatureFailures: 0,
  amountMismatches: 0,
  succeeded: 0,
  failed: 0,
  toFinal: emptyHistogram(DURATION_BOUNDS_MS),
});

const COUNTERS = [
  "api1_ok",
  "api1_failed",
  "urls_issued",
  "cb_accepted",
  "cb_duplicate",
  "cb_rejected",
  "cb_review",
  "status_answers",
  "signature_failures",
  "amount_mismatches",
  "succeeded",
  "failed",
] as const;

/**
 * Sums the minutes in [from, to) per integration, for one tenant or (the detectors) all. The
 * window is aligned to minutes: a minute counts when it starts inside it. Counters are summed
 * by the database (one row per integration); the histograms, when asked for, are merged here.
 */
export async function totalsByIntegration(
  db: Db,
  range: { from: number; to: number; tenantId?: string; integrationId?: string; histograms?: boolean },
): Promise<Map<string, Totals & { tenantId: string }>> {
  let base = db
    .selectFrom("integration_health_minutes")
    .where("minute", ">=", range.from)
    .where("minute", "<", range.to);
  if (range.tenantId !== undefined) base = base.where("tenant_id", "=", range.tenantId);
  if (range.integrationId !== undefined) base = base.where("integration_id", "=", range.integrationId);
  const sums = await base
    .select(["tenant_id", "integration_id"])
    .select((eb) => COUNTERS.map((c) => eb.fn.sum<number>(c).as(c)))
    .groupBy(["tenant_id", "integration_id"])
    .execute();
  const out = new Map<string, Totals & { tenantId: string }>();
  for (const r of sums) {
    const n = (c: (typeof COUNTERS)[number]) => Number(r[c] ?? 0);
    out.set(r.integration_id, {
      ...emptyTotals(),
      tenantId: r.tenant_id,
      api1Ok: n("api1_ok"),
      api1Failed: n("api1_failed"),
      urlsIssued: n("urls_issued"),
      callbacks: {
        accepted: n("cb_accepted"),
        duplicate: n("cb_duplicate"),
        rejected: n("cb_rejected"),
        review: n("cb_review"),
      },
      statusAnswers: n("status_answers"),
      signatureFailures: n("signature_failures"),
      amountMismatches: n("amount_mismatches"),
      succeeded: n("succeeded"),
      failed: n("failed"),
    });
  }
  if (range.histograms === false) return out;
  const hists = await base
    .select(["integration_id", "api1_ok_latency", "api1_failed_latency", "time_to_final"])
    .execute();
  for (const h of hists) {
    const t = out.get(h.integration_id);
    if (!t) continue;
    merge(t.okLatency, parseHistogram(h.api1_ok_latency, LATENCY_BOUNDS_MS));
    merge(t.failedLatency, parseHistogram(h.api1_failed_latency, LATENCY_BOUNDS_MS));
    merge(t.toFinal, parseHistogram(h.time_to_final, DURATION_BOUNDS_MS));
  }
  return out;
}

/** Open orders past their TTL per integration: the expiry sweep is behind (or not running). */
export async function pendingBeyondTtl(db: Db, tenantId: string, now: number): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom("deposits")
    .select(["integration_id", sql<number>`count(*)`.as("n")])
    .where("status", "in", ["pending", "processing"])
    .where("expires_at", "<", now)
    .where("tenant_id", "=", tenantId)
    .groupBy("integration_id")
    .execute();
  return new Map(rows.map((r) => [r.integration_id, Number(r.n)]));
}

/** The figures of every window for the integrations of a tenant (one, or all). */
export async function healthOf(db: Db, tenantId: string, now: number, integrationId?: string) {
  const to = now - (now % MINUTE_MS) + MINUTE_MS;
  const byWindow = {} as Record<WindowName, Map<string, Totals>>;
  for (const [name, ms] of Object.entries(WINDOWS) as [WindowName, number][]) {
    byWindow[name] = await totalsByIntegration(db, {
      from: to - ms,
      to,
      tenantId,
      ...(integrationId !== undefined ? { integrationId } : {}),
    });
  }
  const pending = await pendingBeyondTtl(db, tenantId, now);
  return (id: string) => ({
    windows: Object.fromEntries(
      (Object.keys(WINDOWS) as WindowName[]).map((w) => [
        w,
        windowFigures(byWindow[w].get(id) ?? emptyTotals()),
      ]),
    ) as Record<WindowName, WindowFigures>,
    pendingBeyondTtl: pending.get(id) ?? 0,
  });
}
