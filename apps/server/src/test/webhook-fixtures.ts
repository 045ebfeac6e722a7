import { newWebhookSecret } from "@psphub/protocol";
import type { AppContext } from "../app-context.js";
import { newId } from "../common/ids.js";
import { eventTypesColumn } from "../modules/webhooks/webhook-event-types.js";

/**
 * A webhook endpoint stored directly (the admin API has its own tests): enabled, subscribed to
 * `eventTypes` (every type by default). Returns its id and its secret.
 */
export async function seedWebhookEndpoint(
  ctx: Pick<AppContext, "db" | "secretBox" | "clock">,
  tenantId: string,
  o: { url: string; eventTypes?: string[]; secret?: string },
): Promise<{ endpointId: string; secret: string }> {
  const secret = o.secret ?? newWebhookSecret();
  const id = newId();
  const now = ctx.clock.now();
  await ctx.db
    .insertInto("webhook_endpoints")
    .values({
      id,
      tenant_id: tenantId,
      url: o.url,
      description: "",
      event_types: eventTypesColumn(o.eventTypes ?? ["*"]),
      enabled: 1,
      disabled_reason: null,
      disabled_at: null,
      secret_enc: ctx.secretBox.seal(secret),
      previous_secret_enc: null,
      previous_expires_at: null,
      failing_since: null,
      last_success_at: null,
      created_at: now,
      updated_at: now,
      deleted_at: null,
    })
    .execute();
  return { endpointId: id, secret };
}

/** A tenant's stored webhook events, oldest first: type, order and number, and the data. */
export async function storedWebhookEvents(ctx: Pick<AppContext, "db">, tenantId: string) {
  const rows = await ctx.db
    .selectFrom("webhook_events")
    .selectAll()
    .where("tenant_id", "=", tenantId)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
  return rows.map((r) => ({
    id: r.id,
    type: r.type,
    depositId: r.deposit_id,
    seq: r.seq === null ? null : Number(r.seq),
    data: JSON.parse(r.data) as Record<string, unknown>,
  }));
}
