import type { AppContext } from "../../app-context.js";
import type { Db } from "../../infra/db/database.js";
import {
  planSettlement,
  type SettlementOutcome,
  type SettlementPlanner,
  type SettlementResult,
} from "./settlement-planner.js";
import { type OrderKeys, readOrders, type SettlementRecords, writeSettlement } from "./settlement-store.js";

/**
 * THE way a deposit's status changes and a deposit is credited, from every path: API-2
 * callbacks (a batch of them), manual approve and reject, review resolution, cancel, the API-1
 * failure, the expiry sweep (docs/failure-modes.md#failure-mode-1). A source of results (API-2 today, the API-3
 * status query next) submits them through {@link settle} with its `cause`, judging each against
 * the order as the earlier ones left it.
 *
 * In the caller's transaction: one read of the orders (locked on PostgreSQL,
 * settlement-store.ts), the results applied one by one by the pure planner, then every write in
 * one batch (one statement on PostgreSQL). Exactly once: the row lock (PostgreSQL) or the single
 * writer (SQLite) serialises results for a deposit; the transition's status guard refuses a
 * deposit changed since it was read (`concurrent_change`); the unique index
 * `ledger_one_credit_per_deposit` refuses a second credit (docs/failure-modes.md#failure-mode-2). Either of the last two
 * rolls the caller's transaction back: a ledger violation means "already credited" (a repeat).
 * Run the transaction with `transactionRetryingRaces` when it may credit: a client's first
 * credit can race another transaction creating the same wallet.
 */
export async function settle<T>(
  trx: Db,
  deps: Pick<AppContext, "clock">,
  keys: OrderKeys,
  decide: (planner: SettlementPlanner) => { value: T; records?: SettlementRecords },
): Promise<{ value: T; credits: number }> {
  const orders = await readOrders(trx, keys);
  const planner = planSettlement(orders, deps.clock.now());
  const { value, records } = decide(planner);
  const planned = planner.writes();
  await writeSettlement(trx, planned, records);
  return { value, credits: planned.postings.length };
}

/** {@link settle} of one result of one deposit, by id; the caller counts its credit after commit. */
export async function settleResult(
  trx: Db,
  deps: Pick<AppContext, "clock">,
  result: SettlementResult,
): Promise<SettlementOutcome> {
  const { value } = await settle(trx, deps, { ids: [result.depositId] }, (planner) => ({
    value: planner.apply(result),
  }));
  return value;
}
