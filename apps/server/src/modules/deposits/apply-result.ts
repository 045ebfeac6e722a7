import { formatAmount } from "@psphub/protocol";
import type { AppContext } from "../../app-context.js";
import {
  type Db,
  dialectOf,
  isLedgerCreditViolation,
  toDbMinor,
  writeTransaction,
} from "../../infra/db/database.js";
import type { DepositStatus } from "../../infra/db/schema.js";
import { perDatabase, rowsAsTable, runStatement, tableColumns } from "../../infra/db/sql-text.js";
import { type BatchWrite, isTransientConflict, runWrites } from "../../infra/db/write-batch.js";
import { NotFoundError } from "../../shared/errors.js";
import { newId } from "../../shared/ids.js";
import { isWalletCreationRace, ledgerWrites, type PlannedPosting } from "../clients/ledger.js";
import { eventRowsWrite, type NewDepositEvent } from "./deposit-repo.js";
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

export type ApplyDeps = Pick<AppContext, "db" | "clock" | "metrics">;

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
    outcome = await transactionRetryingRaces(deps, async (trx) => {
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

/** Most runs of one transaction that lost a race another run resolves. */
export const RACE_ATTEMPTS = 3;

/**
 * A transaction that credits (or may credit) a deposit, run again, read and all, when
 * PostgreSQL rolled it back on a race that a fresh read resolves: the client's first wallet in
 * the currency created meanwhile by another transaction ({@link isWalletCreationRace}: this run
 * planned it as new; read again, it finds the other's, committed by then), or a deadlock or
 * serialization conflict ({@link isTransientConflict}). At most {@link RACE_ATTEMPTS} runs; the
 * last one's error is thrown. `fn` may run more than once: whatever it writes must be in `trx`,
 * and whatever it returns must come from its last run.
 */
export async function transactionRetryingRaces<T>(
  deps: Pick<AppContext, "db">,
  fn: (trx: Db) => Promise<T>,
): Promise<T> {
  return retryingRaces(() => writeTransaction(deps.db, fn));
}

/**
 * Runs `run` (one whole transaction) again when it failed on a race a fresh read resolves, as
 * {@link transactionRetryingRaces} explains; `onRetry` hears of each rerun. The API-2 batch uses
 * it with its own write transaction.
 */
export async function retryingRaces<T>(
  run: () => Promise<T>,
  onRetry?: (attempt: number) => void,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      if (attempt >= RACE_ATTEMPTS || !(isWalletCreationRace(err) || isTransientConflict(err))) throw err;
      onRetry?.(attempt);
    }
  }
}

/**
 * The body of {@link applyDepositResult}, for callers that must do more in the same transaction
 * (review resolution, manual approval write their audit record with it): read the deposit
 * (locked on PostgreSQL), plan, write. The API-2 path does the same for a whole batch of
 * callbacks (handle-callback.ts). The caller owns the transaction, so a ledger unique violation
 * (or a `concurrent_change` ConflictError: the deposit changed between read and write) reaches
 * it as an error: treat the former as `repeat`, and increment the credits metric after commit.
 * Run the transaction with {@link transactionRetryingRaces}: a client's first credit can race
 * another transaction creating the same wallet.
 */
export async function applyDepositResultInTx(
  trx: Db,
  deps: Pick<AppContext, "clock">,
  input: ApplyResultInput,
): Promise<ApplyOutcome> {
  const found = await readDepositsForApply(trx, { ids: [input.depositId] });
  const plan = planDepositResults(found, [input], deps.clock.now());
  await runWrites(trx, depositResultWrites(trx, plan));
  return plan.outcomes[0] as ApplyOutcome;
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
  /** The client's wallet in the deposit's currency; null until its first credit. */
  wallet_id: string | null;
};

/** What one deposit's single UPDATE sets, merged over every result applied to it in the batch. */
export type DepositChange = {
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

/** What applying a batch of results writes, planned before anything is written. */
export type DepositResultPlan = {
  outcomes: ApplyOutcome[];
  changes: DepositChange[];
  postings: PlannedPosting[];
  events: NewDepositEvent[];
  now: number;
};

/**
 * Classifies each result against the deposit as the results before it in the batch left it,
 * exactly as if they had been applied one by one, and plans the writes (pure, but for the new
 * ids it takes): one change per deposit, one ledger credit per success (into the client's
 * wallet as read, or a new one), the timeline entries. Throws when a deposit was not read or
 * belongs to another tenant, or an `allowFrom` is not a move anyone may make.
 */
export function planDepositResults(
  found: ReadonlyMap<string, LockedDeposit>,
  inputs: readonly ApplyResultInput[],
  now: number,
): DepositResultPlan {
  for (const input of inputs) {
    for (const from of input.allowFrom ?? []) {
      if (!canTransition(from, input.to) && !canResolveLate(from, input.to)) {
        throw new Error(`allowFrom: ${from} → ${input.to} is not a transition anyone may make`);
      }
    }
  }
  const current = new Map<string, { status: DepositStatus; creditMinor: bigint }>();
  const changes = new Map<string, DepositChange>();
  const credits: PlannedPosting[] = [];
  // A wallet the batch creates: one new id per (client, currency).
  const newWallets = new Map<string, string>();
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
    const walletKey = JSON.stringify([row.client_id, row.currency]);
    let walletId = row.wallet_id ?? newWallets.get(walletKey);
    if (walletId === undefined) {
      walletId = newId();
      newWallets.set(walletKey, walletId);
    }
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
      walletId,
    });
    const amount = formatAmount(credit, row.decimals);
    events.push({
      ...at,
      event: { kind: "ledger", data: { entryId, walletId, amount, currency: row.currency } },
    });
    outcomes.push({ kind: "applied", from, to, ledgerEntryId: entryId });
  }

  return {
    outcomes,
    changes: [...changes.values()],
    postings: credits,
    events,
    now,
  };
}

/**
 * The writes of a plan, for {@link runWrites} (which makes them one statement on PostgreSQL):
 * the deposits' UPDATE (each guarded by the status it was read with), the ledger's (wallets,
 * then entries), the timeline's, with `moreEvents` (the caller's own timeline entries) in the
 * same insert. Callers may add their own writes to the same list.
 */
export function depositResultWrites(
  db: Db,
  plan: DepositResultPlan,
  moreEvents: readonly NewDepositEvent[] = [],
): BatchWrite[] {
  const events = moreEvents.length > 0 ? [...moreEvents, ...plan.events] : plan.events;
  return [
    ...(plan.changes.length > 0 ? [updateDeposits(db, plan.changes, plan.now)] : []),
    ...ledgerWrites(db, plan.postings),
    ...(events.length > 0 ? [eventRowsWrite(db, events)] : []),
  ];
}

/**
 * Reads deposits for the apply step, with the id of the client's wallet in the deposit's
 * currency (null when it has none yet): by id, or (API-2) by order number with each order's
 * deposit method if it still exists. In id order and, on PostgreSQL, `FOR NO KEY UPDATE` of
 * the deposits: concurrent results for one deposit queue on its row, and two transactions
 * locking several deposits always take them in the same order (then the wallets, in id order,
 * when written), never waiting on each other in a cycle. NO KEY UPDATE: the keys never change,
 * and foreign-key checks of rows that reference a deposit (KEY SHARE) need not wait for it.
 * SQLite has one writer and needs no row lock.
 */
export async function readDepositsForApply(
  trx: Db,
  by: { ids: readonly string[] } | { orderNos: readonly string[] },
): Promise<Map<string, LockedDeposit & OrderFacts>> {
  const byId = "ids" in by;
  const keys = [...new Set(byId ? by.ids : by.orderNos)];
  if (keys.length === 0) return new Map();
  // One text whatever the number of keys: a JSON array on SQLite, an array on PostgreSQL.
  const { rows } = await runStatement<LockedDeposit & OrderFacts>(trx, byId ? READ_BY_ID : READ_BY_ORDER_NO, [
    dialectOf(trx) === "sqlite" ? JSON.stringify(keys) : keys,
  ]);
  return new Map(rows.map((r) => [byId ? r.id : r.order_no, r]));
}

const readBy = (key: "id" | "order_no") => {
  const select = `
    SELECT d.id, d.order_no, d.integration_id, d.tenant_id, d.client_id, d.status, d.currency,
      d.decimals, d.amount_minor, d.fee_minor, d.credit_minor, d.paid_amount_minor,
      d.fee_rule_bps, d.fee_rule_fixed_minor, d.fee_rule_max_minor,
      m.id AS live_method_id, w.id AS wallet_id
    FROM deposits d
    LEFT JOIN deposit_methods m
      ON m.id = d.method_id AND m.tenant_id = d.tenant_id AND m.deleted_at IS NULL
    LEFT JOIN wallets w
      ON w.client_id = d.client_id AND w.currency = d.currency AND w.tenant_id = d.tenant_id`;
  return perDatabase({
    sqlite: `${select} WHERE d.${key} IN (SELECT value FROM json_each(?)) ORDER BY d.id`,
    postgres: `${select} WHERE d.${key} = any(?::text[]) ORDER BY d.id FOR NO KEY UPDATE OF d`,
  });
};
const READ_BY_ID = readBy("id");
const READ_BY_ORDER_NO = readBy("order_no");

/** What the API-2 checks read of an order beside what the apply step needs. */
export type OrderFacts = {
  order_no: string;
  integration_id: string;
  amount_minor: number;
  fee_minor: number;
  /** What the PSP reported as paid (set with the result that reported it). */
  paid_amount_minor: number | null;
  /** The fee rule kept with the order when it was created (paid-credit.ts). */
  fee_rule_bps: number;
  fee_rule_fixed_minor: number;
  fee_rule_max_minor: number | null;
  /** The order's deposit method, unless it was deleted since. */
  live_method_id: string | null;
};

/**
 * One UPDATE for every changed deposit, each guarded by the status it was read with: a row
 * another process changed meanwhile is not touched, and the whole batch is refused.
 */
function updateDeposits(db: Db, changes: DepositChange[], now: number): BatchWrite {
  const minor = (v: bigint | null) => (v === null ? null : toDbMinor(v));
  const v = rowsAsTable(
    db,
    CHANGES,
    changes.map((c) => ({
      id: c.id,
      expected: c.expected,
      status: c.status,
      finalized_at: c.finalizedAt,
      credit_minor: minor(c.creditMinor),
      paid_minor: minor(c.paidMinor),
      transaction_id: c.transactionId,
      psp_time: c.pspTime,
      failure_reason: c.failureReason,
      clear_failure: c.clearFailure ? 1 : 0,
    })),
  );
  return {
    sql: `UPDATE deposits SET ${CHANGE_SET} FROM ${v.sql} ${CHANGE_WHERE}`,
    parameters: [now, ...v.parameters],
    returnsIds: changes.map((c) => c.id),
  };
}

/** One deposit's change as the UPDATE reads it (`v`). */
type ChangeRow = {
  id: string;
  expected: DepositStatus;
  status: DepositStatus;
  finalized_at: number | null;
  credit_minor: number | null;
  paid_minor: number | null;
  transaction_id: string | null;
  psp_time: number | null;
  failure_reason: string | null;
  clear_failure: 0 | 1;
};
const CHANGES = tableColumns<ChangeRow>("v", {
  id: "text",
  expected: "text",
  status: "text",
  finalized_at: "bigint",
  credit_minor: "bigint",
  paid_minor: "bigint",
  transaction_id: "text",
  psp_time: "bigint",
  failure_reason: "text",
  clear_failure: "integer",
});
const CHANGE_SET = `
  status = v.status,
  updated_at = ?,
  finalized_at = COALESCE(v.finalized_at, deposits.finalized_at),
  credit_minor = COALESCE(v.credit_minor, deposits.credit_minor),
  paid_amount_minor = COALESCE(v.paid_minor, deposits.paid_amount_minor),
  transaction_id = COALESCE(v.transaction_id, deposits.transaction_id),
  psp_time = COALESCE(v.psp_time, deposits.psp_time),
  failure_reason = CASE WHEN v.clear_failure = 1 THEN NULL ELSE COALESCE(v.failure_reason, deposits.failure_reason) END,
  failure_message = CASE WHEN v.clear_failure = 1 THEN NULL ELSE deposits.failure_message END`.replace(
  /\s+/g,
  " ",
);
const CHANGE_WHERE = "WHERE deposits.id = v.id AND deposits.status = v.expected RETURNING deposits.id";

/** Why a result does not apply to a deposit in `current` (pure). */
export function classifyResult(
  current: DepositStatus,
  to: ResultStatus,
): Exclude<ApplyOutcome, { kind: "applied" }> {
  if (current === to) return { kind: "repeat" };
  const d = decideCallback(current, to);
  return d.kind === "late" ? { kind: "late", current } : { kind: "conflict", current };
}
