import type { AppContext } from "../../app-context.js";
import { ConflictError, NotFoundError } from "../../common/errors.js";
import { writeTransaction } from "../../infra/db/database.js";
import { recordAudit } from "../audit/audit-repo.js";
import { settle } from "../settlement/settle.js";
import type { DepositActor } from "./create-deposit.js";
import { depositUnderReview } from "./deposit-queries.js";
import { type DepositRow, findDepositById, insertDepositEvent } from "./deposit-repo.js";

/**
 * Cancels an open deposit (pending or processing → cancelled), by its client in the portal or
 * by staff, through the settlement: the order is read under its lock (PostgreSQL) or by the
 * single writer (SQLite), so a callback or the expiry sweep that moved it first is seen, never
 * overwritten. A final order answers 409. Staff cancels are audited in the same transaction.
 * A success callback arriving after the cancel is the callback side's "late" case (review).
 * A client cannot cancel while a payment for the order is being checked (409
 * `deposit_under_review`): staff, who do the checking, still can.
 */
export async function cancelDeposit(
  ctx: Pick<AppContext, "db" | "clock">,
  actor: DepositActor,
  ref: { id: string } | { orderNo: string },
  opts: { comment?: string; ip?: string | null } = {},
): Promise<DepositRow> {
  const id = await writeTransaction(ctx.db, async (trx) => {
    const keys = "id" in ref ? { ids: [ref.id] } : { orderNos: [ref.orderNo] };
    const { value } = await settle(trx, ctx, keys, (planner) => {
      const row = planner.find(ref);
      // A client only ever reaches its own orders; everything else is "not found".
      if (
        !row ||
        row.tenant_id !== actor.tenantId ||
        (actor.kind === "client" && row.client_id !== actor.clientId)
      )
        throw new NotFoundError("Deposit");
      const r = planner.apply({
        tenantId: actor.tenantId,
        depositId: row.id,
        to: "cancelled",
        cause: "cancel",
      });
      if (r.kind !== "applied") {
        const status = planner.statusOf(row) as string;
        throw new ConflictError(`The deposit is already ${status} and cannot be cancelled`, "deposit_final", {
          status,
        });
      }
      return { value: { row, from: r.from, now: planner.now } };
    });
    const { row, from, now } = value;
    // Checked with the order locked (PostgreSQL) or by the single writer (SQLite), so a callback
    // putting a payment into review cannot slip in between; throwing rolls the cancel back.
    if (actor.kind === "client" && (await depositUnderReview(trx, actor.tenantId, row.id))) {
      throw new ConflictError(
        "A payment for this deposit is being checked: it cannot be cancelled now",
        "deposit_under_review",
      );
    }
    if (actor.kind === "staff") {
      await insertDepositEvent(trx, {
        tenantId: actor.tenantId,
        depositId: row.id,
        now,
        event: {
          kind: "manual",
          data: { action: "cancel", actorId: actor.actorId, comment: opts.comment ?? "" },
        },
      });
      await recordAudit(
        trx,
        {
          tenantId: actor.tenantId,
          actor: { type: actor.actorType, id: actor.actorId },
          action: "deposit.cancel",
          targetType: "deposit",
          targetId: row.id,
          before: { orderNo: row.order_no, status: from },
          after: { orderNo: row.order_no, status: "cancelled", comment: opts.comment ?? null },
          ip: opts.ip ?? null,
        },
        now,
      );
    }
    return row.id;
  });
  const after = await findDepositById(ctx.db, actor.tenantId, id);
  if (!after) throw new NotFoundError("Deposit");
  return after;
}
