import { formatAmount } from "@psphub/protocol";
import { sql } from "kysely";
import type { AppContext } from "../../app-context.js";
import { type Db, type DbKind, isLedgerCreditViolation, toDbMinor } from "../../infra/db/database.js";
import type { DepositStatus } from "../../infra/db/schema.js";
import { ConflictError, NotFoundError } from "../../shared/errors.js";
import { newId } from "../../shared/ids.js";
import { type LedgerPosting, postLedgerEntries } from "../clients/ledger.js";
import { insertEventRows, type NewDepositEvent } from "./deposit-repo.js";
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
  const [outcome] = await applyDepositResultsInTx(trx, deps, [input]);
  return outcome as ApplyOutcome;
}

/**
 * How the apply step reads deposits: in id order and, on PostgreSQL, `FOR NO KEY UPDATE`, so
 * that concurrent results for one deposit queue on its row, and two transactions locking
 * several deposits always take them in the same order (never waiting on each other in a
 * cycle). NO KEY UPDATE: the keys never change, and foreign-key checks of rows that reference a
 * deposit (KEY SHARE) need not wait for it. SQLite has one writer and needs no row lock.
 */
export function lockDepositsForApply<Q extends { orderBy: (c: "id") => Q; forNoKeyUpdate: () => Q }>(
  q: Q,
  kind: DbKind,
): Q {
  const ordered = q.orderBy("id");
  return kind === "postgres" ? ordered.forNoKeyUpdate() : ordered;
}

/**
 * Where a result leaves a deposit in `current` (pure): `input.to` when the state machine (or the
 * human-only `allowFrom`) allows the move, else `current` unchanged.
 */
export function statusAfter(
  current: DepositStatus,
  input: Pick<ApplyResultInput, "to" | "allowFrom">,
): DepositStatus {
  return sourcesOf(input.to).includes(current) || (input.allowFrom ?? []).includes(current)
    ? input.to
    : current;
}

/** A deposit as the apply step reads it (under its row lock on PostgreSQL). */
export type LockedDeposit = {
  id: string;
  tenant_id: string;
  status: DepositStatus;
  client_id: string;
  currency: string;
  decimals: number;
  credit_minor: number;
};

/** What one deposit's single UPDATE sets, merged over every result applied to it in the batch. */
type DepositChange = {
  id: string;
  /** The status read under the lock: the UPDATE's guard. */
  expected: DepositStatus;
  status: DepositStatus;
  finalizedAt: number | null;
  creditMinor: bigint | null;
  paidMinor: bigint | null;
  transactionId: string | null;
  pspTime: number | null;
  failureReason: string | null;
  /** A success clears an earlier failure's reason and message. */
  clearFailure: boolean;
};

/**
 * Several results in one transaction, in order, with a fixed number of statements whatever
 * their count: one read of the deposits (on PostgreSQL `FOR NO KEY UPDATE`, in id order so that
 * two batches never wait on each other in a cycle), one UPDATE of the changed deposits, one
 * wallet upsert, one ledger insert, one timeline insert. Each result is classified against the
 * deposit as the results before it in the batch left it (pure), exactly as if they had been
 * applied one by one. The API-2 callback path applies a whole batch of callbacks this way
 * (group commit); every other path passes one result.
 *
 * Throws (and the caller's transaction must roll back) when a deposit is missing, when another
 * process changed a deposit between the read and the write (possible on SQLite with several
 * processes; the guard refuses it), or when the ledger's unique index refuses a second credit.
 */
export async function applyDepositResultsInTx(
  trx: Db,
  deps: Pick<AppContext, "dbKind" | "clock">,
  inputs: readonly ApplyResultInput[],
  /**
   * The deposits as the caller already read them in this transaction, on PostgreSQL under
   * `FOR NO KEY UPDATE` in id order (see {@link lockDepositsForApply}): then they are not read again.
   */
  locked?: ReadonlyMap<string, LockedDeposit>,
): Promise<ApplyOutcome[]> {
  if (inputs.length === 0) return [];
  for (const input of inputs) {
    for (const from of input.allowFrom ?? []) {
      if (!canTransition(from, input.to) && !canResolveLate(from, input.to)) {
        throw new Error(`allowFrom: ${from} → ${input.to} is not a transition anyone may make`);
      }
    }
  }
  const found =
    locked ??
    new Map<string, LockedDeposit>(
      (
        await trx
          .selectFrom("deposits")
          .select(["id", "tenant_id", "status", "client_id", "currency", "decimals", "credit_minor"])
          .where("id", "in", [...new Set(inputs.map((i) => i.depositId))])
          .$call((q) => lockDepositsForApply(q, deps.dbKind))
          .execute()
      ).map((r) => [r.id, r]),
    );

  const now = deps.clock.now();
  const current = new Map<string, { status: DepositStatus; creditMinor: bigint }>();
  const changes = new Map<string, DepositChange>();
  const credits: (LedgerPosting & { entryId: string })[] = [];
  const ledgerEvents: { data: { walletId: string }; credit: number }[] = [];
  const events: NewDepositEvent[] = [];
  const outcomes: ApplyOutcome[] = [];

  for (const input of inputs) {
    const { tenantId, depositId, to } = input;
    const row = found.get(depositId);
    if (!row || row.tenant_id !== tenantId) throw new NotFoundError("Deposit");
    let cur = current.get(depositId);
    if (!cur) {
      cur = { status: row.status, creditMinor: BigInt(row.credit_minor) };
      current.set(depositId, cur);
    }
    if (statusAfter(cur.status, input) === cur.status) {
      outcomes.push(classifyResult(cur.status, to));
      continue;
    }
    const from = cur.status;
    const credit = to === "succeeded" ? (input.creditMinor ?? cur.creditMinor) : undefined;
    cur.status = to;
    if (credit !== undefined) cur.creditMinor = credit;

    const change: DepositChange = changes.get(depositId) ?? {
      id: depositId,
      expected: row.status,
      status: to,
      finalizedAt: null,
      creditMinor: null,
      paidMinor: null,
      transactionId: null,
      pspTime: null,
      failureReason: null,
      clearFailure: false,
    };
    change.status = to;
    if (isTerminal(to)) change.finalizedAt = now;
    if (credit !== undefined) change.creditMinor = credit;
    if (input.paidAmountMinor !== undefined) change.paidMinor = input.paidAmountMinor;
    if (input.transactionId !== undefined) change.transactionId = input.transactionId;
    if (input.pspTime !== undefined) change.pspTime = input.pspTime;
    if (to === "failed" && input.failureReason !== undefined) {
      change.failureReason = input.failureReason;
      change.clearFailure = false;
    }
    // A success (e.g. a late one credited by a person) ends an earlier failure: the order no
    // longer carries it; the timeline keeps the history.
    if (to === "succeeded") {
      change.failureReason = null;
      change.clearFailure = true;
    }
    changes.set(depositId, change);

    const at = { tenantId, depositId, now };
    events.push({ ...at, event: { kind: "status_change", data: { from, to, cause: input.cause } } });
    if (credit === undefined) {
      outcomes.push({ kind: "applied", from, to });
      continue;
    }
    const entryId = newId();
    credits.push({
      tenantId,
      clientId: row.client_id,
      currency: row.currency,
      amountMinor: credit,
      kind: "deposit",
      depositId,
      memo: `deposit (${input.cause})`,
      now,
      entryId,
    });
    // The ledger event's wallet id is known after the postings: filled in below.
    const data = {
      entryId,
      walletId: "",
      amount: formatAmount(credit, row.decimals),
      currency: row.currency,
    };
    ledgerEvents.push({ data, credit: credits.length - 1 });
    events.push({ ...at, event: { kind: "ledger", data } });
    outcomes.push({ kind: "applied", from, to, ledgerEntryId: entryId });
  }

  await updateDeposits(trx, [...changes.values()], now);
  const posted = await postLedgerEntries(trx, credits);
  for (const e of ledgerEvents) e.data.walletId = posted[e.credit]!.walletId;
  await insertEventRows(trx, events);
  return outcomes;
}

/**
 * One UPDATE for every changed deposit, each guarded by the status it was read with: a row
 * another process changed meanwhile is not touched, and the whole batch is refused.
 */
async function updateDeposits(trx: Db, changes: DepositChange[], now: number): Promise<void> {
  if (changes.length === 0) return;
  const bigint = (v: bigint | number | null) =>
    sql`CAST(${v === null ? null : toDbMinor(BigInt(v))} AS BIGINT)`;
  const rows = changes.map(
    (c) =>
      sql`(${c.id}, ${c.expected}, ${c.status}, ${bigint(c.finalizedAt)}, ${bigint(c.creditMinor)}, ${bigint(c.paidMinor)}, CAST(${c.transactionId} AS TEXT), ${bigint(c.pspTime)}, CAST(${c.failureReason} AS TEXT), CAST(${c.clearFailure ? 1 : 0} AS INTEGER))`,
  );
  const updated = await sql<{ id: string }>`
    WITH v(id, expected, status, finalized_at, credit_minor, paid_amount_minor, transaction_id, psp_time, failure_reason, clear_failure)
      AS (VALUES ${sql.join(rows)})
    UPDATE deposits SET
      status = v.status,
      updated_at = ${bigint(now)},
      finalized_at = COALESCE(v.finalized_at, deposits.finalized_at),
      credit_minor = COALESCE(v.credit_minor, deposits.credit_minor),
      paid_amount_minor = COALESCE(v.paid_amount_minor, deposits.paid_amount_minor),
      transaction_id = COALESCE(v.transaction_id, deposits.transaction_id),
      psp_time = COALESCE(v.psp_time, deposits.psp_time),
      failure_reason = CASE WHEN v.clear_failure = 1 THEN NULL ELSE COALESCE(v.failure_reason, deposits.failure_reason) END,
      failure_message = CASE WHEN v.clear_failure = 1 THEN NULL ELSE deposits.failure_message END
    FROM v
    WHERE deposits.id = v.id AND deposits.status = v.expected
    RETURNING deposits.id`.execute(trx);
  if (updated.rows.length !== changes.length) {
    throw new ConflictError("The deposit changed meanwhile; try again", "concurrent_change");
  }
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
