import type { AppContext } from "../app-context.js";
import type { AssistanceClaim } from "../modules/review/review-repo.js";

/**
 * A needs-assistance review item for a deposit, as the status-query schedule flags an order it
 * left unresolved (for tests of what people do with one).
 */
export async function insertAssistanceItem(
  ctx: Pick<AppContext, "db">,
  item: { id: string; tenantId: string; depositId: string; now: number; claim?: Partial<AssistanceClaim> },
): Promise<void> {
  const claim: AssistanceClaim = {
    why: "still_open",
    queries: 8,
    lastOutcome: "processing",
    depositStatus: "processing",
    ...item.claim,
  };
  await ctx.db
    .insertInto("review_items")
    .values({
      id: item.id,
      tenant_id: item.tenantId,
      deposit_id: item.depositId,
      callback_log_id: null,
      reason: "needs_assistance",
      dedupe_key: `${item.depositId}:needs_assistance`,
      status: "open",
      resolution: null,
      resolved_by: null,
      comment: null,
      data: JSON.stringify(claim),
      created_at: item.now,
      resolved_at: null,
      approval_requested_by: null,
      approval_requested_at: null,
      approval_comment: null,
    })
    .execute();
}
