import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { ConflictError, NotFoundError } from "../../common/errors.js";
import { parseInput } from "../../common/validation.js";
import type { StaffActor } from "../../http/access.js";
import { isLedgerCreditViolation } from "../../infra/db/database.js";
import type { DepositStatus } from "../../infra/db/schema.js";
import { recordAudit } from "../audit/audit-repo.js";
import { settleResult } from "../settlement/settle.js";
import { transactionRetryingRaces } from "../settlement/settlement-store.js";
import { insertDepositEvent } from "./deposit-repo.js";
import { money } from "./deposit-view.js";

export const manualResolutionInput = z.object({ comment: z.string().trim().min(1).max(500) });
export type ManualResolutionInput = z.infer<typeof manualResolutionInput>;

export type ManualAction = "approve" | "reject";

/** The figures behind an approval (both amounts wherever a credit is decided). */
export type CreditFigures = {
  currency: string;
  /** The ordered amount, its quoted fee and its credit: what an approval credits. */
  amount: string;
  fee: string;
  credit: string;
  /** What the PSP reported as paid, if it did. */
  paidAmount: string | null;
};

export type ManualResolutionResult = {
  id: string;
  orderNo: string;
  status: DepositStatus;
  ledgerEntryId: string | null;
} & CreditFigures;

const figuresOf = (d: {
  currency: string;
  decimals: number;
  amount_minor: number;
  fee_minor: number;
  credit_minor: number;
  paid_amount_minor: number | null;
  account_decimals: number | null;
}): CreditFigures => ({
  currency: d.currency,
  amount: money(d.amount_minor, d.decimals),
  fee: money(d.fee_minor, d.decimals),
  // In the credit currency: a quote's account currency (docs/exchange-rates.md).
  credit: money(d.credit_minor, d.account_decimals ?? d.decimals),
  paidAmount: d.paid_amount_minor === null ? null : money(d.paid_amount_minor, d.decimals),
});
const FIGURE_COLUMNS = [
  "currency",
  "decimals",
  "amount_minor",
  "fee_minor",
  "credit_minor",
  "paid_amount_minor",
  "account_decimals",
] as const;

/**
 * A staff member approves (credits once) or rejects an open deposit by hand, through the
 * settlement (settlement/settle.ts, docs/failure-modes.md#failure-mode-1: the callback and the human cannot both
 * credit). Only pending/processing deposits: a terminal one answers 409 and changes nothing.
 * The change, its `manual` timeline entry and its audit record commit together.
 */
export async function resolveDepositByHand(
  ctx: Pick<AppContext, "db" | "clock" | "metrics">,
  actor: StaffActor,
  depositId: string,
  action: ManualAction,
  raw: ManualResolutionInput,
  ip: string | null = null,
): Promise<ManualResolutionResult> {
  const { comment } = parseInput(manualResolutionInput, raw);
  const tenantId = actor.tenantId;
  const to = action === "approve" ? "succeeded" : "failed";
  const refused = (status: DepositStatus) =>
    new ConflictError(
      `The deposit is already ${status}: it can no longer be ${action === "approve" ? "approved" : "rejected"}`,
      "deposit_not_open",
      { status },
    );
  let ledgerEntryId: string | null = null;
  try {
    // Run again, audit record and all, when a first credit raced another wallet creation.
    await transactionRetryingRaces(ctx, async (trx) => {
      ledgerEntryId = null;
      const r = await settleResult(trx, ctx, {
        tenantId,
        depositId,
        to,
        cause: "manual",
        ...(action === "reject" ? { failureReason: "rejected_by_staff" } : {}),
      });
      if (r.kind === "unknown") throw new NotFoundError("Deposit");
      if (r.kind === "repeat") throw refused(to);
      if (r.kind !== "applied") throw refused(r.current);
      ledgerEntryId = r.ledgerEntryId ?? null;
      const now = ctx.clock.now();
      // As the change left the order: the audit keeps what the person saw and decided.
      const after = await trx
        .selectFrom("deposits")
        .select(FIGURE_COLUMNS)
        .where("id", "=", depositId)
        .where("tenant_id", "=", tenantId)
        .executeTakeFirstOrThrow();
      await insertDepositEvent(trx, {
        tenantId,
        depositId,
        now,
        event: {
          kind: "manual",
          data: { action, actorId: actor.id, comment },
        },
      });
      await recordAudit(
        trx,
        {
          tenantId,
          actor: { type: actor.kind, id: actor.id },
          action: `deposit.${action}`,
          targetType: "deposit",
          targetId: depositId,
          before: { status: r.from },
          after: { status: r.to, comment, ledgerEntryId, ...figuresOf(after) },
          ip,
        },
        now,
      );
    });
  } catch (err) {
    if (isLedgerCreditViolation(err)) throw refused("succeeded");
    throw err;
  }
  if (ledgerEntryId) ctx.metrics.credits.inc();
  const dep = await ctx.db
    .selectFrom("deposits")
    .select(["id", "order_no", "status", ...FIGURE_COLUMNS])
    .where("id", "=", depositId)
    .where("tenant_id", "=", tenantId)
    .executeTakeFirstOrThrow();
  return { id: dep.id, orderNo: dep.order_no, status: dep.status, ledgerEntryId, ...figuresOf(dep) };
}
