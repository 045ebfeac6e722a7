import type { AppContext } from "../../app-context.js";
import { NotFoundError } from "../../common/errors.js";
import { createIntegrationRepo } from "../psp-integrations/integration-repo.js";
import { createMethodRepo } from "./method-repo.js";
import type { MethodView } from "./method-schemas.js";
import { methodView } from "./method-view.js";

/** The tenant's methods in display order, each with the fields its integration defines now. */
export async function listMethods(ctx: Pick<AppContext, "db">, tenantId: string): Promise<MethodView[]> {
  const rows = await createMethodRepo(ctx.db).list(tenantId);
  const integrations = new Map((await createIntegrationRepo(ctx.db).list(tenantId)).map((i) => [i.id, i]));
  return rows.flatMap((row) => {
    const integration = integrations.get(row.integration_id);
    return integration ? [methodView(row, integration)] : [];
  });
}

/** One method; another tenant's id or a deleted method answers 404 exactly like a missing one. */
export async function getMethod(
  ctx: Pick<AppContext, "db">,
  tenantId: string,
  id: string,
): Promise<MethodView> {
  const row = await createMethodRepo(ctx.db).find(tenantId, id);
  const integration = row && (await createIntegrationRepo(ctx.db).find(tenantId, row.integration_id));
  if (!row || !integration) throw new NotFoundError("Deposit method");
  return methodView(row, integration);
}
