import { newId } from "../../common/ids.js";
import { type Db, encodeJson, fromBool } from "../../infra/db/database.js";
import type { Api1BreakerEventsTable, Api1BreakersTable } from "../../infra/db/schema.js";
import type { BreakerMode, BreakerState, WindowCounts } from "./breaker-policy.js";

/** The breaker tables (migration 0011). Every write is one conditional statement or a short transaction. */

export type BreakerRow = Api1BreakersTable;

export function stateOf(row: BreakerRow | undefined): BreakerState {
  if (!row || row.state === "closed") return { state: "closed" };
  const openedAt = Number(row.opened_at ?? 0);
  const reason = row.reason ?? "";
  if (row.state === "open") return { state: "open", openedAt, reason };
  return { state: "half_open", openedAt, reason, probeUntil: Number(row.probe_until ?? 0) };
}

export const modeOf = (row: BreakerRow | undefined): BreakerMode => row?.mode ?? "on";

export async function readBreaker(db: Db, integrationId: string): Promise<BreakerRow | undefined> {
  const row = await db
    .selectFrom("api1_breakers")
    .selectAll()
    .where("integration_id", "=", integrationId)
    .executeTakeFirst();
  return (
    row && { ...row, opened_at: nullableNumber(row.opened_at), probe_until: nullableNumber(row.probe_until) }
  );
}

const nullableNumber = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** The row of an integration, created closed (mode `on`) if it has none yet. */
async function ensureRow(db: Db, integrationId: string, tenantId: string, now: number): Promise<void> {
  await db
    .insertInto("api1_breakers")
    .values({
      integration_id: integrationId,
      tenant_id: tenantId,
      mode: "on",
      state: "closed",
      updated_at: now,
    })
    .onConflict((oc) => oc.column("integration_id").doNothing())
    .execute();
}

type Target = { integrationId: string; tenantId: string };

export async function addEvent(
  db: Db,
  t: Target,
  now: number,
  kind: Api1BreakerEventsTable["kind"],
  dryRun: boolean,
  detail: Record<string, unknown>,
): Promise<void> {
  await db
    .insertInto("api1_breaker_events")
    .values({
      id: newId(),
      tenant_id: t.tenantId,
      integration_id: t.integrationId,
      at: now,
      kind,
      dry_run: fromBool(dryRun),
      detail: encodeJson(detail),
    })
    .execute();
}

/** Adds calls and failures to their buckets: one statement, whatever processes count at once. */
export async function countCalls(
  db: Db,
  counts: readonly { integrationId: string; bucketAt: number; calls: number; failures: number }[],
): Promise<void> {
  if (counts.length === 0) return;
  await db
    .insertInto("api1_breaker_buckets")
    .values(
      counts.map((c) => ({
        integration_id: c.integrationId,
        bucket_at: c.bucketAt,
        calls: c.calls,
        failures: c.failures,
      })),
    )
    .onConflict((oc) =>
      oc.columns(["integration_id", "bucket_at"]).doUpdateSet((eb) => ({
        calls: eb("api1_breaker_buckets.calls", "+", eb.ref("excluded.calls")),
        failures: eb("api1_breaker_buckets.failures", "+", eb.ref("excluded.failures")),
      })),
    )
    .execute();
}

/** Drops buckets that no window reaches any more. */
export async function pruneBuckets(db: Db, before: number): Promise<void> {
  await db.deleteFrom("api1_breaker_buckets").where("bucket_at", "<", before).execute();
}

export async function windowCounts(db: Db, integrationId: string, from: number): Promise<WindowCounts> {
  const r = await db
    .selectFrom("api1_breaker_buckets")
    .select((eb) => [eb.fn.sum<number>("calls").as("calls"), eb.fn.sum<number>("failures").as("failures")])
    .where("integration_id", "=", integrationId)
    .where("bucket_at", ">=", from)
    .executeTakeFirst();
  return { calls: Number(r?.calls ?? 0), failures: Number(r?.failures ?? 0) };
}

/**
 * Closed → open, only if it is still closed (another process may have opened it first).
 * Returns whether this call opened it.
 */
export async function openIfClosed(db: Db, t: Target, now: number, reason: string): Promise<boolean> {
  await ensureRow(db, t.integrationId, t.tenantId, now);
  const r = await db
    .updateTable("api1_breakers")
    .set({ state: "open", opened_at: now, reason, probe_until: null, updated_at: now })
    .where("integration_id", "=", t.integrationId)
    .where("state", "=", "closed")
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * Claims the half-open probe: open past its cool-down, or half-open with an expired probe lease.
 * One process wins; the others see no row changed and refuse.
 */
export async function claimProbe(
  db: Db,
  integrationId: string,
  now: number,
  coolDownMs: number,
  probeUntil: number,
): Promise<boolean> {
  const r = await db
    .updateTable("api1_breakers")
    .set({ state: "half_open", probe_until: probeUntil, updated_at: now })
    .where("integration_id", "=", integrationId)
    .where((eb) =>
      eb.or([
        eb.and([eb("state", "=", "open"), eb("opened_at", "<=", now - coolDownMs)]),
        eb.and([eb("state", "=", "half_open"), eb("probe_until", "<=", now)]),
      ]),
    )
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Half-open → open again (the probe failed). */
export async function reopen(db: Db, integrationId: string, now: number, reason: string): Promise<boolean> {
  const r = await db
    .updateTable("api1_breakers")
    .set({ state: "open", opened_at: now, reason, probe_until: null, updated_at: now })
    .where("integration_id", "=", integrationId)
    .where("state", "=", "half_open")
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * Open or half-open → closed; the window starts empty again, so the failures that opened it
 * do not open it again at the next one.
 */
export async function close(db: Db, integrationId: string, now: number): Promise<boolean> {
  const r = await db
    .updateTable("api1_breakers")
    .set({ state: "closed", opened_at: null, reason: null, probe_until: null, updated_at: now })
    .where("integration_id", "=", integrationId)
    .where("state", "!=", "closed")
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) !== 1) return false;
  await db.deleteFrom("api1_breaker_buckets").where("integration_id", "=", integrationId).execute();
  return true;
}

export async function setMode(db: Db, t: Target, now: number, mode: BreakerMode): Promise<void> {
  await ensureRow(db, t.integrationId, t.tenantId, now);
  await db
    .updateTable("api1_breakers")
    .set({ mode, updated_at: now })
    .where("integration_id", "=", t.integrationId)
    .execute();
}

export type BreakerEventRow = {
  at: number;
  kind: Api1BreakerEventsTable["kind"];
  dryRun: boolean;
  detail: Record<string, unknown>;
};

/** The integration's latest events, newest first (tenant-scoped). */
export async function recentEvents(db: Db, t: Target, limit: number): Promise<BreakerEventRow[]> {
  const rows = await db
    .selectFrom("api1_breaker_events")
    .select(["at", "kind", "dry_run", "detail"])
    .where("tenant_id", "=", t.tenantId)
    .where("integration_id", "=", t.integrationId)
    .orderBy("at", "desc")
    .orderBy("id", "desc")
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    at: Number(r.at),
    kind: r.kind,
    dryRun: r.dry_run === 1 || (r.dry_run as unknown) === true,
    detail: JSON.parse(r.detail ?? "{}") as Record<string, unknown>,
  }));
}
