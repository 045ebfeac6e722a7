import { formatAmount } from "@psphub/protocol";
import { sql } from "kysely";
import type { AppContext } from "../../app-context.js";
import type { DepositStatus } from "../../infra/db/schema.js";
import { DEPOSIT_STATUSES } from "../deposits/deposit-state.js";
import { totalsByIntegration, windowFigures } from "../integration-health/health-figures.js";
import { tenantHealth } from "../integration-health/health-view.js";
import { LATENCY_BOUNDS_MS, merge, parseHistogram, percentile } from "../integration-health/histogram.js";
import { openCounts } from "../review/review-repo.js";
import { type DashboardRange, rangeDays } from "./dashboard-range.js";

/** The back office's home page: the figures of a range of days (docs/operations.md#dashboard). */

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

type StatusFigures = { count: number; volume: string };

/**
 * Deposits created in the range per currency, day and status, read from the index
 * deposits_tenant_created_figures alone (migration 0013; docs/operations.md#dashboard).
 */
async function depositFigures(
  ctx: Pick<AppContext, "db">,
  tenantId: string,
  r: ReturnType<typeof rangeDays>,
) {
  // The offset is a validated integer: a literal keeps the select and group by expressions identical.
  const day = sql<number>`(created_at - ${sql.lit(r.off)}) / ${sql.lit(DAY_MS)}`;
  const rows = await ctx.db
    .selectFrom("deposits")
    .select([
      "currency",
      "status",
      day.as("day"),
      (eb) => eb.fn.countAll<number | string>().as("n"),
      (eb) => eb.fn.sum<number | string>("amount_minor").as("volume"),
      (eb) => eb.fn.max("decimals").as("decimals"),
    ])
    .where("tenant_id", "=", tenantId)
    .where("created_at", ">=", r.from)
    .where("created_at", "<", r.to)
    .groupBy(["currency", "status", day])
    .execute();
  const byCurrency = new Map<string, { decimals: number; status: Map<string, { n: number; v: bigint }> }>();
  const perDay = new Map<string, Map<number, Record<string, number>>>();
  for (const row of rows) {
    const c = byCurrency.get(row.currency) ?? { decimals: 0, status: new Map() };
    c.decimals = Math.max(c.decimals, Number(row.decimals));
    const s = c.status.get(row.status) ?? { n: 0, v: 0n };
    s.n += Number(row.n);
    s.v += BigInt(row.volume ?? 0);
    c.status.set(row.status, s);
    byCurrency.set(row.currency, c);
    const days = perDay.get(row.currency) ?? new Map<number, Record<string, number>>();
    const dayStart = Number(row.day) * DAY_MS + r.off;
    const counts = days.get(dayStart) ?? {};
    counts[row.status] = (counts[row.status] ?? 0) + Number(row.n);
    days.set(dayStart, counts);
    perDay.set(row.currency, days);
  }
  return [...byCurrency.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([currency, c]) => {
      const total = { count: 0, v: 0n };
      const byStatus = {} as Record<DepositStatus, StatusFigures>;
      for (const st of DEPOSIT_STATUSES) {
        const s = c.status.get(st) ?? { n: 0, v: 0n };
        total.count += s.n;
        total.v += s.v;
        byStatus[st] = { count: s.n, volume: formatAmount(s.v, c.decimals) };
      }
      const days = perDay.get(currency);
      return {
        currency,
        total: { count: total.count, volume: formatAmount(total.v, c.decimals) },
        byStatus,
        perDay: r.days.map((d) => ({
          day: d,
          ...Object.fromEntries(DEPOSIT_STATUSES.map((st) => [st, days?.get(d)?.[st] ?? 0])),
        })) as ({ day: number } & Record<DepositStatus, number>)[],
      };
    });
}

/** API-1 latency (p50 of the answered calls) per hour, or per day over 30 days: the sparklines. */
async function latencySeries(ctx: Pick<AppContext, "db">, tenantId: string, r: ReturnType<typeof rangeDays>) {
  const step = r.days.length > 7 ? DAY_MS : HOUR_MS;
  const rows = await ctx.db
    .selectFrom("integration_health_minutes")
    .select(["integration_id", "minute", "api1_ok_latency"])
    .where("tenant_id", "=", tenantId)
    .where("minute", ">=", r.from)
    .where("minute", "<", r.to)
    .execute();
  const by = new Map<string, Map<number, number[]>>();
  for (const row of rows) {
    const buckets = by.get(row.integration_id) ?? new Map<number, number[]>();
    const at = r.from + Math.floor((Number(row.minute) - r.from) / step) * step;
    const h = parseHistogram(row.api1_ok_latency, LATENCY_BOUNDS_MS);
    const into = buckets.get(at);
    if (into) merge(into, h);
    else buckets.set(at, h);
    by.set(row.integration_id, buckets);
  }
  return (id: string) =>
    [...(by.get(id) ?? new Map<number, number[]>()).entries()]
      .sort(([a], [b]) => a - b)
      .map(([at, h]) => ({ at, p50: percentile(h, LATENCY_BOUNDS_MS, 0.5) }))
      .filter((p): p is { at: number; p50: number } => p.p50 !== null);
}

export async function dashboard(
  ctx: Pick<AppContext, "db" | "clock">,
  tenantId: string,
  q: { range: DashboardRange; tz: number },
) {
  const now = ctx.clock.now();
  const r = rangeDays(q.range, now, q.tz);
  const currencies = await depositFigures(ctx, tenantId, r);
  const health = await tenantHealth(ctx, tenantId);
  const totals = await totalsByIntegration(ctx.db, { from: r.from, to: r.to, tenantId });
  const latency = await latencySeries(ctx, tenantId, r);
  const breakers = await ctx.db
    .selectFrom("api1_breakers")
    .select(["integration_id", "state", "mode"])
    .where("tenant_id", "=", tenantId)
    .execute();
  const breakerOf = new Map(breakers.map((b) => [b.integration_id, b]));
  const review = await openCounts(ctx.db, tenantId);
  const { needs_assistance: needsAssistance = 0, ...others } = review;
  return {
    asOf: now,
    range: q.range,
    from: r.from,
    to: r.to,
    currencies,
    integrations: health.integrations.map((i) => {
      const t = totals.get(i.id);
      const f = t ? windowFigures(t) : null;
      const b = breakerOf.get(i.id);
      return {
        id: i.id,
        name: i.name,
        enabled: i.enabled,
        conversion: f?.conversion ?? null,
        timeToFinalMs: f?.timeToFinalMs ?? { p50: null, p95: null },
        succeeded: f?.succeeded ?? 0,
        failed: f?.failed ?? 0,
        breaker: { state: b?.state ?? "closed", mode: b?.mode ?? "on" },
        latency: latency(i.id),
        lastCallbackAt: i.lastCallbackAt,
        openAlerts: i.openAlerts,
      };
    }),
    review: { byReason: others, needsAssistance },
  };
}
