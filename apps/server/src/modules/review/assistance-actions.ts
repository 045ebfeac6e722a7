import { formatAmount, MoneyError, parseAmount } from "@psphub/protocol";
import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { ConflictError, NotFoundError, ValidationError } from "../../common/errors.js";
import { plainDecimal } from "../../common/plain-decimal.js";
import { parseInput } from "../../common/validation.js";
import type { StaffActor } from "../../http/access.js";
import {
  type Db,
  decodeJson,
  encodeJson,
  isLedgerCreditViolation,
  writeTransaction,
} from "../../infra/db/database.js";
import { auditActorOf, recordAudit } from "../audit/audit-repo.js";
import { insertDepositEvent } from "../deposits/deposit-repo.js";
import { LATE_CREDIT_SOURCES, OPEN } from "../deposits/deposit-state.js";
import { creditForPaid, orderAmounts } from "../deposits/paid-credit.js";
import { settleResult } from "../settlement/settle.js";
import { transactionRetryingRaces } from "../settlement/settlement-store.js";
import { dueAt, scheduleOf } from "../status-query/status-query-schedule.js";
import { fourEyesLimitsOf, needsSecondApprover } from "../tenants/four-eyes.js";
import { personOf } from "../users/api-keys.js";
import {
  type AssistanceData,
  type CreditRequest,
  findReviewItem,
  type ReviewItemView,
} from "./review-repo.js";

const comment = z.string().trim().min(1).max(500);
export const keepWaitingInput = z.object({ comment: comment.optional() });
export const commentInput = z.object({ comment });
export const assistanceCreditInput = z.object({
  comment,
  /** What the client actually paid, in the order's currency; the order's amount when omitted. */
  paidAmount: plainDecimal.optional(),
});
export type AssistanceCreditInput = z.infer<typeof assistanceCreditInput>;

export type AssistanceOutcome = "resolved" | "awaiting_approval" | "declined";
export type AssistanceResult = {
  item: ReviewItemView;
  outcome: AssistanceOutcome;
  ledgerEntryId: string | null;
};

type Deps = Pick<AppContext, "db" | "clock" | "metrics">;

/** The item and its order as an action reads them in its transaction. */
type ActionRow = Awaited<ReturnType<typeof readItem>>;

async function readItem(trx: Db, tenantId: string, itemId: string) {
  const row = await trx
    .selectFrom("review_items as r")
    .innerJoin("deposits as d", (j) =>
      j.onRef("d.id", "=", "r.deposit_id").onRef("d.tenant_id", "=", "r.tenant_id"),
    )
    .innerJoin("tenants as t", "t.id", "r.tenant_id")
    .select([
      "r.id",
      "r.deposit_id",
      "r.reason",
      "r.status",
      "r.data",
      "r.approval_requested_by",
      "r.approval_comment",
      "d.status as deposit_status",
      "d.integration_id",
      "d.currency",
      "d.decimals",
      "d.amount_minor",
      "d.fee_minor",
      "d.credit_minor",
      "d.fee_rule_bps",
      "d.fee_rule_fixed_minor",
      "d.fee_rule_max_minor",
      "d.account_currency",
      "d.account_decimals",
      "d.fx_rate",
      "d.fx_markup_bps",
      "t.four_eyes_limits",
    ])
    .where("r.id", "=", itemId)
    .where("r.tenant_id", "=", tenantId)
    .executeTakeFirst();
  // Another tenant's item, or one of another reason, is not a needs-assistance item of this tenant.
  if (row?.reason !== "needs_assistance") throw new NotFoundError("Needs-assistance item");
  if (row.status !== "open") throw new ConflictError("This review item is already resolved");
  return row;
}

/**
 * Closes the item once: of two admins acting at once, one wins, the other gets 409. A pending
 * credit request must be what the caller read (`requestedBy`), so an approval never credits a
 * request declined or replaced since.
 */
async function claimItem(
  trx: Db,
  tenantId: string,
  row: ActionRow,
  set: { resolution: string; resolvedBy: string; comment: string | null; now: number },
  requestedBy?: string,
): Promise<void> {
  let q = trx
    .updateTable("review_items")
    .set({
      status: "resolved",
      resolution: set.resolution,
      resolved_by: set.resolvedBy,
      comment: set.comment,
      resolved_at: set.now,
    })
    .where("id", "=", row.id)
    .where("tenant_id", "=", tenantId)
    .where("status", "=", "open");
  if (requestedBy !== undefined) q = q.where("approval_requested_by", "=", requestedBy);
  const r = await q.executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0)
    throw new ConflictError("This review item was resolved or changed meanwhile");
}

/** The timeline entry and audit record every action writes, in its transaction. */
async function record(
  trx: Db,
  actor: StaffActor,
  row: ActionRow,
  now: number,
  ip: string | null,
  action: string,
  data: {
    comment?: string | null;
    requestedBy?: string;
    approvedBy?: string;
    ledgerEntryId?: string | null;
  } & Record<string, unknown>,
): Promise<void> {
  // The timeline names the people of four eyes as they were called then.
  const people = [data.requestedBy, data.approvedBy].filter((id): id is string => id !== undefined);
  const names = new Map(
    people.length === 0
      ? []
      : (
          await trx
            .selectFrom("users")
            .select(["id", "name"])
            .where("tenant_id", "=", actor.tenantId)
            .where("id", "in", people)
            .execute()
        ).map((u) => [u.id, u.name]),
  );
  const named = (key: "requestedBy" | "approvedBy") => {
    const id = data[key];
    return id ? { [key]: id, [`${key}Name`]: names.get(id) ?? id } : {};
  };
  await insertDepositEvent(trx, {
    tenantId: actor.tenantId,
    depositId: row.deposit_id,
    now,
    event: {
      kind: "review",
      data: {
        reviewItemId: row.id,
        reason: row.reason,
        resolution: action,
        ...(data.comment ? { comment: data.comment } : {}),
        ...named("requestedBy"),
        ...named("approvedBy"),
      },
    },
  });
  await recordAudit(
    trx,
    {
      tenantId: actor.tenantId,
      actor: auditActorOf(actor),
      action: `review.${action}`,
      targetType: "review_item",
      targetId: row.id,
      before: {
        status: "open",
        reason: row.reason,
        depositId: row.deposit_id,
        depositStatus: row.deposit_status,
      },
      after: data,
      ip,
    },
    now,
  );
}

async function answer(
  ctx: Deps,
  tenantId: string,
  itemId: string,
  outcome: AssistanceOutcome,
  ledgerEntryId: string | null,
): Promise<AssistanceResult> {
  if (ledgerEntryId) ctx.metrics.credits.inc();
  const item = await findReviewItem(ctx.db, tenantId, itemId);
  if (!item) throw new NotFoundError("Review item");
  return { item, outcome, ledgerEntryId };
}

/**
 * "Keep waiting": closes the item and starts the integration's status-query schedule again
 * from its first step (status-query-schedule.ts); that schedule ending unresolved flags the
 * order again, as a new item (status-query-repo.ts keys each flagging apart).
 */
export async function keepWaiting(
  ctx: Deps,
  actor: StaffActor,
  itemId: string,
  raw: z.input<typeof keepWaitingInput>,
  ip: string | null = null,
  random: () => number = Math.random,
): Promise<AssistanceResult> {
  const input = parseInput(keepWaitingInput, raw);
  await writeTransaction(ctx.db, async (trx) => {
    const row = await readItem(trx, actor.tenantId, itemId);
    if (row.deposit_status === "succeeded") {
      throw new ConflictError(
        "The deposit is already credited: there is nothing to wait for",
        "deposit_not_open",
      );
    }
    const now = ctx.clock.now();
    const integration = await trx
      .selectFrom("psp_integrations")
      .select("status_query_schedule")
      .where("id", "=", row.integration_id)
      .where("tenant_id", "=", actor.tenantId)
      .executeTakeFirstOrThrow();
    const due = dueAt(scheduleOf(integration.status_query_schedule), 0, now, random());
    await claimItem(trx, actor.tenantId, row, {
      resolution: "keep_waiting",
      resolvedBy: actor.id,
      comment: input.comment ?? null,
      now,
    });
    await trx
      .updateTable("deposits")
      .set({ status_query_step: 0, status_query_due_at: due, updated_at: now })
      .where("id", "=", row.deposit_id)
      .where("tenant_id", "=", actor.tenantId)
      .execute();
    await record(trx, actor, row, now, ip, "keep_waiting", {
      comment: input.comment ?? null,
      nextQueryAt: due,
    });
  });
  return answer(ctx, actor.tenantId, itemId, "resolved", null);
}

/**
 * "Mark failed": fails an open order through the settlement (cause `review`); an order already
 * final without a credit (expired, cancelled, failed) stays as it is and the item just closes;
 * a credited one is a 409.
 */
export async function markFailed(
  ctx: Deps,
  actor: StaffActor,
  itemId: string,
  raw: z.input<typeof commentInput>,
  ip: string | null = null,
): Promise<AssistanceResult> {
  const input = parseInput(commentInput, raw);
  await writeTransaction(ctx.db, async (trx) => {
    const row = await readItem(trx, actor.tenantId, itemId);
    const now = ctx.clock.now();
    await claimItem(trx, actor.tenantId, row, {
      resolution: "mark_failed",
      resolvedBy: actor.id,
      comment: input.comment,
      now,
    });
    let failed = false;
    if (OPEN.has(row.deposit_status)) {
      const r = await settleResult(trx, ctx, {
        tenantId: actor.tenantId,
        depositId: row.deposit_id,
        to: "failed",
        cause: "review",
        failureReason: "needs_assistance_marked_failed",
      });
      if (r.kind === "applied") failed = true;
      else if (r.kind !== "repeat") throw depositSucceeded();
    } else if (row.deposit_status === "succeeded") {
      throw depositSucceeded();
    }
    await record(trx, actor, row, now, ip, "mark_failed", { comment: input.comment, failed });
  });
  return answer(ctx, actor.tenantId, itemId, "resolved", null);
}

const depositSucceeded = () =>
  new ConflictError("The deposit is already credited: it cannot be marked failed", "deposit_not_open");

/** What a credit of this item credits: the order's credit, or paid minus the fee by its stored rule. */
function creditOf(
  row: ActionRow,
  paidAmount: string | undefined,
): CreditRequest & { credit: bigint; paid: bigint | null } {
  if (paidAmount === undefined) {
    const credit = BigInt(row.credit_minor);
    return { paidMinor: null, creditMinor: credit.toString(), credit, paid: null };
  }
  let paid: bigint;
  try {
    paid = parseAmount(paidAmount, row.decimals);
  } catch (err) {
    if (err instanceof MoneyError) {
      throw new ValidationError("The input is invalid", [{ path: "paidAmount", message: err.message }]);
    }
    throw err;
  }
  const { creditMinor } = creditForPaid(paid, orderAmounts(row));
  return { paidMinor: paid.toString(), creditMinor: creditMinor.toString(), credit: creditMinor, paid };
}

/** Credits through the settlement, also from expired/cancelled/failed (the human exception). */
async function creditNow(
  trx: Db,
  ctx: Deps,
  tenantId: string,
  row: ActionRow,
  credit: bigint,
  paid: bigint | null,
): Promise<string | null> {
  // What the markup keeps of a paid amount's credit (a quote's order); the order's own otherwise.
  const markup = paid === null ? undefined : creditForPaid(paid, orderAmounts(row)).markupMinor;
  const r = await settleResult(trx, ctx, {
    tenantId,
    depositId: row.deposit_id,
    to: "succeeded",
    creditMinor: credit,
    ...(markup !== undefined ? { markupMinor: markup } : {}),
    ...(paid !== null ? { paidAmountMinor: paid } : {}),
    cause: "review",
    allowFrom: LATE_CREDIT_SOURCES,
  });
  if (r.kind !== "applied") throw alreadyCredited();
  return r.ledgerEntryId ?? null;
}

const alreadyCredited = () =>
  new ConflictError("The deposit was already credited: close this item instead", "deposit_not_open");

/** A ledger unique-index violation means another path credited the deposit first. */
async function crediting<T>(ctx: Deps, fn: (trx: Db) => Promise<T>): Promise<T> {
  try {
    return await transactionRetryingRaces(ctx, fn);
  } catch (err) {
    if (isLedgerCreditViolation(err)) throw alreadyCredited();
    throw err;
  }
}

/**
 * "Credit": at or below the tenant's four-eyes limit for the currency, credits at once; above it
 * (or with no limit for the currency), stores the request for a second admin and credits nothing.
 */
export async function creditAssistance(
  ctx: Deps,
  actor: StaffActor,
  itemId: string,
  raw: AssistanceCreditInput,
  ip: string | null = null,
): Promise<AssistanceResult> {
  const input = parseInput(assistanceCreditInput, raw);
  let ledgerEntryId: string | null = null;
  let outcome: AssistanceOutcome = "resolved";
  await crediting(ctx, async (trx) => {
    ledgerEntryId = null;
    const row = await readItem(trx, actor.tenantId, itemId);
    if (row.approval_requested_by !== null) {
      throw new ConflictError(
        "A credit already awaits a second admin: approve or decline it",
        "approval_pending",
      );
    }
    if (row.deposit_status === "succeeded") throw alreadyCredited();
    const request = creditOf(row, input.paidAmount);
    const figures = figuresOf(row, request);
    const now = ctx.clock.now();
    const person = await personOf(trx, actor);
    if (
      // The limit is the credited currency's: a quote's account currency (docs/exchange-rates.md#four-eyes).
      needsSecondApprover(
        fourEyesLimitsOf(row.four_eyes_limits),
        row.account_currency ?? row.currency,
        request.credit,
        row.account_decimals ?? row.decimals,
      )
    ) {
      outcome = "awaiting_approval";
      const data = decodeJson<AssistanceData>(row.data, {} as AssistanceData);
      const { credit: _c, paid: _p, ...stored } = request;
      const r = await trx
        .updateTable("review_items")
        .set({
          approval_requested_by: person,
          approval_requested_at: now,
          approval_comment: input.comment,
          data: encodeJson({ ...data, creditRequest: stored }),
        })
        .where("id", "=", row.id)
        .where("tenant_id", "=", actor.tenantId)
        .where("status", "=", "open")
        .where("approval_requested_by", "is", null)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) throw new ConflictError("This review item changed meanwhile");
      await record(trx, actor, row, now, ip, "credit_requested", {
        comment: input.comment,
        requestedBy: person,
        ...figures,
      });
      return;
    }
    outcome = "resolved";
    await claimItem(trx, actor.tenantId, row, {
      resolution: "credit",
      resolvedBy: actor.id,
      comment: input.comment,
      now,
    });
    ledgerEntryId = await creditNow(trx, ctx, actor.tenantId, row, request.credit, request.paid);
    await record(trx, actor, row, now, ip, "credit", { comment: input.comment, ledgerEntryId, ...figures });
  });
  return answer(ctx, actor.tenantId, itemId, outcome, ledgerEntryId);
}

function figuresOf(row: ActionRow, request: { credit: bigint; paid: bigint | null }): Record<string, string> {
  const text = (minor: bigint) => formatAmount(minor, row.decimals);
  return {
    currency: row.currency,
    credit: formatAmount(request.credit, row.account_decimals ?? row.decimals),
    ...(row.account_currency !== null ? { creditCurrency: row.account_currency } : {}),
    ...(request.paid !== null ? { paidAmount: text(request.paid) } : {}),
  };
}

/** The pending request of an item, refusing its own requester (four eyes). */
async function pendingRequest(trx: Db, actor: StaffActor, row: ActionRow) {
  const requestedBy = row.approval_requested_by;
  if (requestedBy === null)
    throw new ConflictError("No credit awaits approval on this item", "no_approval_pending");
  const person = await personOf(trx, actor);
  if (person === requestedBy) {
    throw new ConflictError("A second admin must decide on your own credit request", "four_eyes_same_person");
  }
  return { requestedBy, person };
}

/**
 * A second admin approves the pending credit: it is credited exactly as requested, and the item
 * closes with both approvers recorded. Two approvals at once credit once: the item's claim
 * admits one, and the ledger's unique index stops any other path.
 */
export async function approveCredit(
  ctx: Deps,
  actor: StaffActor,
  itemId: string,
  raw: z.input<typeof commentInput>,
  ip: string | null = null,
): Promise<AssistanceResult> {
  const input = parseInput(commentInput, raw);
  let ledgerEntryId: string | null = null;
  await crediting(ctx, async (trx) => {
    ledgerEntryId = null;
    const row = await readItem(trx, actor.tenantId, itemId);
    const { requestedBy, person } = await pendingRequest(trx, actor, row);
    const stored = decodeJson<AssistanceData>(row.data, {} as AssistanceData).creditRequest;
    const credit = BigInt(stored?.creditMinor ?? row.credit_minor);
    const paid = stored?.paidMinor == null ? null : BigInt(stored.paidMinor);
    const now = ctx.clock.now();
    await claimItem(
      trx,
      actor.tenantId,
      row,
      { resolution: "credit", resolvedBy: actor.id, comment: input.comment, now },
      requestedBy,
    );
    ledgerEntryId = await creditNow(trx, ctx, actor.tenantId, row, credit, paid);
    await record(trx, actor, row, now, ip, "credit_approved", {
      comment: input.comment,
      requestComment: row.approval_comment,
      requestedBy,
      approvedBy: person,
      ledgerEntryId,
      ...figuresOf(row, { credit, paid }),
    });
  });
  return answer(ctx, actor.tenantId, itemId, "resolved", ledgerEntryId);
}

/** A second admin declines the pending credit: the request is cleared and the item stays open. */
export async function declineCredit(
  ctx: Deps,
  actor: StaffActor,
  itemId: string,
  raw: z.input<typeof commentInput>,
  ip: string | null = null,
): Promise<AssistanceResult> {
  const input = parseInput(commentInput, raw);
  await writeTransaction(ctx.db, async (trx) => {
    const row = await readItem(trx, actor.tenantId, itemId);
    const { requestedBy, person } = await pendingRequest(trx, actor, row);
    const { creditRequest: _r, ...data } = decodeJson<AssistanceData>(row.data, {} as AssistanceData);
    const r = await trx
      .updateTable("review_items")
      .set({
        approval_requested_by: null,
        approval_requested_at: null,
        approval_comment: null,
        data: encodeJson(data),
      })
      .where("id", "=", row.id)
      .where("tenant_id", "=", actor.tenantId)
      .where("status", "=", "open")
      .where("approval_requested_by", "=", requestedBy)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) throw new ConflictError("This review item changed meanwhile");
    await record(trx, actor, row, ctx.clock.now(), ip, "credit_declined", {
      comment: input.comment,
      requestComment: row.approval_comment,
      requestedBy,
      declinedBy: person,
    });
  });
  return answer(ctx, actor.tenantId, itemId, "declined", null);
}
