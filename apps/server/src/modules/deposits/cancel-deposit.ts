import type { AppContext } from "../../app-context.js";
import { writeTransaction } from "../../infra/db/database.js";
import { ConflictError, NotFoundError } from "../../shared/errors.js";
import { recordAudit } from "../audit/audit-repo.js";
import type { DepositActor } from "./create-deposit.js";
import {
  type DepositRow,
  findDepositById,
  findDepositByOrderNo,
  insertDepositEvent,
  transitionDeposit,
} from "./deposit-repo.js";
import { isTerminal } from "./deposit-state.js";

/**
 * Cancels an open deposit (pending or processing → cancelled), by its client in the portal or
 * by staff. A conditional update from the status just read: if a callback or the expiry sweep
 * moved the order meanwhile, the cancel is re-decided against the new status, never applied
 * over it. A final order answers 409. Staff cancels are audited in the same transaction.
 * A success callback arriving after the cancel is the callback side's "late" case (review).
 */
export async function cancelDeposit(
  ctx: Pick<AppContext, "db" | "clock">,
  actor: DepositActor,
  ref: { id: string } | { orderNo: string },
  opts: { comment?: string; ip?: string | null } = {},
): Promise<DepositRow> {
  const load = () =>
    "id" in ref
      ? findDepositById(ctx.db, actor.tenantId, ref.id)
      : findDepositByOrderNo(
          ctx.db,
          actor.tenantId,
          ref.orderNo,
          actor.kind === "client" ? actor.clientId : undefined,
        );
  for (let attempt = 0; attempt < 5; attempt++) {
    const row = await load();
    // A client only ever reaches its own orders; everything else is "not found".
    if (!row || (actor.kind === "client" && row.client_id !== actor.clientId))
      throw new NotFoundError("Deposit");
    if (isTerminal(row.status)) {
      throw new ConflictError(
        `The deposit is already ${row.status} and cannot be cancelled`,
        "deposit_final",
        {
          status: row.status,
        },
      );
    }
    const now = ctx.clock.now();
    const from = row.status;
    const moved = await writeTransaction(ctx.db, async (trx) => {
      const ok = await transitionDeposit(trx, {
        tenantId: actor.tenantId,
        id: row.id,
        from,
        to: "cancelled",
        now,
        final: true,
      });
      if (!ok) return false;
      await insertDepositEvent(trx, {
        tenantId: actor.tenantId,
        depositId: row.id,
        now,
        event: { kind: "status_change", data: { from, to: "cancelled", cause: "cancel" } },
      });
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
      return true;
    });
    if (moved) {
      const after = await findDepositById(ctx.db, actor.tenantId, row.id);
      if (!after) throw new NotFoundError("Deposit");
      return after;
    }
  }
  throw new ConflictError("The deposit changed while it was being cancelled, try again", "deposit_busy");
}
