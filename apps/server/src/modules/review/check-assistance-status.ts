import { ConflictError, NotFoundError } from "../../common/errors.js";
import type { StaffActor } from "../../http/access.js";
import { writeTransaction } from "../../infra/db/database.js";
import { auditActorOf, recordAudit } from "../audit/audit-repo.js";
import { type QueryNowResult, queryStatusNow, type StatusQueryDeps } from "../status-query/query-status.js";
import { findReviewItem, type ReviewItemView } from "./review-repo.js";

export type CheckStatusResult = { item: ReviewItemView; query: QueryNowResult };

/**
 * "Check status now" on a needs-assistance item: one API-3 query of its order at once
 * (query-status.ts, outside any transaction), its answer applied as a callback's would be. An
 * order the answer made final closes the item (`settled`; the settlement already does so for
 * succeeded and failed, this only makes sure). Audited; the query is on the order's timeline.
 */
export async function checkAssistanceStatus(
  ctx: StatusQueryDeps,
  actor: StaffActor,
  itemId: string,
  ip: string | null = null,
): Promise<CheckStatusResult> {
  const before = await findReviewItem(ctx.db, actor.tenantId, itemId);
  if (before?.reason !== "needs_assistance") throw new NotFoundError("Needs-assistance item");
  if (before.status !== "open") throw new ConflictError("This review item is already resolved");
  const query = await queryStatusNow(ctx, { tenantId: actor.tenantId, depositId: before.deposit.id });
  const final = query.depositStatus === "succeeded" || query.depositStatus === "failed";
  await writeTransaction(ctx.db, async (trx) => {
    const now = ctx.clock.now();
    if (final) {
      await trx
        .updateTable("review_items")
        .set({ status: "resolved", resolution: "settled", resolved_by: null, resolved_at: now })
        .where("id", "=", itemId)
        .where("tenant_id", "=", actor.tenantId)
        .where("status", "=", "open")
        .execute();
    }
    await recordAudit(
      trx,
      {
        tenantId: actor.tenantId,
        actor: auditActorOf(actor),
        action: "review.check_status",
        targetType: "review_item",
        targetId: itemId,
        before: { depositId: before.deposit.id, depositStatus: before.deposit.status },
        after: query,
        ip,
      },
      now,
    );
  });
  const item = await findReviewItem(ctx.db, actor.tenantId, itemId);
  if (!item) throw new NotFoundError("Review item");
  return { item, query };
}
