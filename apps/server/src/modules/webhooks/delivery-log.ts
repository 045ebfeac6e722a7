import type { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { NotFoundError } from "../../common/errors.js";
import type { AdminActor } from "../../http/admin-actor.js";
import { type Db, writeTransaction } from "../../infra/db/database.js";
import { recordAudit } from "../audit/audit-repo.js";
import { attemptsWithType, findEndpoint } from "./endpoint-repo.js";
import type { AttemptView, DeliveryView, DepositWebhookView, deliveriesQuery } from "./endpoint-schemas.js";
import { holdRequeued } from "./replay-tasks.js";
import { webhookBody } from "./webhook-body.js";

/** The delivery log of an endpoint: its deliveries, one with its body and attempts, replay of one. */

const num = (v: number | null) => (v === null ? null : Number(v));

function deliveries(db: Db, tenantId: string) {
  return db
    .selectFrom("webhook_deliveries as d")
    .innerJoin("webhook_events as e", "e.id", "d.event_id")
    .where("d.tenant_id", "=", tenantId);
}

type DeliveryRow = {
  id: string;
  event_id: string;
  endpoint_id: string;
  type: string;
  order_no: string | null;
  seq: number | null;
  status: DeliveryView["status"];
  attempts: number;
  due_at: number | null;
  last_attempt_at: number | null;
  last_http_status: number | null;
  last_error: string | null;
  delivered_at: number | null;
  created_at: number;
};
const COLUMNS = [
  "d.id",
  "d.event_id",
  "d.endpoint_id",
  "e.type",
  "e.order_no",
  "e.seq",
  "d.status",
  "d.attempts",
  "d.due_at",
  "d.last_attempt_at",
  "d.last_http_status",
  "d.last_error",
  "d.delivered_at",
  "d.created_at",
] as const;

const deliveryView = (r: DeliveryRow): DeliveryView => ({
  id: r.id,
  eventId: r.event_id,
  endpointId: r.endpoint_id,
  type: r.type,
  orderNo: r.order_no,
  sequence: num(r.seq),
  status: r.status,
  attempts: Number(r.attempts),
  nextAttemptAt: r.status === "pending" ? num(r.due_at) : null,
  lastAttemptAt: num(r.last_attempt_at),
  lastHttpStatus: num(r.last_http_status),
  lastError: r.last_error,
  deliveredAt: num(r.delivered_at),
  createdAt: Number(r.created_at),
});

async function mustHaveEndpoint(db: Db, tenantId: string, endpointId: string): Promise<void> {
  if (!(await findEndpoint(db, tenantId, endpointId))) throw new NotFoundError("Webhook endpoint");
}

export async function listDeliveries(
  db: Db,
  tenantId: string,
  endpointId: string,
  q: z.infer<typeof deliveriesQuery>,
): Promise<{ items: DeliveryView[]; total: number }> {
  await mustHaveEndpoint(db, tenantId, endpointId);
  let base = deliveries(db, tenantId).where("d.endpoint_id", "=", endpointId);
  if (q.type) base = base.where("e.type", "=", q.type);
  if (q.status) base = base.where("d.status", "=", q.status);
  if (q.orderNo) base = base.where("e.order_no", "=", q.orderNo);
  const rows = await base
    .select(COLUMNS)
    .orderBy("d.created_at", "desc")
    .orderBy("d.id", "desc")
    .limit(q.limit)
    .offset(q.offset)
    .execute();
  const { n } = await base.select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
  return { items: rows.map((r) => deliveryView(r as DeliveryRow)), total: Number(n) };
}

export async function getDelivery(
  db: Db,
  tenantId: string,
  endpointId: string,
  eventId: string,
): Promise<{ delivery: DeliveryView; body: string; attempts: AttemptView[] }> {
  const r = await deliveries(db, tenantId)
    .where("d.endpoint_id", "=", endpointId)
    .where("d.event_id", "=", eventId)
    .select([...COLUMNS, "e.data", "e.created_at as event_created_at"])
    .executeTakeFirst();
  if (!r) throw new NotFoundError("Webhook delivery");
  return {
    delivery: deliveryView(r as DeliveryRow),
    body: webhookBody({ type: r.type, data: r.data, seq: r.seq, created_at: Number(r.event_created_at) }),
    attempts: await attemptsWithType(db, tenantId, { endpointId, deliveryId: r.id }, 100),
  };
}

/**
 * Requeues one delivery: pending, due now, attempts from 0 (the log keeps the earlier ones); it
 * waits instead while its endpoint is disabled or an earlier event of its order is pending there.
 */
export async function replayDelivery(
  ctx: Pick<AppContext, "db" | "clock">,
  actor: AdminActor,
  endpointId: string,
  eventId: string,
): Promise<DeliveryView> {
  const now = ctx.clock.now();
  await writeTransaction(ctx.db, async (trx) => {
    const r = await trx
      .updateTable("webhook_deliveries")
      .set({ status: "pending", attempts: 0, due_at: now, delivered_at: null })
      .where("tenant_id", "=", actor.tenantId)
      .where("endpoint_id", "=", endpointId)
      .where("event_id", "=", eventId)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) throw new NotFoundError("Webhook delivery");
    await holdRequeued(trx, endpointId, [`${eventId}:${endpointId}`]);
    await recordAudit(
      trx,
      {
        tenantId: actor.tenantId,
        actor: actor.audit,
        action: "webhook_delivery.replay",
        targetType: "webhook_endpoint",
        targetId: endpointId,
        after: { eventId },
        ip: actor.ip,
      },
      now,
    );
  });
  return (await getDelivery(ctx.db, actor.tenantId, endpointId, eventId)).delivery;
}

/** The webhook deliveries of one deposit's events, for its timeline. */
export async function depositWebhooks(
  db: Db,
  tenantId: string,
  depositId: string,
): Promise<DepositWebhookView[]> {
  const rows = await deliveries(db, tenantId)
    .innerJoin("webhook_endpoints as p", "p.id", "d.endpoint_id")
    .where("e.deposit_id", "=", depositId)
    .select([...COLUMNS, "p.url", "e.created_at as event_created_at"])
    .orderBy("e.seq")
    .orderBy("p.created_at")
    .execute();
  return rows.map((r) => {
    const v = deliveryView(r as DeliveryRow);
    return {
      eventId: v.eventId,
      type: v.type,
      sequence: v.sequence,
      createdAt: Number(r.event_created_at),
      endpointId: v.endpointId,
      endpointUrl: r.url,
      status: v.status,
      attempts: v.attempts,
      lastHttpStatus: v.lastHttpStatus,
      deliveredAt: v.deliveredAt,
      nextAttemptAt: v.nextAttemptAt,
    };
  });
}
