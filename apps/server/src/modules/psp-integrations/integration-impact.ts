import type { AppContext } from "../../app-context.js";
import { NotFoundError } from "../../common/errors.js";
import { createIntegrationRepo } from "./integration-repo.js";

export type IntegrationImpact = {
  /** Enabled, not deleted deposit methods on the integration: clients stop seeing them. */
  depositMethods: number;
  /** Open orders (pending, processing) through it: their callbacks are refused while it is off. */
  pendingOrders: number;
};

/**
 * What disabling an integration affects, for the back office to say before it asks
 * (docs/psp-open-api.md#psp-settings). Another tenant's id answers 404 like a missing one.
 */
export async function integrationImpact(
  ctx: Pick<AppContext, "db">,
  tenantId: string,
  id: string,
): Promise<IntegrationImpact> {
  const row = await createIntegrationRepo(ctx.db).find(tenantId, id);
  if (!row) throw new NotFoundError("Integration");
  const methods = await ctx.db
    .selectFrom("deposit_methods")
    .select((eb) => eb.fn.countAll<string | number>().as("n"))
    .where("tenant_id", "=", tenantId)
    .where("integration_id", "=", id)
    .where("enabled", "=", 1)
    .where("deleted_at", "is", null)
    .executeTakeFirstOrThrow();
  const orders = await ctx.db
    .selectFrom("deposits")
    .select((eb) => eb.fn.countAll<string | number>().as("n"))
    .where("tenant_id", "=", tenantId)
    .where("integration_id", "=", id)
    .where("status", "in", ["pending", "processing"])
    .executeTakeFirstOrThrow();
  return { depositMethods: Number(methods.n), pendingOrders: Number(orders.n) };
}
