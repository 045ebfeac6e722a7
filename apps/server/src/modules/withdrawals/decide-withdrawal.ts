import type { AppContext } from "../../app-context.js";
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from "../../common/errors.js";
import type { Db } from "../../infra/db/database.js";
import { isUniqueViolation, writeTransaction } from "../../infra/db/database.js";
import type { Role } from "../../infra/db/schema.js";
import type { AuditActor } from "../audit/audit-repo.js";
import { recordAudit } from "../audit/audit-repo.js";
import { releaseHold } from "../clients/ledger-holds.js";
import { insertWebhookEvents } from "../webhooks/outbox-repo.js";
import { type DecisionRefusal, mayDecide } from "./approval-policy.js";
import { applyPayoutResult, beginPayout, holdOf } from "./settle-payout.js";
import { policyFor, type WithdrawalMethod } from "./withdrawal-model.js";
import { createWithdrawalRepo, type WithdrawalRow } from "./withdrawal-repo.js";
import { type WithdrawalStatus, withdrawalSourcesOf } from "./withdrawal-state.js";
import { withdrawalWebhook } from "./withdrawal-webhook.js";

/**
 * The decisions on a withdrawal (docs/withdrawals.md#approval): approve the next level, reject
 * (at any level, the hold released), the client's cancel (before any approval), and finance's
 * record of a manual payout (the hold becomes the debit). Each is one transaction whose
 * conditional update on the withdrawal decides between racing decisions; the decisions' unique
 * indexes (one per level, one per person) and the ledger's (one entry of each kind per
 * withdrawal) hold the rules even if two processes decide at once.
 */

type Ctx = Pick<AppContext, "db" | "clock">;
export type Staff = { tenantId: string; staffId: string; role: Role; audit: AuditActor; ip: string | null };

const REFUSALS: Record<DecisionRefusal, string> = {
  not_open: "This withdrawal is no longer waiting for a decision",
  role_not_allowed: "Your role may not decide this level of this withdrawal",
  already_decided_by_you: "You already decided a level of this withdrawal: another person decides the next",
  own_request: "You requested this withdrawal: another person decides it",
};

async function load(trx: Db, tenantId: string, id: string) {
  const w = await createWithdrawalRepo(trx).find(tenantId, id);
  if (!w) throw new NotFoundError("Withdrawal");
  return w;
}

/** Runs a decision, turning a lost race on the unique indexes into the conflict it is. */
async function deciding<T>(ctx: Ctx, fn: (trx: Db) => Promise<T>): Promise<T> {
  try {
    return await writeTransaction(ctx.db, fn);
  } catch (err) {
    if (isUniqueViolation(err))
      throw new ConflictError("Another decision on this withdrawal came first", "decided_meanwhile");
    throw err;
  }
}

async function checkDecider(trx: Db, w: WithdrawalRow, who: Staff) {
  const repo = createWithdrawalRepo(trx);
  const method = await repo.method(w.tenant_id, w.method_id);
  if (!method) throw new Error(`withdrawal ${w.id} names a method that does not exist`);
  const decisions = await repo.decisions(w.tenant_id, w.id);
  const open = w.status === "requested" || w.status === "approving";
  const verdict = mayDecide(
    {
      open,
      nextLevel: w.levels_done + 1,
      requestedByStaffId: w.requested_by_staff_id,
      deciders: decisions.map((d) => d.staff_id),
    },
    policyFor(method.approval, w.decimals),
    { staffId: who.staffId, role: who.role },
  );
  if (!verdict.ok) {
    if (verdict.why === "not_open") throw new ConflictError(REFUSALS.not_open, "withdrawal_not_open");
    throw new ForbiddenError(REFUSALS[verdict.why], verdict.why);
  }
  return method;
}

/**
 * One level's decision, checked and written: the person may decide it, the withdrawal is still
 * at that level (the conditional update), the decision row (its unique indexes), the timeline
 * and the audit. Returns the withdrawal as loaded and the level decided.
 */
async function decideLevel(
  ctx: Ctx,
  who: Staff,
  id: string,
  d: {
    decision: "approve" | "reject";
    comment: string;
    to: (w: WithdrawalRow, level: number) => WithdrawalStatus;
    more: (level: number) => Partial<Pick<WithdrawalRow, "levels_done" | "client_reason">>;
    event: Record<string, unknown>;
    after?: (
      trx: Db,
      w: WithdrawalRow,
      now: number,
      method: WithdrawalMethod,
      to: WithdrawalStatus,
    ) => Promise<void>;
  },
): Promise<WithdrawalRow> {
  if (!d.comment.trim())
    throw new ValidationError("A decision needs a comment", [{ path: "comment", message: "Required" }]);
  return deciding(ctx, async (trx) => {
    const now = ctx.clock.now();
    const w = await load(trx, who.tenantId, id);
    const method = await checkDecider(trx, w, who);
    const level = w.levels_done + 1;
    const to = d.to(w, level);
    const repo = createWithdrawalRepo(trx);
    const more = d.more(level);
    if (
      !(await repo.move(who.tenantId, id, ["requested", "approving"], to, now, more, {
        levelsDone: w.levels_done,
      }))
    )
      throw new ConflictError("Another decision on this withdrawal came first", "decided_meanwhile");
    const { staffId } = who;
    await repo.addDecision({
      tenantId: who.tenantId,
      withdrawalId: id,
      level,
      decision: d.decision,
      staffId,
      comment: d.comment,
      now,
    });
    const kind = d.decision === "approve" ? "approved" : "rejected";
    await repo.addEvent(
      who.tenantId,
      id,
      kind,
      { level, of: w.levels_required, by: staffId, comment: d.comment, ...d.event },
      now,
    );
    await d.after?.(trx, w, now, method, to);
    const audit = { targetType: "withdrawal", targetId: id, after: { level, status: to }, ip: who.ip };
    await recordAudit(
      trx,
      { tenantId: who.tenantId, actor: who.audit, action: `withdrawal.${d.decision}`, ...audit },
      now,
    );
    const after: WithdrawalRow = { ...w, ...more, status: to, updated_at: now };
    await insertWebhookEvents(trx, [withdrawalWebhook(`withdrawal.${kind}`, after, now, { level })]);
    return after;
  });
}

export async function approveWithdrawal(
  ctx: Ctx,
  who: Staff,
  id: string,
  comment: string,
): Promise<WithdrawalRow> {
  return decideLevel(ctx, who, id, {
    decision: "approve",
    comment,
    to: (w, level) => (level >= w.levels_required ? "approved" : "approving"),
    more: (level) => ({ levels_done: level }),
    event: {},
    // The last level of a payout through an integration that starts by itself: API-4 is due now.
    after: async (trx, w, now, method, to) => {
      if (
        to === "approved" &&
        method.payoutMode === "integration" &&
        method.approval.autoPayout &&
        method.integrationId
      )
        await beginPayout(trx, { ...w, status: "approved" }, method.integrationId, now, "auto");
    },
  });
}

/** A rejection at the next level: the hold goes back, and the client is shown `clientReason`. */
export async function rejectWithdrawal(
  ctx: Ctx,
  who: Staff,
  id: string,
  input: { comment: string; clientReason: string },
): Promise<WithdrawalRow> {
  return decideLevel(ctx, who, id, {
    decision: "reject",
    comment: input.comment,
    to: () => "rejected",
    more: () => ({ client_reason: input.clientReason }),
    event: { clientReason: input.clientReason },
    after: async (trx, w, now) => {
      await releaseHold(trx, holdOf(w, now));
      await createWithdrawalRepo(trx).addEvent(
        w.tenant_id,
        w.id,
        "hold_released",
        { amount: String(w.amount_minor) },
        now,
      );
    },
  });
}

/** The client takes the request back while nobody has approved it. */
export async function cancelWithdrawal(
  ctx: Ctx,
  who: { tenantId: string; clientId: string },
  id: string,
): Promise<WithdrawalRow> {
  return deciding(ctx, async (trx) => {
    const now = ctx.clock.now();
    const w = await load(trx, who.tenantId, id);
    if (w.client_id !== who.clientId) throw new NotFoundError("Withdrawal");
    const repo = createWithdrawalRepo(trx);
    if (!(await repo.move(who.tenantId, id, withdrawalSourcesOf("cancelled"), "cancelled", now)))
      throw new ConflictError(
        "This withdrawal can no longer be cancelled: it has been decided on",
        "withdrawal_not_cancellable",
      );
    await releaseHold(trx, holdOf(w, now));
    await repo.addEvent(who.tenantId, id, "cancelled", { by: "client" }, now);
    await repo.addEvent(who.tenantId, id, "hold_released", { amount: String(w.amount_minor) }, now);
    const after: WithdrawalRow = { ...w, status: "cancelled", updated_at: now };
    await insertWebhookEvents(trx, [withdrawalWebhook("withdrawal.cancelled", after, now)]);
    return after;
  });
}

const PAYERS: readonly Role[] = ["owner", "admin", "finance"];

/**
 * Whether finance may record a payout made outside psphub now: an approved withdrawal whose
 * payout did not start through an integration, or one whose payout needs assistance.
 */
export const mayMarkPaid = (
  w: Pick<WithdrawalRow, "status" | "integration_id" | "needs_assistance">,
): boolean =>
  (w.status === "approved" && (w.integration_id === null || w.needs_assistance !== null)) ||
  (w.status === "paying" && w.needs_assistance !== null);

/** Finance paid outside psphub and records it: the hold becomes the debit, exactly once. */
export async function markWithdrawalPaid(
  ctx: Ctx,
  who: Staff,
  id: string,
  reference: string,
): Promise<WithdrawalRow> {
  if (!PAYERS.includes(who.role)) throw new ForbiddenError("Only finance, admins and owners record payouts");
  if (!reference.trim())
    throw new ValidationError("A payout needs its reference", [{ path: "reference", message: "Required" }]);
  return deciding(ctx, async (trx) => {
    const now = ctx.clock.now();
    const w = await load(trx, who.tenantId, id);
    const notPayable = () =>
      new ConflictError(
        w.status === "paid"
          ? "This withdrawal is already paid"
          : "Only an approved withdrawal can be recorded as paid",
        w.status === "paid" ? "withdrawal_already_paid" : "withdrawal_not_approved",
      );
    if (!mayMarkPaid(w)) throw notPayable();
    const method = await createWithdrawalRepo(trx).method(w.tenant_id, w.method_id);
    const outcome = await applyPayoutResult(trx, w, method ?? { failedPayout: "release" }, {
      to: "paid",
      cause: "manual",
      reference,
      by: who.staffId,
      now,
    });
    if (outcome !== "applied") throw notPayable();
    await recordAudit(
      trx,
      {
        tenantId: who.tenantId,
        actor: who.audit,
        action: "withdrawal.mark_paid",
        targetType: "withdrawal",
        targetId: id,
        after: { reference },
        ip: who.ip,
      },
      now,
    );
    return { ...w, status: "paid", payout_reference: reference, updated_at: now };
  });
}
