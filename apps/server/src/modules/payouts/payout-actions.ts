import type { AppContext } from "../../app-context.js";
import { ConflictError, NotFoundError, ValidationError } from "../../common/errors.js";
import { type Db, writeTransaction } from "../../infra/db/database.js";
import { recordAudit } from "../audit/audit-repo.js";
import type { Staff } from "../withdrawals/decide-withdrawal.js";
import { applyPayoutResult, beginPayout } from "../withdrawals/settle-payout.js";
import { createWithdrawalRepo, type WithdrawalRow } from "../withdrawals/withdrawal-repo.js";
import { payoutTarget } from "./payout-repo.js";
import { type PayoutDeps, runPayoutStep } from "./payout-step.js";
import { PAYOUT_LEASE_MS } from "./payout-worker.js";

export type { PayoutDeps } from "./payout-step.js";

/**
 * Finance's payout actions (docs/withdrawals.md#payouts): start an approved withdrawal's payout
 * through its integration, check a payout now (a new schedule when it needed assistance), and
 * close a payout that needs assistance as failed. Marking it paid is `markWithdrawalPaid`.
 * Each is audited; the backend is called after the transaction committed.
 */

type Ctx = Pick<AppContext, "db" | "clock">;

async function loaded(trx: Db, tenantId: string, id: string): Promise<WithdrawalRow> {
  const w = await createWithdrawalRepo(trx).find(tenantId, id);
  if (!w) throw new NotFoundError("Withdrawal");
  return w;
}

async function audit(trx: Db, who: Staff, action: string, id: string, after: object, now: number) {
  await recordAudit(
    trx,
    {
      tenantId: who.tenantId,
      actor: who.audit,
      action,
      targetType: "withdrawal",
      targetId: id,
      after,
      ip: who.ip,
    },
    now,
  );
}

/** Runs the step that is due now, claimed like the job claims it (a lease), in this request. */
async function stepNow(deps: PayoutDeps, tenantId: string, id: string, due: number): Promise<void> {
  const now = deps.clock.now();
  const lease = now + PAYOUT_LEASE_MS;
  const claimed = await createWithdrawalRepo(deps.db).setPayout(
    tenantId,
    id,
    { payout_due: lease },
    { payoutDue: due },
    now,
  );
  if (!claimed) return; // the job took it first
  const t = await payoutTarget(deps.db, id, tenantId);
  if (t) await runPayoutStep(deps, t, lease);
}

export async function startPayout(deps: PayoutDeps, who: Staff, id: string): Promise<void> {
  const due = await writeTransaction(deps.db, async (trx) => {
    const now = deps.clock.now();
    const w = await loaded(trx, who.tenantId, id);
    const method = await createWithdrawalRepo(trx).method(w.tenant_id, w.method_id);
    if (method?.payoutMode !== "integration" || !method.integrationId)
      throw new ConflictError(
        "This withdrawal's method pays out by hand: record the payout instead",
        "payout_manual",
      );
    if (w.status !== "approved" || !(await beginPayout(trx, w, method.integrationId, now, who.staffId)))
      throw new ConflictError(
        "Only an approved withdrawal whose payout has not started can start one",
        "payout_not_startable",
      );
    await audit(trx, who, "withdrawal.start_payout", id, { integrationId: method.integrationId }, now);
    return now;
  });
  await stepNow(deps, who.tenantId, id, due);
}

/**
 * Asks the backend now (API-4 again while approved, the payout status query while paying). A
 * payout that needed assistance gets a new schedule.
 */
export async function checkPayoutNow(deps: PayoutDeps, who: Staff, id: string): Promise<void> {
  const due = await writeTransaction(deps.db, async (trx) => {
    const now = deps.clock.now();
    const w = await loaded(trx, who.tenantId, id);
    if ((w.status !== "approved" && w.status !== "paying") || w.integration_id === null)
      throw new ConflictError("This withdrawal has no payout in progress to check", "payout_not_started");
    const repo = createWithdrawalRepo(trx);
    const fresh = w.needs_assistance !== null && w.needs_assistance !== "failed_hold_kept";
    await repo.setPayout(
      w.tenant_id,
      w.id,
      fresh ? { payout_due: now, payout_step: 0, needs_assistance: null } : { payout_due: now },
      { status: ["approved", "paying"] },
      now,
    );
    if (fresh)
      await repo.addEvent(w.tenant_id, w.id, "resolved", { action: "check_now", by: who.staffId }, now);
    await audit(trx, who, "withdrawal.check_payout", id, { status: w.status }, now);
    return now;
  });
  await stepNow(deps, who.tenantId, id, due);
}

/** Closes a payout that needs assistance as failed: the hold goes back to the client. */
export async function markPayoutFailed(ctx: Ctx, who: Staff, id: string, comment: string): Promise<void> {
  if (!comment.trim())
    throw new ValidationError("Closing a payout needs a comment", [{ path: "comment", message: "Required" }]);
  await writeTransaction(ctx.db, async (trx) => {
    const now = ctx.clock.now();
    const w = await loaded(trx, who.tenantId, id);
    if (
      (w.status !== "approved" && w.status !== "paying") ||
      w.integration_id === null ||
      w.needs_assistance === null
    )
      throw new ConflictError(
        "Only a payout that needs assistance can be closed as failed",
        "payout_not_in_assistance",
      );
    const method = await createWithdrawalRepo(trx).method(w.tenant_id, w.method_id);
    const outcome = await applyPayoutResult(trx, w, method ?? { failedPayout: "release" }, {
      to: "failed",
      cause: "manual",
      reason: comment,
      by: who.staffId,
      now,
    });
    if (outcome !== "applied")
      throw new ConflictError("The payout was settled meanwhile", "decided_meanwhile");
    await audit(trx, who, "withdrawal.mark_failed", id, { comment }, now);
  });
}
