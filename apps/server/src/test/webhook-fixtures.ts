import { newWebhookSecret } from "@psphub/protocol";
import type { AppContext } from "../app-context.js";
import { newId } from "../common/ids.js";
import { newEndpointRow } from "../modules/webhooks/endpoint-repo.js";

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
    .values(
      newEndpointRow({
        id,
        tenantId,
        url: o.url,
        description: "",
        eventTypes: o.eventTypes ?? ["*"],
        enabled: true,
        secretEnc: ctx.secretBox.seal(secret),
        now,
      }),
    )
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
