import type { Selectable } from "kysely";
import { type Db, decodeJson } from "../../infra/db/database.js";
import type { WebhookAttemptsTable, WebhookEndpointsTable } from "../../infra/db/schema.js";
import type { AttemptView, EndpointView } from "./endpoint-schemas.js";
import { eventTypesColumn, eventTypesOf } from "./webhook-event-types.js";

/** Storage reads of webhook endpoints and their figures. Every query is scoped by tenant. */

export type EndpointRow = Selectable<WebhookEndpointsTable>;

/** A new endpoint's row: enabled (or disabled by hand), no failure streak, the secret sealed. */
export function newEndpointRow(e: {
  id: string;
  tenantId: string;
  url: string;
  description: string;
  eventTypes: readonly string[];
  enabled: boolean;
  secretEnc: string;
  now: number;
}): WebhookEndpointsTable {
  return {
    id: e.id,
    tenant_id: e.tenantId,
    url: e.url,
    description: e.description,
    event_types: eventTypesColumn(e.eventTypes),
    enabled: e.enabled ? 1 : 0,
    disabled_reason: e.enabled ? null : "manual",
    disabled_at: e.enabled ? null : e.now,
    secret_enc: e.secretEnc,
    previous_secret_enc: null,
    previous_expires_at: null,
    failing_since: null,
    last_success_at: null,
    created_at: e.now,
    updated_at: e.now,
    deleted_at: null,
  };
}

export async function findEndpoint(db: Db, tenantId: string, id: string): Promise<EndpointRow | undefined> {
  return db
    .selectFrom("webhook_endpoints")
    .selectAll()
    .where("tenant_id", "=", tenantId)
    .where("id", "=", id)
    .where("deleted_at", "is", null)
    .executeTakeFirst();
}

const num = (v: number | null) => (v === null ? null : Number(v));

export const attemptView = (a: Selectable<WebhookAttemptsTable>, type: string): AttemptView => ({
  id: a.id,
  eventId: a.event_id,
  type,
  attempt: Number(a.attempt),
  requestHeaders: decodeJson(a.request_headers, {}),
  responseStatus: num(a.response_status),
  responseHeaders: a.response_headers === null ? null : decodeJson(a.response_headers, {}),
  responseBody: a.response_body,
  error: a.error,
  latencyMs: Number(a.latency_ms),
  createdAt: Number(a.created_at),
});

/** Attempts with their event's type, newest first. */
export async function attemptsWithType(
  db: Db,
  tenantId: string,
  where: { endpointId: string; deliveryId?: string },
  limit: number,
): Promise<AttemptView[]> {
  let q = db
    .selectFrom("webhook_attempts as a")
    .innerJoin("webhook_events as e", "e.id", "a.event_id")
    .selectAll("a")
    .select("e.type as event_type")
    .where("a.tenant_id", "=", tenantId)
    .where("a.endpoint_id", "=", where.endpointId);
  if (where.deliveryId) q = q.where("a.delivery_id", "=", where.deliveryId);
  const rows = await q.orderBy("a.created_at", "desc").orderBy("a.id", "desc").limit(limit).execute();
  return rows.map((r) => attemptView(r, r.event_type));
}

const DAY = 24 * 3600_000;

/** Endpoints as the back office shows them: success rate over 24 h, backlog, next retry, last attempts. */
export async function endpointViews(
  db: Db,
  tenantId: string,
  rows: EndpointRow[],
  now: number,
): Promise<EndpointView[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const [attempts, backlog] = await Promise.all([
    db
      .selectFrom("webhook_attempts")
      .select((eb) => [
        "endpoint_id",
        eb.fn.countAll<number>().as("n"),
        eb.fn
          .sum<number>(
            eb
              .case()
              .when(eb.and([eb("response_status", ">=", 200), eb("response_status", "<", 300)]))
              .then(1)
              .else(0)
              .end(),
          )
          .as("ok"),
      ])
      .where("tenant_id", "=", tenantId)
      .where("endpoint_id", "in", ids)
      .where("created_at", ">=", now - DAY)
      .groupBy("endpoint_id")
      .execute(),
    db
      .selectFrom("webhook_deliveries")
      .select((eb) => [
        "endpoint_id",
        eb.fn.sum<number>(eb.case().when("status", "=", "pending").then(1).else(0).end()).as("pending"),
        eb.fn.sum<number>(eb.case().when("status", "=", "failed").then(1).else(0).end()).as("failed"),
        eb.fn
          .min<number>(
            eb
              .case()
              .when(eb.and([eb("status", "=", "pending"), eb("attempts", ">", 0)]))
              .then(eb.ref("due_at"))
              .end(),
          )
          .as("next_retry"),
      ])
      .where("tenant_id", "=", tenantId)
      .where("endpoint_id", "in", ids)
      .groupBy("endpoint_id")
      .execute(),
  ]);
  const a = new Map(attempts.map((r) => [r.endpoint_id, r]));
  const b = new Map(backlog.map((r) => [r.endpoint_id, r]));
  return Promise.all(
    rows.map(async (r) => {
      const n = Number(a.get(r.id)?.n ?? 0);
      const ok = Number(a.get(r.id)?.ok ?? 0);
      const next = b.get(r.id)?.next_retry;
      return {
        id: r.id,
        url: r.url,
        description: r.description,
        eventTypes: eventTypesOf(r.event_types),
        enabled: Number(r.enabled) === 1,
        disabledReason: r.disabled_reason,
        disabledAt: num(r.disabled_at),
        failingSince: num(r.failing_since),
        lastSuccessAt: num(r.last_success_at),
        previousSecretExpiresAt:
          r.previous_expires_at !== null && Number(r.previous_expires_at) > now
            ? Number(r.previous_expires_at)
            : null,
        createdAt: Number(r.created_at),
        updatedAt: Number(r.updated_at),
        stats: {
          attempts24h: n,
          succeeded24h: ok,
          successRate24h: n === 0 ? null : ok / n,
          pending: Number(b.get(r.id)?.pending ?? 0),
          failed: Number(b.get(r.id)?.failed ?? 0),
          nextRetryAt: next === null || next === undefined ? null : Number(next),
        },
        lastAttempts: await attemptsWithType(db, tenantId, { endpointId: r.id }, 5),
      };
    }),
  );
}
