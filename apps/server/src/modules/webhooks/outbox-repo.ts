import { newId } from "../../common/ids.js";
import { type Db, dialectOf } from "../../infra/db/database.js";
import { rowsAsTable, tableColumns } from "../../infra/db/sql-text.js";
import { type BatchWrite, runWrites } from "../../infra/db/write-batch.js";
import type { WebhookEventType } from "./webhook-event-types.js";

/**
 * The outbox (docs/webhooks.md): an event row, and one delivery row per enabled endpoint of the
 * tenant subscribed to its type, written by the transaction of the change the event reports, so
 * a rolled-back change leaves no event and a committed one is delivered even if the process
 * dies right after (the delivery worker finds it in the database). Whether an event exists and
 * whether it was delivered are separate rows.
 *
 * Plain SQL through `runWrites`, so the settlement adds these two writes to its one statement
 * (PostgreSQL) at no extra round trip. A tenant with no endpoint at all writes nothing.
 */

/** An event to write. `data` keeps a `sequence` key (null) where the order's number goes. */
export type NewWebhookEvent = {
  id?: string;
  tenantId: string;
  type: WebhookEventType;
  depositId?: string | null;
  orderNo?: string | null;
  data: Record<string, unknown>;
  now: number;
  /** Only to this endpoint, whatever it subscribes to (a test event). */
  onlyEndpointId?: string;
  /** To every subscribed endpoint but this one (`endpoint.disabled`). */
  exceptEndpointId?: string;
};

/** The `webhook-id` of an event: `msg_` and a time-ordered id. */
export const newWebhookEventId = (): string => `msg_${newId()}`;

type EventInput = {
  id: string;
  tenant_id: string;
  type: string;
  deposit_id: string | null;
  order_no: string | null;
  /** 1, 2, … among this batch's events of one order: added to the order's highest stored number. */
  k: number;
  data: string;
  created_at: number;
  only_endpoint: string | null;
  except_endpoint: string | null;
};
const EVENT_INPUT = tableColumns<EventInput>("v", {
  id: "text",
  tenant_id: "text",
  type: "text",
  deposit_id: "text",
  order_no: "text",
  k: "integer",
  data: "text",
  created_at: "bigint",
  only_endpoint: "text",
  except_endpoint: "text",
});

// The order's number: its highest stored one plus k. The order's row is locked (PostgreSQL) or
// the database has one writer (SQLite) in every transaction that writes its events, so no two
// take the same; the unique index webhook_events_deposit_seq would refuse it anyway.
const NEXT_SEQ = `CASE WHEN v.deposit_id IS NULL THEN NULL ELSE COALESCE((SELECT MAX(e.seq) FROM webhook_events e
  WHERE e.deposit_id = v.deposit_id), 0) + v.k END`;
const HAS_ENDPOINT = `EXISTS (SELECT 1 FROM webhook_endpoints p WHERE p.tenant_id = v.tenant_id AND p.deleted_at IS NULL)`;
const SUBSCRIBED = (wanted: string) => `p.tenant_id = v.tenant_id AND p.enabled = 1 AND p.deleted_at IS NULL
  AND (CASE WHEN v.only_endpoint IS NOT NULL THEN p.id = v.only_endpoint
    ELSE ${wanted} AND (v.except_endpoint IS NULL OR p.id <> v.except_endpoint) END)`;

/** A statement's text on one line (texts are compared and named by their exact text). */
const oneLine = (parts: TemplateStringsArray, ...values: string[]) =>
  String.raw({ raw: parts }, ...values)
    .replace(/\s+/g, " ")
    .trim();

/**
 * The two writes of `events`: the events, then their deliveries. `ofOrdersIn`: only the events
 * of orders in that table (`d`, the orders an insert returned: write-batch.ts `writeThen`).
 */
export function webhookEventWrites(
  db: Db,
  events: readonly NewWebhookEvent[],
  { ofOrdersIn }: { ofOrdersIn?: "d" } = {},
): BatchWrite[] {
  if (events.length === 0) return [];
  const perOrder = new Map<string, number>();
  const rows: EventInput[] = events.map((e) => {
    const depositId = e.depositId ?? null;
    const k = depositId === null ? 0 : (perOrder.get(depositId) ?? 0) + 1;
    if (depositId !== null) perOrder.set(depositId, k);
    return {
      id: e.id ?? newWebhookEventId(),
      tenant_id: e.tenantId,
      type: e.type,
      deposit_id: depositId,
      order_no: e.orderNo ?? null,
      k,
      data: JSON.stringify(e.data),
      created_at: e.now,
      only_endpoint: e.onlyEndpointId ?? null,
      except_endpoint: e.exceptEndpointId ?? null,
    };
  });
  const pg = dialectOf(db) === "postgres";
  /** Whether endpoint `p` wants events of type `t` (`*`, or `,t,` in its list). */
  const subscribes = (t: string) =>
    `(p.event_types = '*' OR ${pg ? "strpos" : "instr"}(p.event_types, ',' || ${t} || ',') > 0)`;
  const v = () => rowsAsTable(db, EVENT_INPUT, rows);
  // SQLite runs the writes one after the other: the deliveries read the number just stored.
  // PostgreSQL runs them as one statement, one snapshot: the same expression gives the same number.
  const deliverySeq = pg ? NEXT_SEQ : "(SELECT e.seq FROM webhook_events e WHERE e.id = v.id)";
  const ev = v();
  const dv = v();
  // The same rows again, as `w`: a delivery looks for an earlier event of its order in the batch.
  const earlier = v();
  // A delivery behind an earlier one of its order to the same endpoint (still pending, or earlier
  // in this batch) waits: no due time until the earlier one is done (delivery-repo.ts promotes
  // it), so the claim never scans deliveries it may not send yet.
  const due = `CASE WHEN v.deposit_id IS NOT NULL AND (EXISTS (SELECT 1 FROM webhook_deliveries x
      WHERE x.endpoint_id = p.id AND x.deposit_id = v.deposit_id AND x.status = 'pending')
    OR EXISTS (SELECT 1 FROM (SELECT * FROM ${earlier.sql}) AS w WHERE w.deposit_id = v.deposit_id AND w.k < v.k
      AND ${subscribes("w.type")})) THEN NULL ELSE v.created_at END`;
  const ofOrders = ofOrdersIn ? ` AND v.deposit_id IN (SELECT id FROM ${ofOrdersIn})` : "";
  return [
    {
      sql: oneLine`INSERT INTO webhook_events (id, tenant_id, type, deposit_id, order_no, seq, data, created_at)
        SELECT v.id, v.tenant_id, v.type, v.deposit_id, v.order_no, ${NEXT_SEQ}, v.data, v.created_at
        FROM ${ev.sql} WHERE ${HAS_ENDPOINT}${ofOrders}`,
      parameters: ev.parameters,
    },
    {
      sql: oneLine`INSERT INTO webhook_deliveries (id, tenant_id, event_id, endpoint_id, deposit_id, seq, status,
          attempts, due_at, created_at)
        SELECT v.id || ':' || p.id, v.tenant_id, v.id, p.id, v.deposit_id, ${deliverySeq}, 'pending', 0,
          ${due}, v.created_at
        FROM ${dv.sql} JOIN webhook_endpoints p ON ${SUBSCRIBED(subscribes("v.type"))}${ofOrders}`,
      parameters: [...earlier.parameters, ...dv.parameters],
    },
  ];
}

/**
 * Writes events in the caller's transaction (the one of the change they report). Returns their
 * ids, in order (an event of a tenant with no endpoint is not stored).
 */
export async function insertWebhookEvents(trx: Db, events: readonly NewWebhookEvent[]): Promise<string[]> {
  const withIds = events.map((e) => ({ ...e, id: e.id ?? newWebhookEventId() }));
  await runWrites(trx, webhookEventWrites(trx, withIds));
  return withIds.map((e) => e.id);
}
