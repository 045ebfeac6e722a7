import type { AppContext } from "../../app-context.js";
import { ConflictError, NotFoundError } from "../../common/errors.js";
import type { AdminActor } from "../../http/admin-actor.js";
import { writeTransaction } from "../../infra/db/database.js";
import { recordAudit } from "../audit/audit-repo.js";
import { createMethodRepo } from "./method-repo.js";
import { auditSnapshot } from "./method-view.js";

/**
 * Soft-deletes a method (deposits keep pointing at it for their history). Refused with
 * `method_in_use` while any of its deposits is pending or processing: their callbacks still
 * need the method. The method row is locked (PostgreSQL) for the check and the delete.
 */
export async function deleteMethod(
  ctx: Pick<AppContext, "db" | "clock">,
  actor: AdminActor,
  id: string,
): Promise<void> {
  await writeTransaction(ctx.db, async (trx) => {
    const repo = createMethodRepo(trx);
    const row = await repo.find(actor.tenantId, id, { forUpdate: true });
    if (!row) throw new NotFoundError("Deposit method");
    const open = await repo.countOpenDeposits(actor.tenantId, id);
    if (open > 0) {
      throw new ConflictError(
        `The method has ${open} deposit(s) pending or processing; disable it and delete it once they are final`,
        "method_in_use",
        { openDeposits: open },
      );
    }
    const now = ctx.clock.now();
    await repo.update(actor.tenantId, id, { deleted_at: now, updated_at: now });
    await recordAudit(
      trx,
      {
        tenantId: actor.tenantId,
        actor: actor.audit,
        action: "deposit_method.delete",
        targetType: "deposit_method",
        targetId: id,
        before: auditSnapshot(row),
        ip: actor.ip,
      },
      now,
    );
  });
}
