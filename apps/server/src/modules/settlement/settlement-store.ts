import type { AppContext } from "../../app-context.js";
import { type Db, dialectOf, toDbMinor, writeTransaction } from "../../infra/db/database.js";
import type { DepositStatus } from "../../infra/db/schema.js";
import { keyList, perDatabase, rowsAsTable, runStatement, tableColumns } from "../../infra/db/sql-text.js";
import { type BatchWrite, isTransientConflict, runWrites } from "../../infra/db/write-batch.js";
import { isWalletCreationRace, ledgerWrites } from "../clients/ledger.js";
import { eventRowsWrite, type NewDepositEvent } from "../deposits/deposit-repo.js";
import {
  findReviewDedupeKeys,
  type ReviewClaim,
  type ReviewReason,
  reviewDedupeKey,
  reviewItemsWrite,
} from "../review/review-repo.js";
import { depositWebhook } from "../webhooks/deposit-webhook.js";
import { type NewWebhookEvent, webhookEventWrites } from "../webhooks/outbox-repo.js";
import type { DepositTransition, SettlementOrder, SettlementWrites } from "./settlement-planner.js";

/**
 * Storage of settlement: the locked read of a transaction's orders, the one guarded transition
 * of `deposits.status`, the ledger's and the records' writes, and the transaction that is run
 * again when it lost a race. Hand-written SQL: the API-2 batch is the hot path (bench B1).
 */

/** Which orders a settlement reads. */
export type OrderKeys =
  | { ids: readonly string[] }
  | { orderNos: readonly string[] }
  /** The expiry sweep: up to `limit` open orders whose `expires_at` is before `now`. */
  | { expiredBefore: number; limit: number };

/**
 * Reads orders for settlement, with each one's deposit method if it still exists and the id of
 * the client's wallet in its currency (null when it has none yet). By id or order number: in id
 * order and, on PostgreSQL, `FOR NO KEY UPDATE` of the deposits, so concurrent results for one
 * deposit queue on its row, and two transactions locking several deposits always take them in
 * the same order (then the wallets, in id order, when written), never waiting in a cycle. NO KEY
 * UPDATE: the keys never change, and foreign-key checks of rows that reference a deposit (KEY
 * SHARE) need not wait for it. The expiry sweep skips locked rows instead, so that several
 * processes sweeping at once split the work. SQLite has one writer and needs no row lock.
 */
export async function readOrders(trx: Db, by: OrderKeys): Promise<SettlementOrder[]> {
  if ("expiredBefore" in by) {
    const { rows } = await runStatement<SettlementOrder>(trx, READ_EXPIRED, [by.expiredBefore, by.limit]);
    return rows;
  }
  const byId = "ids" in by;
  const keys = [...new Set(byId ? by.ids : by.orderNos)];
  if (keys.length === 0) return [];
  const { rows } = await runStatement<SettlementOrder>(trx, byId ? READ_BY_ID : READ_BY_ORDER_NO, [
    keyList(trx, keys),
  ]);
  return rows;
}

const SELECT_ORDERS = `
  SELECT d.id, d.order_no, d.integration_id, d.tenant_id, d.client_id, d.status, d.currency,
    d.decimals, d.amount_minor, d.fee_minor, d.credit_minor, d.paid_amount_minor,
    d.fee_rule_bps, d.fee_rule_fixed_minor, d.fee_rule_max_minor,
    d.account_currency, d.account_decimals, d.fx_rate, d.fx_markup_bps, d.transaction_id, d.failure_reason,
    m.id AS live_method_id, w.id AS wallet_id
  FROM deposits d
  LEFT JOIN deposit_methods m
    ON m.id = d.method_id AND m.tenant_id = d.tenant_id AND m.deleted_at IS NULL
  LEFT JOIN wallets w
    ON w.client_id = d.client_id AND w.currency = COALESCE(d.account_currency, d.currency)
    AND w.tenant_id = d.tenant_id`;
const readBy = (key: "id" | "order_no") =>
  perDatabase({
    sqlite: `${SELECT_ORDERS} WHERE d.${key} IN (SELECT value FROM json_each(?)) ORDER BY d.id`,
    postgres: `${SELECT_ORDERS} WHERE d.${key} = any(?::text[]) ORDER BY d.id FOR NO KEY UPDATE OF d`,
  });
const READ_BY_ID = readBy("id");
const READ_BY_ORDER_NO = readBy("order_no");
const EXPIRED = `${SELECT_ORDERS} WHERE d.status IN ('pending', 'processing') AND d.expires_at < ?
  ORDER BY d.expires_at LIMIT ?`;
const READ_EXPIRED = perDatabase({
  sqlite: EXPIRED,
  postgres: `${EXPIRED} FOR NO KEY UPDATE OF d SKIP LOCKED`,
});

/** A review item a source asks for, pointing to the source's record (an API-2 log row). */
export type PlannedReview = {
  tenantId: string;
  depositId: string;
  callbackLogId: string | null;
  reason: ReviewReason;
  claim: ReviewClaim;
  /** The item's id and its `review` timeline entry's, taken where it was asked for. */
  id: string;
  eventId: string;
  now: number;
};

/** What a source of results records beside the planned changes. */
export type SettlementRecords = {
  /** The source's own rows (API-2 log rows), written before anything that points to them. */
  log?: BatchWrite;
  /** Review items, each folded into an existing one with the same dedupe key. */
  reviews?: readonly PlannedReview[];
  /** Timeline entries of the source (before the planned ones). */
  events?: readonly NewDepositEvent[];
};

/**
 * Writes a settlement in the caller's transaction, in one statement on PostgreSQL: the
 * deposits' guarded transitions, the ledger (wallets, then entries), then the records after
 * what they point to: the source's log rows, the review items that reference them, the
 * timeline; the open `needs_assistance` items of deposits that became final; last, the
 * webhook events of all of it (the outbox, modules/webhooks). A review item folds into one already stored (or asked for earlier in the same
 * settlement) with its dedupe key; only a new one gets its timeline entry. Finding those costs a
 * read, only when review items are asked for: their deposits are locked, so no other
 * transaction can add one meanwhile.
 */
export async function writeSettlement(
  trx: Db,
  planned: SettlementWrites,
  records: SettlementRecords = {},
): Promise<void> {
  const reviews = records.reviews ?? [];
  const stored = reviews.length > 0 ? await findReviewDedupeKeys(trx, reviews.map(dedupeKeyOf)) : new Set();
  const kept: PlannedReview[] = [];
  for (const r of reviews) {
    const key = dedupeKeyOf(r);
    if (stored.has(key)) continue;
    stored.add(key);
    kept.push(r);
  }
  await runWrites(trx, settlementWrites(trx, planned, { ...records, reviews: kept }));
}

const dedupeKeyOf = (r: PlannedReview) => reviewDedupeKey(r.depositId, r.reason, r.claim);

/**
 * The writes of {@link writeSettlement}, in their order, with every review item in `records`
 * taken as new.
 */
export function settlementWrites(
  db: Db,
  planned: SettlementWrites,
  records: SettlementRecords,
): BatchWrite[] {
  const reviews = records.reviews ?? [];
  const reviewEvents: NewDepositEvent[] = reviews.map((r) => ({
    tenantId: r.tenantId,
    depositId: r.depositId,
    id: r.eventId,
    now: r.now,
    event: { kind: "review", data: { reviewItemId: r.id, reason: r.reason } },
  }));
  const events = [...(records.events ?? []), ...reviewEvents, ...planned.events];
  const final = planned.transitions.filter((t) => t.status === "succeeded" || t.status === "failed");
  const webhooks = [...reviews.flatMap((r) => reviewWebhook(planned, r)), ...planned.webhooks];
  return [
    ...(planned.transitions.length > 0 ? [transitionsWrite(db, planned.transitions, planned.now)] : []),
    ...ledgerWrites(db, planned.postings),
    ...(records.log ? [records.log] : []),
    ...(reviews.length > 0
      ? [
          reviewItemsWrite(
            db,
            reviews.map((r) => ({
              id: r.id,
              tenantId: r.tenantId,
              depositId: r.depositId,
              callbackLogId: r.callbackLogId,
              reason: r.reason,
              claim: r.claim,
              now: r.now,
            })),
          ),
        ]
      : []),
    ...(events.length > 0 ? [eventRowsWrite(db, events)] : []),
    ...(final.length > 0 ? [assistanceSettledWrite(db, final, planned.now)] : []),
    ...webhookEventWrites(db, webhooks),
  ];
}

/** A new review item's webhook event (results that need a person come from API-2 or API-3 answers). */
function reviewWebhook(planned: SettlementWrites, r: PlannedReview): NewWebhookEvent[] {
  const order = planned.orders.get(r.depositId);
  if (!order) return [];
  const type = r.reason === "needs_assistance" ? "deposit.needs_assistance" : "deposit.review_required";
  return [
    depositWebhook(order, {
      type,
      previousStatus: order.status,
      cause: "callback",
      now: r.now,
      review: { itemId: r.id, reason: r.reason },
    }),
  ];
}

/**
 * THE guarded transition of `deposits.status`, of every path (callbacks, manual and review
 * decisions, cancel, the API-1 failure, the expiry sweep): one UPDATE for every changed
 * deposit, each guarded by the status it was read with. A row another process changed meanwhile
 * is not touched, and the whole settlement is refused (`concurrent_change`, runWrites).
 */
export function transitionsWrite(db: Db, transitions: readonly DepositTransition[], now: number): BatchWrite {
  const minor = (v: bigint | null) => (v === null ? null : toDbMinor(v));
  const v = rowsAsTable(
    db,
    TRANSITIONS,
    transitions.map((t) => ({
      id: t.id,
      expected: t.expected,
      status: t.status,
      finalized_at: t.finalizedAt,
      credit_minor: minor(t.creditMinor),
      fx_markup_minor: minor(t.markupMinor),
      paid_minor: minor(t.paidMinor),
      transaction_id: t.transactionId,
      psp_time: t.pspTime,
      failure_reason: t.failureReason,
      failure_message: t.failureMessage,
      clear_failure: t.clearFailure ? 1 : 0,
    })),
  );
  return {
    sql: `UPDATE deposits SET ${TRANSITION_SET} FROM ${v.sql} ${TRANSITION_WHERE}`,
    parameters: [now, ...v.parameters],
    returnsIds: transitions.map((t) => t.id),
  };
}

/**
 * A deposit that became succeeded or failed, by any path, needs no assistance any more: its open
 * `needs_assistance` items are resolved as `settled` by no one, in the same commit (the
 * transition itself ends its status-query schedule: TRANSITION_SET).
 */
function assistanceSettledWrite(db: Db, final: readonly DepositTransition[], now: number): BatchWrite {
  const ids = keyList(
    db,
    final.map((t) => t.id),
  );
  return { sql: SETTLE_ASSISTANCE[dialectOf(db)], parameters: [now, ids] };
}
const SETTLE_ASSISTANCE_SET = `UPDATE review_items SET status = 'resolved', resolution = 'settled',
  resolved_by = NULL, resolved_at = ? WHERE reason = 'needs_assistance' AND status = 'open' AND deposit_id`;
const SETTLE_ASSISTANCE = {
  sqlite: `${SETTLE_ASSISTANCE_SET} IN (SELECT value FROM json_each(?))`.replace(/\s+/g, " "),
  postgres: `${SETTLE_ASSISTANCE_SET} = any(?::text[])`.replace(/\s+/g, " "),
};

/** One deposit's transition as the UPDATE reads it (`v`). */
type TransitionRow = {
  id: string;
  expected: DepositStatus;
  status: DepositStatus;
  finalized_at: number | null;
  credit_minor: number | null;
  fx_markup_minor: number | null;
  paid_minor: number | null;
  transaction_id: string | null;
  psp_time: number | null;
  failure_reason: string | null;
  failure_message: string | null;
  clear_failure: 0 | 1;
};
const TRANSITIONS = tableColumns<TransitionRow>("v", {
  id: "text",
  expected: "text",
  status: "text",
  finalized_at: "bigint",
  credit_minor: "bigint",
  fx_markup_minor: "bigint",
  paid_minor: "bigint",
  transaction_id: "text",
  psp_time: "bigint",
  failure_reason: "text",
  failure_message: "text",
  clear_failure: "integer",
});
const TRANSITION_SET = `
  status = v.status,
  updated_at = ?,
  finalized_at = COALESCE(v.finalized_at, deposits.finalized_at),
  credit_minor = COALESCE(v.credit_minor, deposits.credit_minor),
  fx_markup_minor = COALESCE(v.fx_markup_minor, deposits.fx_markup_minor),
  paid_amount_minor = COALESCE(v.paid_minor, deposits.paid_amount_minor),
  transaction_id = COALESCE(v.transaction_id, deposits.transaction_id),
  psp_time = COALESCE(v.psp_time, deposits.psp_time),
  failure_reason = CASE WHEN v.clear_failure = 1 THEN NULL ELSE COALESCE(v.failure_reason, deposits.failure_reason) END,
  failure_message = CASE WHEN v.clear_failure = 1 THEN NULL ELSE COALESCE(v.failure_message, deposits.failure_message) END,
  status_query_due_at = CASE WHEN v.status IN ('succeeded', 'failed') THEN NULL ELSE deposits.status_query_due_at END`.replace(
  /\s+/g,
  " ",
);
const TRANSITION_WHERE = "WHERE deposits.id = v.id AND deposits.status = v.expected RETURNING deposits.id";

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
 * {@link transactionRetryingRaces} explains; `onRetry` hears of each rerun.
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
