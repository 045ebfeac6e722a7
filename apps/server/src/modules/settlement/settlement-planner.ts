import { formatAmount } from "@psphub/protocol";
import { newId } from "../../common/ids.js";
import type { DepositStatus } from "../../infra/db/schema.js";
import type { PlannedPosting } from "../clients/ledger.js";
import type { NewDepositEvent } from "../deposits/deposit-repo.js";
import {
  canResolveLate,
  canTransition,
  decideCallback,
  isTerminal,
  sourcesOf,
} from "../deposits/deposit-state.js";
import { depositWebhook, STATUS_EVENT } from "../webhooks/deposit-webhook.js";
import type { NewWebhookEvent } from "../webhooks/outbox-repo.js";

/** What a PSP can report of a payment (API-2 callback, API-3 status query). */
export type ResultStatus = "succeeded" | "failed" | "processing";

/** Every status a result or transition may move a deposit to. */
export type SettlementTarget = ResultStatus | "expired" | "cancelled";

/** Who or what moved the deposit: kept on its `status_change` timeline entry. */
export type SettlementCause =
  | "callback"
  | "status_query"
  | "manual"
  | "review"
  | "cancel"
  | "api1"
  | "expiry";

/**
 * One result (a PSP's report, a person's decision) or transition (cancel, expiry, API-1 failure)
 * of one deposit, as the planner applies it.
 */
export type SettlementResult = {
  tenantId: string;
  depositId: string;
  to: SettlementTarget;
  cause: SettlementCause;
  /**
   * The amount to credit on success, in the order's credit currency (a quote's account
   * currency); the order's `credit_minor` when omitted.
   */
  creditMinor?: bigint;
  /** With `creditMinor` of an order with a quote: what the markup kept of that credit. */
  markupMinor?: bigint;
  /** What the PSP reports as paid, kept beside the ordered amount. */
  paidAmountMinor?: bigint;
  transactionId?: string;
  /** The PSP's completion time (API-2 `time`), Unix ms. */
  pspTime?: number;
  /** Kept on a failed order for the admin (`failure_reason`) and the client (`failure_message`). */
  failureReason?: string;
  failureMessage?: string;
  /**
   * Narrows the state machine's sources: the API-1 failure fails an order only while it is
   * still `pending` (a callback that raced ahead to processing keeps the order).
   */
  onlyFrom?: readonly DepositStatus[];
  /**
   * Extra source statuses beyond the state machine's. Only a human resolving a review item
   * passes these, and only ones `canResolveLate` allows (expired/cancelled/failed → succeeded).
   */
  allowFrom?: readonly DepositStatus[];
};

export type SettlementOutcome =
  | { kind: "applied"; from: DepositStatus; to: SettlementTarget; ledgerEntryId?: string }
  /** The deposit is already where this result would take it: nothing changed. */
  | { kind: "repeat" }
  /** The result contradicts the deposit's status: nothing changed. */
  | { kind: "conflict"; current: DepositStatus }
  /** A success for an expired or cancelled deposit: nothing changed, keep it for review. */
  | { kind: "late"; current: DepositStatus }
  /** No such deposit was read, or it belongs to another tenant: nothing changed. */
  | { kind: "unknown" };

/** A deposit as the settlement reads it (under its row lock on PostgreSQL). */
export type SettlementOrder = {
  id: string;
  order_no: string;
  tenant_id: string;
  integration_id: string;
  client_id: string;
  status: DepositStatus;
  currency: string;
  decimals: number;
  amount_minor: number;
  fee_minor: number;
  credit_minor: number;
  /** What the PSP reported as paid (set with the result that reported it). */
  paid_amount_minor: number | null;
  /** The fee rule kept with the order when it was created (paid-credit.ts). */
  fee_rule_bps: number;
  fee_rule_fixed_minor: number;
  fee_rule_max_minor: number | null;
  /** The order's deposit method, unless it was deleted since. */
  live_method_id: string | null;
  /** The quote locked on the order (all null without one): the credit is in `account_currency`. */
  account_currency: string | null;
  account_decimals: number | null;
  fx_rate: string | null;
  fx_markup_bps: number | null;
  transaction_id: string | null;
  failure_reason: string | null;
  /** The client's wallet in the credit currency (the account currency, else the deposit's); null until its first credit. */
  wallet_id: string | null;
};

/** What one deposit's single guarded UPDATE sets, merged over every result applied to it. */
export type DepositTransition = {
  id: string;
  /** The status read under the lock: the UPDATE's guard. */
  expected: DepositStatus;
  status: DepositStatus;
  finalizedAt: number | null;
  creditMinor: bigint | null;
  /** What the markup kept of the credit (an order with a quote). */
  markupMinor: bigint | null;
  paidMinor: bigint | null;
  transactionId: string | null;
  pspTime: number | null;
  failureReason: string | null;
  failureMessage: string | null;
  /** A success clears an earlier failure's reason and message. */
  clearFailure: boolean;
};

/** The changes a settlement plans, as data: the store turns them into SQL. */
export type SettlementWrites = {
  transitions: DepositTransition[];
  /** One credit per success, into the client's wallet as read or one planned as new. */
  postings: PlannedPosting[];
  /** The `status_change` and `ledger` timeline entries, in the order they happened. */
  events: NewDepositEvent[];
  /** The outbound webhook events of those changes (modules/webhooks), in the same order. */
  webhooks: NewWebhookEvent[];
  /** Every order read, as the results left it (what review items' webhook events report). */
  orders: ReadonlyMap<string, SettlementOrder>;
  now: number;
};

export type SettlementPlanner = {
  /** The time of every change planned (`updated_at`, `finalized_at`, the timeline). */
  now: number;
  /** Every order read, in the order read. */
  all(): SettlementOrder[];
  /** The order read with this id or order number (as read; see {@link current}). */
  find(key: { id: string } | { orderNo: string }): SettlementOrder | undefined;
  /** The order as the results applied so far left it: status, paid amount, credit. */
  current(order: { id: string }): SettlementOrder | undefined;
  statusOf(order: { id: string }): DepositStatus | undefined;
  /**
   * Classifies `result` against its order as the earlier results left it, exactly as if they had
   * been applied one by one, and plans its changes when it applies.
   */
  apply(result: SettlementResult): SettlementOutcome;
  /** Everything planned so far. */
  writes(): SettlementWrites;
};

/**
 * The settlement planner over the orders read for one transaction (pure, but for the new ids
 * it takes): results are applied one at a time; the writes are one transition per deposit, one
 * ledger credit per success, and their timeline entries. Throws only on a programming error
 * (an `allowFrom` that is not a move anyone may make).
 */
export function planSettlement(orders: Iterable<SettlementOrder>, now: number): SettlementPlanner {
  const byId = new Map<string, SettlementOrder>();
  const byOrderNo = new Map<string, SettlementOrder>();
  for (const o of orders) {
    byId.set(o.id, o);
    byOrderNo.set(o.order_no, o);
  }
  const left = new Map<string, SettlementOrder>();
  const transitions = new Map<string, DepositTransition>();
  const postings: PlannedPosting[] = [];
  // A wallet the settlement creates: one new id per (client, currency).
  const newWallets = new Map<string, string>();
  const events: NewDepositEvent[] = [];
  const webhooks: NewWebhookEvent[] = [];

  const current = ({ id }: { id: string }) => left.get(id) ?? byId.get(id);

  function apply(result: SettlementResult): SettlementOutcome {
    for (const from of result.allowFrom ?? []) {
      if (!canTransition(from, result.to) && !canResolveLate(from, result.to)) {
        throw new Error(`allowFrom: ${from} → ${result.to} is not a transition anyone may make`);
      }
    }
    const { tenantId, depositId, to } = result;
    const read = byId.get(depositId);
    if (!read || read.tenant_id !== tenantId) return { kind: "unknown" };
    const cur = current(read) as SettlementOrder;
    const from = cur.status;
    if (statusAfter(from, result) === from) return classifyResult(from, to);

    const credit = to === "succeeded" ? (result.creditMinor ?? BigInt(cur.credit_minor)) : undefined;
    const paid = result.paidAmountMinor;
    const after: SettlementOrder = {
      ...cur,
      status: to,
      ...(credit !== undefined ? { credit_minor: Number(credit) } : {}),
      ...(paid !== undefined ? { paid_amount_minor: Number(paid) } : {}),
      ...(result.transactionId !== undefined ? { transaction_id: result.transactionId } : {}),
      ...(to === "failed" && result.failureReason !== undefined
        ? { failure_reason: result.failureReason }
        : {}),
    };
    left.set(depositId, after);

    const t: DepositTransition = transitions.get(depositId) ?? {
      id: depositId,
      expected: read.status,
      status: to,
      finalizedAt: null,
      creditMinor: null,
      markupMinor: null,
      paidMinor: null,
      transactionId: null,
      pspTime: null,
      failureReason: null,
      failureMessage: null,
      clearFailure: false,
    };
    t.status = to;
    if (isTerminal(to)) t.finalizedAt = now;
    if (credit !== undefined) t.creditMinor = credit;
    if (credit !== undefined && result.markupMinor !== undefined) t.markupMinor = result.markupMinor;
    if (paid !== undefined) t.paidMinor = paid;
    if (result.transactionId !== undefined) t.transactionId = result.transactionId;
    if (result.pspTime !== undefined) t.pspTime = result.pspTime;
    if (to === "failed" && (result.failureReason !== undefined || result.failureMessage !== undefined)) {
      t.failureReason = result.failureReason ?? null;
      t.failureMessage = result.failureMessage ?? null;
      t.clearFailure = false;
    }
    // A success (e.g. a late one credited by a person) ends an earlier failure: the order no
    // longer carries it; the timeline keeps the history.
    if (to === "succeeded") {
      t.failureReason = null;
      t.failureMessage = null;
      t.clearFailure = true;
    }
    transitions.set(depositId, t);

    const at = { tenantId, depositId, now };
    events.push({ ...at, event: { kind: "status_change", data: { from, to, cause: result.cause } } });
    const type = STATUS_EVENT[to];
    if (type) webhooks.push(depositWebhook(after, { type, previousStatus: from, cause: result.cause, now }));
    if (credit === undefined) return { kind: "applied", from, to };

    const entryId = newId();
    // The wallet credited is the credit currency's: a quote's account currency, in its decimals.
    const currency = read.account_currency ?? read.currency;
    const decimals = read.account_decimals ?? read.decimals;
    const walletKey = JSON.stringify([read.client_id, currency]);
    let walletId = read.wallet_id ?? newWallets.get(walletKey);
    if (walletId === undefined) {
      walletId = newId();
      newWallets.set(walletKey, walletId);
    }
    postings.push({
      tenantId,
      clientId: read.client_id,
      currency,
      amountMinor: credit,
      kind: "deposit",
      depositId,
      memo: `deposit (${result.cause})`,
      now,
      entryId,
      walletId,
    });
    const amount = formatAmount(credit, decimals);
    events.push({
      ...at,
      event: { kind: "ledger", data: { entryId, walletId, amount, currency } },
    });
    webhooks.push(
      depositWebhook(after, {
        type: "wallet.credited",
        previousStatus: from,
        cause: result.cause,
        now,
        credit: { walletId, ledgerEntryId: entryId, amountMinor: credit },
      }),
    );
    return { kind: "applied", from, to, ledgerEntryId: entryId };
  }

  return {
    now,
    all: () => [...byId.values()],
    find: (key) => ("id" in key ? byId.get(key.id) : byOrderNo.get(key.orderNo)),
    current,
    statusOf: (order) => current(order)?.status,
    apply,
    writes: () => ({
      transitions: [...transitions.values()].map((t) => ({ ...t })),
      postings: [...postings],
      events: [...events],
      webhooks: [...webhooks],
      orders: new Map([...byId.values()].map((o) => [o.id, current(o) as SettlementOrder])),
      now,
    }),
  };
}

/**
 * Where a result leaves a deposit in `current` (pure): `result.to` when the state machine
 * (narrowed by `onlyFrom`, widened by the human-only `allowFrom`) allows the move, else
 * `current` unchanged.
 */
export function statusAfter(
  current: DepositStatus,
  result: Pick<SettlementResult, "to" | "onlyFrom" | "allowFrom">,
): DepositStatus {
  const machine = sourcesOf(result.to).includes(current) && (result.onlyFrom ?? [current]).includes(current);
  return machine || (result.allowFrom ?? []).includes(current) ? result.to : current;
}

/** Why a result does not apply to a deposit in `current` (pure). */
export function classifyResult(
  current: DepositStatus,
  to: SettlementTarget,
): Extract<SettlementOutcome, { kind: "repeat" | "conflict" | "late" }> {
  if (current === to) return { kind: "repeat" };
  const d = decideCallback(current, to);
  return d.kind === "late" ? { kind: "late", current } : { kind: "conflict", current };
}
