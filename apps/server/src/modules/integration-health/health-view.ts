import type { AppContext } from "../../app-context.js";
import { NotFoundError } from "../../common/errors.js";
import { createIntegrationRepo } from "../psp-integrations/integration-repo.js";
import { listAlerts } from "./alert-repo.js";
import { healthOf } from "./health-figures.js";

/** One integration's windows, pending-beyond-TTL count and open alerts; 404 if not the tenant's. */
export async function integrationHealth(ctx: Pick<AppContext, "db" | "clock">, tenantId: string, id: string) {
  const integ = await createIntegrationRepo(ctx.db).find(tenantId, id);
  if (!integ) throw new NotFoundError("Integration");
  const now = ctx.clock.now();
  const of = await healthOf(ctx.db, tenantId, now, id);
  const alerts = await listAlerts(ctx.db, tenantId, {
    status: "open",
    integrationId: id,
    limit: 50,
    offset: 0,
  });
  return { integrationId: id, asOf: now, ...of(id), openAlerts: alerts.items };
}

/** Every integration of the tenant, compact: for the dashboard's health tiles. */
export async function tenantHealth(ctx: Pick<AppContext, "db" | "clock">, tenantId: string) {
  const now = ctx.clock.now();
  const integrations = await createIntegrationRepo(ctx.db).list(tenantId);
  const of = await healthOf(ctx.db, tenantId, now);
  const open = await ctx.db
    .selectFrom("alerts")
    .select(["integration_id", (eb) => eb.fn.countAll<number>().as("n")])
    .where("tenant_id", "=", tenantId)
    .where("status", "=", "open")
    .groupBy("integration_id")
    .execute();
  const openBy = new Map(open.map((o) => [o.integration_id, Number(o.n)]));
  const out = [];
  for (const i of integrations) {
    // One indexed lookup each (callback_logs_integration: integration_id, created_at).
    const last = await ctx.db
      .selectFrom("callback_logs")
      .select("created_at")
      .where("integration_id", "=", i.id)
      .orderBy("created_at", "desc")
      .limit(1)
      .executeTakeFirst();
    out.push({
      id: i.id,
      name: i.name,
      enabled: i.enabled === 1,
      ...of(i.id),
      lastCallbackAt: last ? Number(last.created_at) : null,
      openAlerts: openBy.get(i.id) ?? 0,
    });
  }
  return { asOf: now, integrations: out };
}
