import { formatAmount } from "@psphub/protocol";
import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { ConflictError, NotFoundError } from "../../common/errors.js";
import { parseInput } from "../../common/validation.js";
import type { StaffActor } from "../../http/access.js";
import { decodeJson, isLedgerCreditViolation } from "../../infra/db/database.js";
import { recordAudit } from "../audit/audit-repo.js";
import { insertDepositEvent } from "../deposits/deposit-repo.js";
import { LATE_CREDIT_SOURCES } from "../deposits/deposit-state.js";
import { creditForPaid, orderAmounts } from "../deposits/paid-credit.js";
import { settleResult } from "../settlement/settle.js";
import { transactionRetryingRaces } from "../settlement/settlement-store.js";
import { findReviewItem, type ReviewClaim, type ReviewItemView } from "./review-repo.js";

export const resolveReviewInput = z.object({
  action: z.enum(["credit", "dismiss"]),
  comment: z.string().trim().min(1).max(500),
});
export type ResolveReviewInput = z.infer<typeof resolveReviewInput>;

/**
 * An admin resolves a review item, once (a second resolution is a 409):
 * - `credit` credits the success the callback reported, through the settlement (settle.ts):
 *   the paid amount less the fee the order's stored rule gives on it (paid-credit.ts),
 *   also from expired/cancelled/failed (the human exception of `canResolveLate`). The ledger's
 *   unique index still allows one credit per deposit, so an already credited deposit is a 409;
 * - `dismiss` only closes the item.
 * The item, the deposit, the ledger, the timeline and the audit record change in one transaction.
 */
export async function resolveReviewItem(
  ctx: Pick<AppContext, "db" | "clock" | "metrics">,
  actor: StaffActor,
  itemId: string,
  raw: ResolveReviewInput,
  ip: string | null = null,
): Promise<{ item: ReviewItemView; ledgerEntryId: string | null }> {
  const input = parseInput(resolveReviewInput, raw);
  const tenantId = actor.tenantId;
  let ledgerEntryId: string | null = null;
  // What a credit decided (decimal text), for the audit record.
  let figures: Record<string, string> = {};
  try {
    // Run again, claim and audit record and all, when a first credit raced another wallet creation.
    await transactionRetryingRaces(ctx, async (trx) => {
      ledgerEntryId = null;
      figures = {};
      const item = await trx
        .selectFrom("review_items as r")
        .innerJoin("deposits as d", (j) =>
          j.onRef("d.id", "=", "r.deposit_id").onRef("d.tenant_id", "=", "r.tenant_id"),
        )
        .select([
          "r.id",
          "r.deposit_id",
          "r.reason",
          "r.status",
          "r.data",
          "d.decimals",
          "d.amount_minor",
          "d.fee_minor",
          "d.fee_rule_bps",
          "d.fee_rule_fixed_minor",
          "d.fee_rule_max_minor",
          "d.account_decimals",
          "d.fx_rate",
          "d.fx_markup_bps",
        ])
        .where("r.id", "=", itemId)
        .where("r.tenant_id", "=", tenantId)
        .executeTakeFirst();
      if (!item) throw new NotFoundError("Review item");
      // No callback claimed a payment: a needs-assistance credit goes through its own action (four eyes).
      if (item.reason === "needs_assistance" && input.action === "credit") {
        throw new ConflictError(
          "Credit a needs-assistance item with its credit action",
          "needs_assistance_action",
        );
      }
      const now = ctx.clock.now();
      // Claim the item first: of two admins resolving at once, one wins, the other gets 409.
      const claimed = await trx
        .updateTable("review_items")
        .set({
          status: "resolved",
          resolution: input.action,
          resolved_by: actor.id,
          comment: input.comment,
          resolved_at: now,
        })
        .where("id", "=", item.id)
        .where("tenant_id", "=", tenantId)
        .where("status", "=", "open")
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) === 0)
        throw new ConflictError("This review item is already resolved");

      if (input.action === "credit") {
        const claim = decodeJson<ReviewClaim>(item.data, {} as ReviewClaim);
        if (claim.status !== 1) {
          throw new ConflictError("The callback reported no payment: there is nothing to credit; dismiss it");
        }
        // The credit is computed now from what was paid and the order's stored fee rule, not
        // taken from the item: items kept before the rule was stored hold another figure.
        const paid = BigInt(claim.paidMinor);
        const order = orderAmounts(item);
        const credit = creditForPaid(paid, order);
        const text = (minor: bigint) => formatAmount(minor, item.decimals);
        figures = {
          amount: text(order.amountMinor),
          paidAmount: text(paid),
          fee: text(credit.feeMinor),
          // In the credit currency: a quote's account currency (its decimals), else the order's.
          credit: formatAmount(credit.creditMinor, item.account_decimals ?? item.decimals),
        };
        const r = await settleResult(trx, ctx, {
          tenantId,
          depositId: item.deposit_id,
          to: "succeeded",
          creditMinor: credit.creditMinor,
          markupMinor: credit.markupMinor,
          paidAmountMinor: paid,
          ...(claim.transactionId ? { transactionId: claim.transactionId } : {}),
          ...(claim.time !== null ? { pspTime: claim.time } : {}),
          cause: "review",
          allowFrom: LATE_CREDIT_SOURCES,
        });
        if (r.kind !== "applied") {
          throw new ConflictError("The deposit was already credited: dismiss this item instead");
        }
        ledgerEntryId = r.ledgerEntryId ?? null;
      }
      await insertDepositEvent(trx, {
        tenantId,
        depositId: item.deposit_id,
        now,
        event: {
          kind: "review",
          data: {
            reviewItemId: item.id,
            reason: item.reason,
            resolution: input.action,
            comment: input.comment,
          },
        },
      });
      await recordAudit(
        trx,
        {
          tenantId,
          actor: { type: actor.kind, id: actor.id },
          action: "review.resolve",
          targetType: "review_item",
          targetId: item.id,
          before: { status: "open", reason: item.reason, depositId: item.deposit_id },
          after: {
            status: "resolved",
            resolution: input.action,
            comment: input.comment,
            ledgerEntryId,
            ...figures,
          },
          ip,
        },
        now,
      );
    });
  } catch (err) {
    // The ledger's unique index fired: another path credited this deposit first.
    if (isLedgerCreditViolation(err))
      throw new ConflictError("The deposit was already credited: dismiss this item instead");
    throw err;
  }
  if (ledgerEntryId) ctx.metrics.credits.inc();
  const item = await findReviewItem(ctx.db, tenantId, itemId);
  if (!item) throw new NotFoundError("Review item");
  return { item, ledgerEntryId };
}
