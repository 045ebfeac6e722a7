import { formatAmount } from "@psphub/protocol";
import type { AppContext } from "../../app-context.js";
import { type Db, isLedgerCreditViolation, toDbMinor } from "../../infra/db/database.js";
import type { DepositStatus } from "../../infra/db/schema.js";
import { NotFoundError } from "../../shared/errors.js";
import { postLedgerEntry } from "../clients/ledger.js";
import { insertDepositEvent, insertDepositEvents, newEventId } from "./deposit-repo.js";
import { canResolveLate, canTransition, decideCallback, isTerminal, sourcesOf } from "./deposit-state.js";

export type ResultStatus = "succeeded" | "failed" | "processing";
export type ApplyCause = "callback" | "manual" | "review";

export type ApplyResultInput = {
  tenantId: string;
  depositId: string;
  to: ResultStatus;
  /** The amount to credit on success; the order's `credit_minor` when omitted. */
  creditMinor?: bigint;
  /** What the PSP reports as paid, kept beside the ordered amount. */
  paidAmountMinor?: bigint;
  transactionId?: string;
  /** The PSP's completion time (API-2 `time`), Unix ms. */
  pspTime?: number;
  cause: ApplyCause;
  /** Kept on a failed order for the admin (`failure_reason`). */
  failureReason?: string;
  /**
   * Extra source statuses beyond the state machine's. Only a human resolving a review item
   * passes these, and only ones `canResolveLate` allows (expired/cancelled/failed → succeeded).
   */
  allowFrom?: readonly DepositStatus[];
};

export type ApplyOutcome =
  | { kind: "applied"; from: DepositStatus; to: ResultStatus; ledgerEntryId?: string }
  /** The deposit is already where this result would take it: nothing changed. */
  | { kind: "repeat" }
  /** The result contradicts the deposit's status: nothing changed. */
  | { kind: "conflict"; current: DepositStatus }
  /** A success for an expired or cancelled deposit: nothing changed, keep it for review. */
  | { kind: "late"; current: DepositStatus };

export type ApplyDeps = Pick<AppContext, "db" | "dbKind" | "clock" | "metrics">;

/**
 * THE way a deposit's outcome is applied, from every path (API-2 callback, manual approve and
 * reject, review resolution: failure mode 1). Idempotent: applying the same result twice, from
 * one process or several, changes the deposit and the wallet once.
 *
 * One transaction: a conditional update (`… WHERE status IN (sources)`), on PostgreSQL after
 * `SELECT … FOR UPDATE` so that concurrent duplicates queue on the row instead of racing to the
 * classification; on success one ledger credit, whose unique index
 * `ledger_one_credit_per_deposit` is the last guard (failure mode 2): if it fires, everything
 * rolls back and the answer is `repeat`, never an error.
 */
export async function applyDepositResult(
  deps: ApplyDeps,
  input: ApplyResultInput,
  /**
   * Runs inside the same transaction once the outcome is known, so that what the caller writes
   * about it (the API-2 callback log) commits with the change, in one commit. It never runs when
   * the transaction rolls back on the ledger's unique guard (the answer is then `repeat`): the
   * caller records that case itself, outside (failure mode 4).
   */
  within?: (trx: Db, outcome: ApplyOutcome) => Promise<void>,
): Promise<ApplyOutcome> {
  let outcome: ApplyOutcome;
  try {
    outcome = await deps.db.transaction().execute(async (trx) => {
      const o = await applyDepositResultInTx(trx, deps, input);
      if (within) await within(trx, o);
      return o;
    });
  } catch (err) {
    if (isLedgerCreditViolation(err)) return { kind: "repeat" };
    throw err;
  }
  if (outcome.kind === "applied" && outcome.to === "succeeded") deps.metrics.credits.inc();
  return outcome;
}

/**
 * The body of {@link applyDepositResult}, for callers that must do more in the same transaction
 * (review resolution, manual approval write their audit record with it). The caller owns the
 * transaction, so a ledger unique violation reaches it as an error: treat it as `repeat`, and
 * increment the credits metric after commit.
 */
export async function applyDepositResultInTx(
  trx: Db,
  deps: Pick<AppContext, "dbKind" | "clock">,
  input: ApplyResultInput,
): Promise<ApplyOutcome> {
  const { tenantId, depositId, to } = input;
  for (const from of input.allowFrom ?? []) {
    if (!canTransition(from, to) && !canResolveLate(from, to)) {
      throw new Error(`allowFrom: ${from} → ${to} is not a transition anyone may make`);
    }
  }
  const sources = [...new Set([...sourcesOf(to), ...(input.allowFrom ?? [])])];

  let read = trx
    .selectFrom("deposits")
    .select(["status", "client_id", "currency", "decimals", "credit_minor"])
    .where("id", "=", depositId)
    .where("tenant_id", "=", tenantId);
  // SQLite has one writer and this process serialises its transactions; PostgreSQL needs the lock.
  if (deps.dbKind === "postgres") read = read.forUpdate();
  const row = await read.executeTakeFirst();
  if (!row) throw new NotFoundError("Deposit");

  const now = deps.clock.now();
  const credit = to === "succeeded" ? (input.creditMinor ?? BigInt(row.credit_minor)) : undefined;
  const changed = await trx
    .updateTable("deposits")
    .set({
      status: to,
      updated_at: now,
      ...(isTerminal(to) ? { finalized_at: now } : {}),
      ...(credit !== undefined ? { credit_minor: toDbMinor(credit) } : {}),
      ...(input.paidAmountMinor !== undefined ? { paid_amount_minor: toDbMinor(input.paidAmountMinor) } : {}),
      ...(input.transactionId !== undefined ? { transaction_id: input.transactionId } : {}),
      ...(input.pspTime !== undefined ? { psp_time: input.pspTime } : {}),
      ...(to === "failed" && input.failureReason !== undefined
        ? { failure_reason: input.failureReason }
        : {}),
      // A success (e.g. a late one credited by a person) ends an earlier failure: the order no
      // longer carries it; the timeline keeps the history.
      ...(to === "succeeded" ? { failure_reason: null, failure_message: null } : {}),
    })
    .where("id", "=", depositId)
    .where("tenant_id", "=", tenantId)
    .where("status", "in", sources)
    .executeTakeFirst();

  if (Number(changed.numUpdatedRows) === 0) return classifyResult(row.status, to);

  const from = row.status;
  const statusChange = {
    kind: "status_change",
    data: { from, to, cause: input.cause },
  } as const;
  if (credit === undefined) {
    await insertDepositEvent(trx, { tenantId, depositId, now, event: statusChange });
    return { kind: "applied", from, to };
  }
  // The status change's id is taken before the credit so that it keeps its place before the
  // ledger event; both are written in one statement after the credit.
  const statusChangeId = newEventId();
  const entry = await postLedgerEntry(trx, {
    tenantId,
    clientId: row.client_id,
    currency: row.currency,
    amountMinor: credit,
    kind: "deposit",
    depositId,
    memo: `deposit (${input.cause})`,
    now,
  });
  await insertDepositEvents(trx, {
    tenantId,
    depositId,
    now,
    events: [
      { event: statusChange, id: statusChangeId },
      {
        event: {
          kind: "ledger",
          data: {
            entryId: entry.entryId,
            walletId: entry.walletId,
            amount: formatAmount(credit, row.decimals),
            currency: row.currency,
          },
        },
      },
    ],
  });
  return { kind: "applied", from, to, ledgerEntryId: entry.entryId };
}

/** Why a result does not apply to a deposit in `current` (pure). */
export function classifyResult(
  current: DepositStatus,
  to: ResultStatus,
): Exclude<ApplyOutcome, { kind: "applied" }> {
  if (current === to) return { kind: "repeat" };
  const d = decideCallback(current, to);
  return d.kind === "late" ? { kind: "late", current } : { kind: "conflict", current };
}
