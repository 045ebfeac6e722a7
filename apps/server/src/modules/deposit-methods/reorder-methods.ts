import type { AppContext } from "../../app-context.js";
import { ValidationError } from "../../common/errors.js";
import { parseInput } from "../../common/validation.js";
import type { AdminActor } from "../../http/admin-actor.js";
import { writeTransaction } from "../../infra/db/database.js";
import { recordAudit } from "../audit/audit-repo.js";
import { createIntegrationRepo } from "../psp-integrations/integration-repo.js";
import { createMethodRepo } from "./method-repo.js";
import { type MethodView, reorderInput } from "./method-schemas.js";
import { methodView } from "./method-view.js";

/**
 * Sets the display order: `ids` must be exactly the tenant's (not deleted) methods, each once,
 * in the new order. Answers the methods in that order.
 */
export async function reorderMethods(
  ctx: Pick<AppContext, "db" | "clock">,
  actor: AdminActor,
  input: { ids: string[] },
): Promise<MethodView[]> {
  const { ids } = parseInput(reorderInput, input);
  return writeTransaction(ctx.db, async (trx) => {
    const repo = createMethodRepo(trx);
    const rows = await repo.list(actor.tenantId);
    const known = new Set(rows.map((r) => r.id));
    const given = new Set(ids);
    if (given.size !== ids.length || ids.length !== rows.length || ids.some((id) => !known.has(id))) {
      throw new ValidationError("The order must list every deposit method exactly once", [
        { path: "ids", message: "must be a permutation of the ids of all deposit methods" },
      ]);
    }
    const now = ctx.clock.now();
    const byId = new Map(rows.map((r) => [r.id, r]));
    const before = rows.map((r) => r.id);
    const changed = ids.some((id, index) => byId.get(id)!.sort_order !== index);
    for (const [index, id] of ids.entries()) {
      const row = byId.get(id)!;
      if (row.sort_order !== index) {
        await repo.update(actor.tenantId, id, { sort_order: index, updated_at: now });
        byId.set(id, { ...row, sort_order: index, updated_at: now });
      }
    }
    if (changed) {
      await recordAudit(
        trx,
        {
          tenantId: actor.tenantId,
          actor: actor.audit,
          action: "deposit_method.reorder",
          targetType: "deposit_method",
          targetId: null,
          before: { order: before },
          after: { order: ids },
          ip: actor.ip,
        },
        now,
      );
    }
    const integrations = new Map(
      (await createIntegrationRepo(trx).list(actor.tenantId)).map((i) => [i.id, i]),
    );
    return ids.map((id) => {
      const row = byId.get(id)!;
      return methodView(row, integrations.get(row.integration_id)!);
    });
  });
}
