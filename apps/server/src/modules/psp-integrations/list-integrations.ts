import type { AppContext } from "../../app-context.js";
import { NotFoundError } from "../../common/errors.js";
import { createIntegrationRepo } from "./integration-repo.js";
import type { IntegrationView } from "./integration-schemas.js";
import { integrationView } from "./integration-view.js";

type Ctx = Pick<AppContext, "db" | "clock" | "config">;

export async function listIntegrations(ctx: Ctx, tenantId: string): Promise<IntegrationView[]> {
  const now = ctx.clock.now();
  const rows = await createIntegrationRepo(ctx.db).list(tenantId);
  return rows.map((r) => integrationView(r, now, ctx.config.publicBaseUrl));
}

/** One integration of the tenant; another tenant's id answers 404 exactly like a missing one. */
export async function getIntegration(ctx: Ctx, tenantId: string, id: string): Promise<IntegrationView> {
  const row = await createIntegrationRepo(ctx.db).find(tenantId, id);
  if (!row) throw new NotFoundError("Integration");
  return integrationView(row, ctx.clock.now(), ctx.config.publicBaseUrl);
}
