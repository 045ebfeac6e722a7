import { sql } from "kysely";
import type { AppContext } from "../../app-context.js";
import type { Db } from "../../infra/db/database.js";
import type { IntegrationHealthMinutesTable } from "../../infra/db/schema.js";
import { DURATION_BOUNDS_MS, emptyHistogram, LATENCY_BOUNDS_MS, record } from "./histogram.js";

export const MINUTE_MS = 60_000;
/** Each run re-derives this many finished minutes too: rows committed a little late are counted. */
export const RECOMPUTE_MINUTES = 5;
/** After a long stop, the rollup catches up on at most this much (the longest window and then some). */
export const CATCH_UP_MS = 25 * 3_600_000;
/** Minutes re-derived per statement batch, so a catch-up never holds a day of rows in memory. */
const CHUNK_MINUTES = 60;
const STATE_ID = "rollup";

type Row = IntegrationHealthMinutesTable;
type Acc = Omit<Row, "api1_ok_latency" | "api1_failed_latency" | "time_to_final"> & {
  okLatency: number[];
  failedLatency: number[];
  toFinal: number[];
};

const floorMinute = (t: number) => t - (t % MINUTE_MS);

/**
 * Re-derives the per-minute figures from the source rows and upserts them
 * (docs/operations.md#how-the-figures-are-kept). Idempotent: a minute is always recomputed
 * whole, so two processes running it at once write the same rows. From the last run's mark
 * (less RECOMPUTE_MINUTES) up to now, the current minute included.
 */
export async function rollUpHealth(ctx: Pick<AppContext, "db" | "clock">): Promise<{ minutes: number }> {
  const now = ctx.clock.now();
  const state = await ctx.db
    .selectFrom("integration_health_state")
    .select("rolled_to")
    .where("id", "=", STATE_ID)
    .executeTakeFirst();
  const lookback = floorMinute(now) - RECOMPUTE_MINUTES * MINUTE_MS;
  // The first run (a new install, or this migration) derives the last day from what is stored.
  let from = Math.min(state ? Number(state.rolled_to) : now - CATCH_UP_MS, lookback);
  from = Math.max(floorMinute(from), floorMinute(now - CATCH_UP_MS));
  const to = floorMinute(now) + MINUTE_MS;
  let minutes = 0;
  for (let start = from; start < to; start += CHUNK_MINUTES * MINUTE_MS) {
    const end = Math.min(to, start + CHUNK_MINUTES * MINUTE_MS);
    minutes += await rollUpRange(ctx.db, start, end);
  }
  const mark = floorMinute(now);
  if (!state) {
    await ctx.db
      .insertInto("integration_health_state")
      .values({ id: STATE_ID, rolled_to: mark })
      .onConflict((oc) => oc.column("id").doNothing())
      .execute();
  }
  await ctx.db
    .updateTable("integration_health_state")
    .set({ rolled_to: mark })
    .where("id", "=", STATE_ID)
    .where("rolled_to", "<", mark)
    .execute();
  return { minutes };
}

/** Recomputes every minute in [from, to) (minute-aligned); returns the rows written. */
async function rollUpRange(db: Db, from: number, to: number): Promise<number> {
  const acc = new Map<string, Acc>();
  const at = (tenantId: string, integrationId: string, t: number): Acc => {
    const minute = floorMinute(t);
    const key = `${integrationId}|${minute}`;
    let a = acc.get(key);
    if (!a) {
      a = {
        integration_id: integrationId,
        minute,
        tenant_id: tenantId,
        api1_ok: 0,
        api1_failed: 0,
        urls_issued: 0,
        cb_accepted: 0,
        cb_duplicate: 0,
        cb_rejected: 0,
        cb_review: 0,
        status_answers: 0,
        signature_failures: 0,
        amount_mismatches: 0,
        succeeded: 0,
        failed: 0,
        okLatency: emptyHistogram(LATENCY_BOUNDS_MS),
        failedLatency: emptyHistogram(LATENCY_BOUNDS_MS),
        toFinal: emptyHistogram(DURATION_BOUNDS_MS),
      };
      acc.set(key, a);
    }
    return a;
  };

  // API-1 calls: their timeline events carry the latency and the outcome (deposit-events.ts).
  const calls = await db
    .selectFrom("deposit_events as e")
    .innerJoin("deposits as d", "d.id", "e.deposit_id")
    .select(["d.tenant_id", "d.integration_id", "e.created_at", "e.data"])
    .where("e.kind", "=", "api1_call")
    .where("e.created_at", ">=", from)
    .where("e.created_at", "<", to)
    .execute();
  for (const c of calls) {
    const call = readApi1Call(c.data);
    const a = at(c.tenant_id, c.integration_id, Number(c.created_at));
    if (call.ok) {
      a.api1_ok++;
      record(a.okLatency, LATENCY_BOUNDS_MS, call.latencyMs);
      if (call.paymentUrl) a.urls_issued++;
    } else {
      a.api1_failed++;
      record(a.failedLatency, LATENCY_BOUNDS_MS, call.latencyMs);
    }
  }

  // A literal, not a parameter: PostgreSQL must see the same expression in SELECT and GROUP BY.
  const minuteOf = sql<number>`created_at - (created_at % ${sql.lit(MINUTE_MS)})`;
  const logs = await db
    .selectFrom("callback_logs")
    .select([
      "tenant_id",
      "integration_id",
      "verdict",
      "error_type",
      "source",
      minuteOf.as("m"),
      sql<number>`sum(request_count)`.as("n"),
    ])
    .where("created_at", ">=", from)
    .where("created_at", "<", to)
    .where("integration_id", "is not", null)
    .where("tenant_id", "is not", null)
    .groupBy(["tenant_id", "integration_id", "verdict", "error_type", "source", minuteOf])
    .execute();
  for (const l of logs) {
    const a = at(l.tenant_id as string, l.integration_id as string, Number(l.m));
    const n = Number(l.n);
    if (l.source === "status_query") a.status_answers += n;
    else if (l.verdict === "accepted") a.cb_accepted += n;
    else if (l.verdict === "duplicate") a.cb_duplicate += n;
    else if (l.verdict === "rejected") a.cb_rejected += n;
    else a.cb_review += n;
    if (l.error_type === "psp_token_invalid") a.signature_failures += n;
    // A refused amount under `exact`; one kept for an admin is counted by its review item below.
    if (l.error_type === "payment_amount_not_allowed" && l.verdict === "rejected") a.amount_mismatches += n;
  }

  const reviews = await db
    .selectFrom("review_items as r")
    .innerJoin("deposits as d", "d.id", "r.deposit_id")
    .select(["d.tenant_id", "d.integration_id", "r.created_at"])
    .where("r.reason", "=", "amount_mismatch")
    .where("r.created_at", ">=", from)
    .where("r.created_at", "<", to)
    .execute();
  for (const r of reviews) at(r.tenant_id, r.integration_id, Number(r.created_at)).amount_mismatches++;

  // Orders that reached a final status after a payment URL was issued (expiry and cancellation
  // are not the PSP's answer; an order failed by its API-1 call never had one).
  const finals = await db
    .selectFrom("deposits")
    .select(["tenant_id", "integration_id", "status", "created_at", "finalized_at"])
    .where("finalized_at", ">=", from)
    .where("finalized_at", "<", to)
    .where("status", "in", ["succeeded", "failed"])
    .where("payment_url", "is not", null)
    .execute();
  for (const d of finals) {
    const fin = Number(d.finalized_at);
    const a = at(d.tenant_id, d.integration_id, fin);
    if (d.status === "succeeded") a.succeeded++;
    else a.failed++;
    record(a.toFinal, DURATION_BOUNDS_MS, fin - Number(d.created_at));
  }

  const rows: Row[] = [...acc.values()].map(({ okLatency, failedLatency, toFinal, ...a }) => ({
    ...a,
    api1_ok_latency: JSON.stringify(okLatency),
    api1_failed_latency: JSON.stringify(failedLatency),
    time_to_final: JSON.stringify(toFinal),
  }));
  for (let i = 0; i < rows.length; i += 200) {
    await db
      .insertInto("integration_health_minutes")
      .values(rows.slice(i, i + 200))
      .onConflict((oc) =>
        oc.columns(["integration_id", "minute"]).doUpdateSet((eb) => ({
          api1_ok: eb.ref("excluded.api1_ok"),
          api1_failed: eb.ref("excluded.api1_failed"),
          api1_ok_latency: eb.ref("excluded.api1_ok_latency"),
          api1_failed_latency: eb.ref("excluded.api1_failed_latency"),
          urls_issued: eb.ref("excluded.urls_issued"),
          cb_accepted: eb.ref("excluded.cb_accepted"),
          cb_duplicate: eb.ref("excluded.cb_duplicate"),
          cb_rejected: eb.ref("excluded.cb_rejected"),
          cb_review: eb.ref("excluded.cb_review"),
          status_answers: eb.ref("excluded.status_answers"),
          signature_failures: eb.ref("excluded.signature_failures"),
          amount_mismatches: eb.ref("excluded.amount_mismatches"),
          succeeded: eb.ref("excluded.succeeded"),
          failed: eb.ref("excluded.failed"),
          time_to_final: eb.ref("excluded.time_to_final"),
        })),
      )
      .execute();
  }
  return rows.length;
}

/** The fields of an api1_call event the figures need; anything unreadable counts as a failure. */
function readApi1Call(text: string): { ok: boolean; latencyMs: number; paymentUrl: boolean } {
  try {
    const d = JSON.parse(text) as { outcome?: unknown; latencyMs?: unknown; paymentUrl?: unknown };
    const latencyMs = typeof d.latencyMs === "number" && d.latencyMs >= 0 ? d.latencyMs : 0;
    return { ok: d.outcome === "ok", latencyMs, paymentUrl: typeof d.paymentUrl === "string" };
  } catch {
    return { ok: false, latencyMs: 0, paymentUrl: false };
  }
}
