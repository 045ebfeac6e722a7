import { newWebhookSecret } from "@psphub/protocol";
import type { AppContext } from "../../app-context.js";
import { ConflictError, NotFoundError, ValidationError } from "../../common/errors.js";
import { newId } from "../../common/ids.js";
import { parseInput } from "../../common/validation.js";
import type { AdminActor } from "../../http/admin-actor.js";
import { writeTransaction } from "../../infra/db/database.js";
import { recordAudit } from "../audit/audit-repo.js";
import { resolveAlertIn } from "../integration-health/alert-repo.js";
import { checkedAppUrl } from "../psp-integrations/app-url.js";
import { parkDeliveries, promoteWaiting } from "./delivery-repo.js";
import { type EndpointRow, endpointViews, findEndpoint, newEndpointRow } from "./endpoint-repo.js";
import {
  type CreateEndpointInput,
  createEndpointInput,
  type EndpointView,
  enableInput,
  type ReplayView,
  rotateInput,
  type UpdateEndpointInput,
  updateEndpointInput,
} from "./endpoint-schemas.js";
import { insertWebhookEvents } from "./outbox-repo.js";
import { createReplayIn } from "./replay-tasks.js";
import { eventTypesColumn, eventTypesOf } from "./webhook-event-types.js";

/**
 * The use-cases of webhook endpoints (docs/webhooks.md#endpoints): each change in one
 * transaction with its audit row. A secret is generated here, shown in the one answer that
 * created it, stored sealed, and never written to the audit log.
 */

type Ctx = Pick<AppContext, "db" | "clock" | "config" | "secretBox">;

/** What an audit row keeps of an endpoint: never a secret, sealed or not. */
const auditSnapshot = (r: Pick<EndpointRow, "url" | "description" | "event_types" | "enabled">) => ({
  url: r.url,
  description: r.description,
  eventTypes: eventTypesOf(r.event_types),
  enabled: Number(r.enabled) === 1,
});

/** Save-time URL check, the same as APP_URL's (https; private addresses only when allowed). */
async function checkedUrl(ctx: Ctx, text: string): Promise<string> {
  const r = await checkedAppUrl(ctx, text);
  if (!r.ok)
    throw new ValidationError("The input is invalid", [
      { path: "url", message: r.issue.message.replace("APP_URL", "URL") },
    ]);
  return r.appUrl;
}

async function mustFind(ctx: Ctx, tenantId: string, id: string): Promise<EndpointRow> {
  const r = await findEndpoint(ctx.db, tenantId, id);
  if (!r) throw new NotFoundError("Webhook endpoint");
  return r;
}

export async function listEndpoints(ctx: Ctx, tenantId: string): Promise<EndpointView[]> {
  const rows = await ctx.db
    .selectFrom("webhook_endpoints")
    .selectAll()
    .where("tenant_id", "=", tenantId)
    .where("deleted_at", "is", null)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
  return endpointViews(ctx.db, tenantId, rows, ctx.clock.now());
}

export async function getEndpoint(ctx: Ctx, tenantId: string, id: string): Promise<EndpointView> {
  const [view] = await endpointViews(ctx.db, tenantId, [await mustFind(ctx, tenantId, id)], ctx.clock.now());
  return view as EndpointView;
}

export async function createEndpoint(
  ctx: Ctx,
  actor: AdminActor,
  input: CreateEndpointInput,
): Promise<{ endpoint: EndpointView; secret: string }> {
  const data = parseInput(createEndpointInput, input);
  const url = await checkedUrl(ctx, data.url);
  const secret = newWebhookSecret();
  const now = ctx.clock.now();
  const row = newEndpointRow({
    id: newId(),
    tenantId: actor.tenantId,
    url,
    description: data.description,
    eventTypes: data.eventTypes,
    enabled: data.enabled,
    secretEnc: ctx.secretBox.seal(secret),
    now,
  });

  await writeTransaction(ctx.db, async (trx) => {
    await trx.insertInto("webhook_endpoints").values(row).execute();
    await recordAudit(
      trx,
      { ...audit(actor, "webhook_endpoint.create", row.id), after: auditSnapshot(row) },
      now,
    );
  });
  return { endpoint: await getEndpoint(ctx, actor.tenantId, row.id), secret };
}

const audit = (actor: AdminActor, action: string, id: string) => ({
  tenantId: actor.tenantId,
  actor: actor.audit,
  action,
  targetType: "webhook_endpoint",
  targetId: id,
  ip: actor.ip,
});

export async function updateEndpoint(
  ctx: Ctx,
  actor: AdminActor,
  id: string,
  input: UpdateEndpointInput,
): Promise<EndpointView> {
  const data = parseInput(updateEndpointInput, input);
  const before = await mustFind(ctx, actor.tenantId, id);
  const url = data.url === undefined ? before.url : await checkedUrl(ctx, data.url);
  const after = {
    ...before,
    url,
    description: data.description ?? before.description,
    event_types: data.eventTypes === undefined ? before.event_types : eventTypesColumn(data.eventTypes),
  };
  const now = ctx.clock.now();
  await writeTransaction(ctx.db, async (trx) => {
    await trx
      .updateTable("webhook_endpoints")
      .set({
        url: after.url,
        description: after.description,
        event_types: after.event_types,
        updated_at: now,
      })
      .where("tenant_id", "=", actor.tenantId)
      .where("id", "=", id)
      .execute();
    await recordAudit(
      trx,
      {
        ...audit(actor, "webhook_endpoint.update", id),
        before: auditSnapshot(before),
        after: auditSnapshot(after),
      },
      now,
    );
  });
  return getEndpoint(ctx, actor.tenantId, id);
}

/** Soft delete: the delivery log keeps its endpoint; pending deliveries are given up. */
export async function deleteEndpoint(ctx: Ctx, actor: AdminActor, id: string): Promise<void> {
  const before = await mustFind(ctx, actor.tenantId, id);
  const now = ctx.clock.now();
  await writeTransaction(ctx.db, async (trx) => {
    await trx
      .updateTable("webhook_endpoints")
      .set({ deleted_at: now, enabled: 0, updated_at: now })
      .where("tenant_id", "=", actor.tenantId)
      .where("id", "=", id)
      .execute();
    await trx
      .updateTable("webhook_deliveries")
      .set({ status: "failed", due_at: null, last_error: "endpoint deleted" })
      .where("endpoint_id", "=", id)
      .where("status", "=", "pending")
      .execute();
    await resolveAlertIn(trx, id, "webhook_failing", now);
    await resolveAlertIn(trx, id, "webhook_disabled", now);
    await recordAudit(
      trx,
      { ...audit(actor, "webhook_endpoint.delete", id), before: auditSnapshot(before) },
      now,
    );
  });
}

export async function disableEndpoint(ctx: Ctx, actor: AdminActor, id: string): Promise<EndpointView> {
  const before = await mustFind(ctx, actor.tenantId, id);
  const now = ctx.clock.now();
  if (Number(before.enabled) === 1)
    await writeTransaction(ctx.db, async (trx) => {
      await trx
        .updateTable("webhook_endpoints")
        .set({ enabled: 0, disabled_reason: "manual", disabled_at: now, updated_at: now })
        .where("tenant_id", "=", actor.tenantId)
        .where("id", "=", id)
        .execute();
      await parkDeliveries(trx, id);
      await recordAudit(
        trx,
        {
          ...audit(actor, "webhook_endpoint.disable", id),
          before: auditSnapshot(before),
          after: { enabled: false },
        },
        now,
      );
    });
  return getEndpoint(ctx, actor.tenantId, id);
}

/**
 * Enables an endpoint; its waiting deliveries resume. With `recover`, every event since it began
 * failing (or was disabled) is queued for it again by a background replay (replay-tasks.ts).
 */
export async function enableEndpoint(
  ctx: Ctx,
  actor: AdminActor,
  id: string,
  input: { recover?: boolean },
): Promise<{ endpoint: EndpointView; replay: ReplayView | null }> {
  const { recover } = parseInput(enableInput, input);
  const before = await mustFind(ctx, actor.tenantId, id);
  const now = ctx.clock.now();
  const since = [before.failing_since, before.disabled_at].filter((x): x is number => x !== null).map(Number);
  const replay = await writeTransaction(ctx.db, async (trx) => {
    await trx
      .updateTable("webhook_endpoints")
      .set({ enabled: 1, disabled_reason: null, disabled_at: null, failing_since: null, updated_at: now })
      .where("tenant_id", "=", actor.tenantId)
      .where("id", "=", id)
      .execute();
    await resolveAlertIn(trx, id, "webhook_disabled", now);
    await promoteWaiting(trx, now, id);
    await recordAudit(
      trx,
      {
        ...audit(actor, "webhook_endpoint.enable", id),
        before: auditSnapshot(before),
        after: { enabled: true, recover },
      },
      now,
    );
    if (!recover || since.length === 0) return null;
    return createReplayIn(
      trx,
      actor,
      id,
      { kind: "recover", from: Math.min(...since) - 1, to: now, onlyFailed: true },
      now,
    );
  });
  return { endpoint: await getEndpoint(ctx, actor.tenantId, id), replay };
}

/**
 * A new secret; the previous one keeps signing beside it for `overlapHours` (0: it stops now),
 * so receivers can switch without losing a delivery.
 */
export async function rotateEndpointSecret(
  ctx: Ctx,
  actor: AdminActor,
  id: string,
  input: { overlapHours?: number },
): Promise<{ secret: string; previousExpiresAt: number | null }> {
  const { overlapHours } = parseInput(rotateInput, input);
  const before = await mustFind(ctx, actor.tenantId, id);
  const secret = newWebhookSecret();
  const now = ctx.clock.now();
  const previousExpiresAt = overlapHours === 0 ? null : now + overlapHours * 3600_000;
  await writeTransaction(ctx.db, async (trx) => {
    await trx
      .updateTable("webhook_endpoints")
      .set({
        secret_enc: ctx.secretBox.seal(secret),
        previous_secret_enc: previousExpiresAt === null ? null : before.secret_enc,
        previous_expires_at: previousExpiresAt,
        updated_at: now,
      })
      .where("tenant_id", "=", actor.tenantId)
      .where("id", "=", id)
      .execute();
    await recordAudit(trx, { ...audit(actor, "webhook_endpoint.rotate", id), after: { overlapHours } }, now);
  });
  return { secret, previousExpiresAt };
}

/** A `webhook.test` event to this endpoint only. */
export async function sendTestEvent(ctx: Ctx, actor: AdminActor, id: string): Promise<{ eventId: string }> {
  const ep = await mustFind(ctx, actor.tenantId, id);
  if (Number(ep.enabled) !== 1)
    throw new ConflictError(
      "The endpoint is disabled: enable it to send a test event",
      "webhook_endpoint_disabled",
    );
  const now = ctx.clock.now();
  const [eventId] = await writeTransaction(ctx.db, async (trx) => {
    const ids = await insertWebhookEvents(trx, [
      {
        tenantId: actor.tenantId,
        type: "webhook.test",
        data: { endpointId: id, message: "This is a test event from psphub." },
        now,
        onlyEndpointId: id,
      },
    ]);
    await recordAudit(trx, { ...audit(actor, "webhook_endpoint.test", id), after: { eventId: ids[0] } }, now);
    return ids;
  });
  return { eventId: eventId as string };
}
