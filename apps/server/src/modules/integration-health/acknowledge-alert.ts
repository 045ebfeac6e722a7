import type { AppContext } from "../../app-context.js";
import { NotFoundError } from "../../common/errors.js";
import type { StaffActor } from "../../http/access.js";
import { writeTransaction } from "../../infra/db/database.js";
import { auditActorOf, recordAudit } from "../audit/audit-repo.js";
import { type Alert, alertView } from "./alert-repo.js";

/**
 * An admin has seen the alert. Acknowledging does not resolve it (only its rule does); a second
 * acknowledgement keeps the first one's name and time. Audited.
 */
export async function acknowledgeAlert(
  ctx: Pick<AppContext, "db" | "clock">,
  staff: StaffActor,
  id: string,
  ip: string | null,
): Promise<Alert> {
  const now = ctx.clock.now();
  return writeTransaction(ctx.db, async (trx) => {
    const changed = await trx
      .updateTable("alerts")
      .set({ acknowledged_by: staff.id, acknowledged_at: now })
      .where("id", "=", id)
      .where("tenant_id", "=", staff.tenantId)
      .where("acknowledged_at", "is", null)
      .executeTakeFirst();
    const row = await trx
      .selectFrom("alerts")
      .selectAll()
      .where("id", "=", id)
      .where("tenant_id", "=", staff.tenantId)
      .executeTakeFirst();
    if (!row) throw new NotFoundError("Alert");
    if (Number(changed.numUpdatedRows) > 0) {
      await recordAudit(
        trx,
        {
          tenantId: staff.tenantId,
          actor: auditActorOf(staff),
          action: "alert.acknowledge",
          targetType: "alert",
          targetId: id,
          after: { kind: row.kind, integrationId: row.integration_id, status: row.status },
          ip,
        },
        now,
      );
    }
    return alertView(row);
  });
}
