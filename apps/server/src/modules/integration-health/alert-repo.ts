import { newId } from "../../common/ids.js";
import { type Db, decodeJson, writeTransaction } from "../../infra/db/database.js";
import type { AlertKind, AlertsTable } from "../../infra/db/schema.js";
import { insertWebhookEvents, type NewWebhookEvent } from "../webhooks/outbox-repo.js";

export const ALERT_KINDS: AlertKind[] = [
  "callback_silence",
  "api1_failing",
  "signature_failures",
  "amount_mismatches",
  "fx_rate_stale",
  "webhook_failing",
  "webhook_disabled",
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
export type AlertSubject = {
  kind: "integration" | "rate_source" | "webhook_endpoint";
  id: string;
  name: string;
};

/** The alerts with their subjects' names; a subject missing altogether shows its id. */
export async function withSubjects<A extends Alert>(
  db: Db,
  tenantId: string,
  alerts: A[],
): Promise<(A & { subject: AlertSubject })[]> {
  const idsOf = (kind: AlertSubject["kind"]) => [
    ...new Set(alerts.filter((a) => subjectKind(a.kind) === kind).map((a) => a.integrationId)),
  ];
  const named = async (kind: AlertSubject["kind"]): Promise<[string, string][]> => {
    const ids = idsOf(kind);
    if (ids.length === 0) return [];
    if (kind === "webhook_endpoint") {
      const rows = await db
        .selectFrom("webhook_endpoints")
        .select(["id", "url", "description"])
        .where("tenant_id", "=", tenantId)
        .where("id", "in", ids)
        .execute();
      return rows.map((r) => [r.id, r.description || r.url]);
    }
    const rows = await db
      .selectFrom(kind === "rate_source" ? "fx_sources" : "psp_integrations")
      .select(["id", "name"])
      .where("tenant_id", "=", tenantId)
      .where("id", "in", ids)
      .execute();
    return rows.map((r) => [r.id, r.name]);
  };
  const names = new Map(
    (await Promise.all((["integration", "rate_source", "webhook_endpoint"] as const).map(named))).flat(),
  );
  return alerts.map((a) => ({
    ...a,
    subject: {
      kind: subjectKind(a.kind),
      id: a.integrationId,
      name: names.get(a.integrationId) ?? a.integrationId,
    },
  }));
}

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
 * this safe in several processes at once: the second insert does nothing. True if it opened;
 * then its `alert.opened` webhook event is written in the same transaction.
 */
export async function openAlert(db: Db, a: NewAlert, now: number): Promise<boolean> {
  return writeTransaction(db, (trx) => openAlertIn(trx, a, now));
}

type NewAlert = { tenantId: string; integrationId: string; kind: AlertKind; data: Record<string, number> };

/** {@link openAlert} in the caller's transaction. */
export async function openAlertIn(trx: Db, a: NewAlert, now: number): Promise<boolean> {
  const row = await trx
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
    .returningAll()
    .executeTakeFirst();
  if (row) await insertWebhookEvents(trx, [alertWebhook("alert.opened", alertView(row), a.tenantId, now)]);
  return row !== undefined;
}

/**
 * Resolves the open alert of this kind, if any (a conditional update: once). True if it did;
 * then its `alert.resolved` webhook event is written in the same transaction.
 */
export async function resolveAlert(
  db: Db,
  integrationId: string,
  kind: AlertKind,
  now: number,
): Promise<boolean> {
  return writeTransaction(db, (trx) => resolveAlertIn(trx, integrationId, kind, now));
}

/** {@link resolveAlert} in the caller's transaction. */
export async function resolveAlertIn(
  trx: Db,
  integrationId: string,
  kind: AlertKind,
  now: number,
): Promise<boolean> {
  const row = await trx
    .updateTable("alerts")
    .set({ status: "resolved", open_key: null, resolved_at: now })
    .where("open_key", "=", openKey(integrationId, kind))
    .returningAll()
    .executeTakeFirst();
  if (row)
    await insertWebhookEvents(trx, [alertWebhook("alert.resolved", alertView(row), row.tenant_id, now)]);
  return row !== undefined;
}

const subjectKind = (kind: AlertKind): AlertSubject["kind"] =>
  kind === "fx_rate_stale"
    ? "rate_source"
    : kind === "webhook_failing" || kind === "webhook_disabled"
      ? "webhook_endpoint"
      : "integration";

/** An alert's opening or resolving as a webhook event (written with the change: the outbox). */
function alertWebhook(
  type: "alert.opened" | "alert.resolved",
  a: Alert,
  tenantId: string,
  now: number,
): NewWebhookEvent {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    tenantId,
    type,
    now,
    data: {
      alertId: a.id,
      kind: a.kind,
      status: a.status,
      subject: { kind: subjectKind(a.kind), id: a.integrationId },
      openedAt: iso(a.openedAt),
      resolvedAt: iso(a.resolvedAt),
      figures: a.data,
    },
  };
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
