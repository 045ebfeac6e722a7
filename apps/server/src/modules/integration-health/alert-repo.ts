import { newId } from "../../common/ids.js";
import { type Db, decodeJson } from "../../infra/db/database.js";
import type { AlertKind, AlertsTable } from "../../infra/db/schema.js";

export const ALERT_KINDS: AlertKind[] = [
  "callback_silence",
  "api1_failing",
  "signature_failures",
  "amount_mismatches",
  "fx_rate_stale",
];

export type Alert = {
  id: string;
  integrationId: string;
  kind: AlertKind;
  status: "open" | "resolved";
  openedAt: number;
  resolvedAt: number | null;
  data: Record<string, number>;
  acknowledgedBy: string | null;
  acknowledgedAt: number | null;
};

/** What an alert is about: an integration, or (fx_rate_stale) a rate source, deleted ones too. */
export type AlertSubject = { kind: "integration" | "rate_source"; id: string; name: string };

/** The alerts with their subjects' names; a subject missing altogether shows its id. */
export async function withSubjects<A extends Alert>(
  db: Db,
  tenantId: string,
  alerts: A[],
): Promise<(A & { subject: AlertSubject })[]> {
  const isSource = (a: Alert) => a.kind === "fx_rate_stale";
  const sourceIds = [...new Set(alerts.filter(isSource).map((a) => a.integrationId))];
  const integrationIds = [...new Set(alerts.filter((a) => !isSource(a)).map((a) => a.integrationId))];
  const [sources, integrations] = await Promise.all([
    sourceIds.length === 0
      ? []
      : db
          .selectFrom("fx_sources")
          .select(["id", "name"])
          .where("tenant_id", "=", tenantId)
          .where("id", "in", sourceIds)
          .execute(),
    integrationIds.length === 0
      ? []
      : db
          .selectFrom("psp_integrations")
          .select(["id", "name"])
          .where("tenant_id", "=", tenantId)
          .where("id", "in", integrationIds)
          .execute(),
  ]);
  const sourceNames = new Map(sources.map((r) => [r.id, r.name]));
  const integrationNames = new Map(integrations.map((r) => [r.id, r.name]));
  return alerts.map((a) => {
    const kind = isSource(a) ? "rate_source" : "integration";
    const name = (isSource(a) ? sourceNames : integrationNames).get(a.integrationId) ?? a.integrationId;
    return { ...a, subject: { kind, id: a.integrationId, name } };
  });
}

/** What the outbound webhooks deliver (a later issue): one event per opening and resolving. */
export type AlertEvent = { type: "alert.opened" | "alert.resolved"; at: number; alert: Alert };

const openKey = (integrationId: string, kind: AlertKind) => `${integrationId}:${kind}`;

export const alertView = (r: AlertsTable): Alert => ({
  id: r.id,
  integrationId: r.integration_id,
  kind: r.kind,
  status: r.status,
  openedAt: Number(r.opened_at),
  resolvedAt: r.resolved_at === null ? null : Number(r.resolved_at),
  data: decodeJson(r.data, {}),
  acknowledgedBy: r.acknowledged_by,
  acknowledgedAt: r.acknowledged_at === null ? null : Number(r.acknowledged_at),
});

/**
 * Opens the integration's alert of this kind unless one is open. The unique `open_key` makes
 * this safe in several processes at once: the second insert does nothing. True if it opened.
 */
export async function openAlert(
  db: Db,
  a: { tenantId: string; integrationId: string; kind: AlertKind; data: Record<string, number> },
  now: number,
): Promise<boolean> {
  const res = await db
    .insertInto("alerts")
    .values({
      id: newId(),
      tenant_id: a.tenantId,
      integration_id: a.integrationId,
      kind: a.kind,
      status: "open",
      open_key: openKey(a.integrationId, a.kind),
      opened_at: now,
      resolved_at: null,
      data: JSON.stringify(a.data),
      acknowledged_by: null,
      acknowledged_at: null,
    })
    .onConflict((oc) => oc.column("open_key").doNothing())
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0n) > 0;
}

/** Resolves the open alert of this kind, if any (a conditional update: once). True if it did. */
export async function resolveAlert(
  db: Db,
  integrationId: string,
  kind: AlertKind,
  now: number,
): Promise<boolean> {
  const res = await db
    .updateTable("alerts")
    .set({ status: "resolved", open_key: null, resolved_at: now })
    .where("open_key", "=", openKey(integrationId, kind))
    .executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

export async function openAlertKeys(db: Db): Promise<Set<string>> {
  const rows = await db.selectFrom("alerts").select("open_key").where("open_key", "is not", null).execute();
  return new Set(rows.map((r) => r.open_key as string));
}
export { openKey };

/** A tenant's alerts, open ones first, newest first; at most `limit`. */
export async function listAlerts(
  db: Db,
  tenantId: string,
  q: { status?: "open" | "resolved"; integrationId?: string; limit: number; offset: number },
): Promise<{ items: (Alert & { subject: AlertSubject })[]; total: number }> {
  let base = db.selectFrom("alerts").where("tenant_id", "=", tenantId);
  if (q.status) base = base.where("status", "=", q.status);
  if (q.integrationId) base = base.where("integration_id", "=", q.integrationId);
  const rows = await base
    .selectAll()
    .orderBy("status", "asc")
    .orderBy("opened_at", "desc")
    .orderBy("id", "desc")
    .limit(q.limit)
    .offset(q.offset)
    .execute();
  const { n } = await base.select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
  return { items: await withSubjects(db, tenantId, rows.map(alertView)), total: Number(n) };
}

/**
 * A tenant's alert changes after `since` (exclusive), oldest first: the feed the outbound
 * webhooks will read. An alert opened and resolved in the range gives two events.
 */
export async function alertChangesSince(db: Db, tenantId: string, since: number): Promise<AlertEvent[]> {
  const rows = await db
    .selectFrom("alerts")
    .selectAll()
    .where("tenant_id", "=", tenantId)
    .where((eb) => eb.or([eb("opened_at", ">", since), eb("resolved_at", ">", since)]))
    .execute();
  const events: AlertEvent[] = [];
  for (const r of rows) {
    const alert = alertView(r);
    if (alert.openedAt > since) events.push({ type: "alert.opened", at: alert.openedAt, alert });
    if (alert.resolvedAt !== null && alert.resolvedAt > since)
      events.push({ type: "alert.resolved", at: alert.resolvedAt, alert });
  }
  return events.sort((a, b) => a.at - b.at || (a.type === "alert.opened" ? -1 : 1));
}
