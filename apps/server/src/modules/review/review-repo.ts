import { formatAmount } from "@psphub/protocol";
import { type Db, decodeJson, encodeJson } from "../../infra/db/database.js";
import type { DepositStatus, ReviewItemsTable } from "../../infra/db/schema.js";
import { insertRows, keyList, perDatabase, runStatement, tableColumns } from "../../infra/db/sql-text.js";
import type { BatchWrite } from "../../infra/db/write-batch.js";
import { creditForPaid, orderAmounts } from "../deposits/paid-credit.js";
import { fourEyesLimitsOf, needsSecondApprover } from "../tenants/four-eyes.js";

/**
 * Why a deposit waits for a human: a callback's success after expiry/cancel, a contradiction, an
 * amount; or an API-3 schedule that ended without a final status (`needs_assistance`).
 */
export type ReviewReason = "late_success" | "conflict" | "amount_mismatch" | "needs_assistance";
export const REVIEW_REASONS: readonly ReviewReason[] = [
  "late_success",
  "conflict",
  "amount_mismatch",
  "needs_assistance",
];

/**
 * Why the status-query schedule left an order unresolved (review_items.data of a
 * `needs_assistance` item): the backend still reports it open, does not know it, or never
 * answered usably.
 */
export type AssistanceClaim = {
  why: "still_open" | "not_found" | "query_failed";
  /** Queries made by the schedule that ended. */
  queries: number;
  /** The last query's outcome, for the admin (e.g. `timeout`, `http_status_502`, `processing`). */
  lastOutcome: string | null;
  /** The deposit's status when it was flagged. */
  depositStatus: DepositStatus;
};

/**
 * A first admin's credit awaiting a second (four eyes), kept in the item's data beside the
 * claim so the approver credits exactly what was asked: minor units as text.
 */
export type CreditRequest = { paidMinor: string | null; creditMinor: string };

/** review_items.data of a `needs_assistance` item, once a credit may have been requested. */
export type AssistanceData = AssistanceClaim & { creditRequest?: CreditRequest };

/** What the callback behind a review item claimed (review_items.data); minor units as text. */
export type ReviewClaim = {
  /** API-2 status: 1 success, 0 failure. */
  status: number;
  /** The amount exactly as the PSP sent it. */
  amount: string;
  paidMinor: string;
  /**
   * The credit as judged when the callback arrived, kept as history. Resolving with `credit`
   * computes it again from `paidMinor` and the order's stored fee rule (resolve-review.ts).
   */
  creditMinor: string;
  transactionId: string | null;
  time: number | null;
  /** The deposit's status when the callback arrived. */
  depositStatus: DepositStatus;
};

/** One open item per deposit, reason, claimed status and amount: retried callbacks fold in. */
export const reviewDedupeKey = (depositId: string, reason: ReviewReason, claim: ReviewClaim): string =>
  `${depositId}:${reason}:${claim.status}:${claim.paidMinor}`;

/** A review item to store (insert-or-ignore on its dedupe key). */
export type NewReviewItem = {
  id: string;
  tenantId: string;
  depositId: string;
  callbackLogId: string | null;
  reason: ReviewReason;
  claim: ReviewClaim;
  now: number;
};

/**
 * Review items as hand-written SQL for a batch of writes (write-batch.ts), insert-or-ignore on
 * their dedupe keys (docs/failure-modes.md#failure-mode-3: concurrent identical callbacks never raise constraint
 * errors). Written with the callback log rows they point to, never in a transaction that a
 * refused duplicate rolls back (docs/failure-modes.md#failure-mode-4).
 */
export function reviewItemsWrite(db: Db, items: readonly NewReviewItem[]): BatchWrite {
  return insertRows(
    db,
    REVIEW_ITEMS,
    items.map((item) => ({
      id: item.id,
      tenant_id: item.tenantId,
      deposit_id: item.depositId,
      callback_log_id: item.callbackLogId,
      reason: item.reason,
      dedupe_key: reviewDedupeKey(item.depositId, item.reason, item.claim),
      status: "open" as const,
      resolution: null,
      resolved_by: null,
      comment: null,
      data: encodeJson(item.claim),
      created_at: item.now,
      resolved_at: null,
      approval_requested_by: null,
      approval_requested_at: null,
      approval_comment: null,
    })),
    { tail: "ON CONFLICT (dedupe_key) DO NOTHING" },
  );
}

const REVIEW_ITEMS = tableColumns<ReviewItemsTable>("review_items", {
  id: "text",
  tenant_id: "text",
  deposit_id: "text",
  callback_log_id: "text",
  reason: "text",
  dedupe_key: "text",
  status: "text",
  resolution: "text",
  resolved_by: "text",
  comment: "text",
  data: "text",
  created_at: "bigint",
  resolved_at: "bigint",
  approval_requested_by: "text",
  approval_requested_at: "bigint",
  approval_comment: "text",
});

/** Which of these dedupe keys a stored review item (open or resolved) already has. */
export async function findReviewDedupeKeys(db: Db, keys: readonly string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const { rows } = await runStatement<{ dedupe_key: string }>(db, READ_DEDUPE_KEYS, [keyList(db, keys)]);
  return new Set(rows.map((r) => r.dedupe_key));
}

const READ_DEDUPE_KEYS = perDatabase({
  sqlite: "SELECT dedupe_key FROM review_items WHERE dedupe_key IN (SELECT value FROM json_each(?))",
  postgres: "SELECT dedupe_key FROM review_items WHERE dedupe_key = any(?::text[])",
});

export type ReviewItemView = {
  id: string;
  reason: string;
  status: ReviewItemsTable["status"];
  resolution: string | null;
  resolvedBy: string | null;
  comment: string | null;
  callbackLogId: string | null;
  createdAt: number;
  resolvedAt: number | null;
  deposit: {
    id: string;
    orderNo: string;
    status: DepositStatus;
    currency: string;
    amount: string;
    fee: string;
    /** In `creditCurrency`. */
    credit: string;
    creditCurrency: string;
    paidAmount: string | null;
    integrationId: string;
  };
  client: { id: string; name: string; email: string };
  /**
   * What the callback reported, and what crediting it would credit (fee on the paid amount);
   * null for a needs-assistance item, which no callback reported.
   */
  claim: {
    status: number;
    amount: string;
    paidAmount: string;
    fee: string;
    credit: string;
    transactionId: string | null;
    time: number | null;
  } | null;
  /** Why the status queries left the order unresolved; null for other reasons. */
  assistance: {
    why: AssistanceClaim["why"];
    queries: number;
    lastOutcome: string | null;
    depositStatus: DepositStatus;
    /** The tenant's four-eyes limit in the order's currency; null: every credit needs two admins. */
    fourEyesLimit: string | null;
    /** Whether crediting the order's credit amount needs a second admin. */
    creditNeedsApproval: boolean;
  } | null;
  /** A credit one admin asked for, awaiting a second admin's approval. */
  approval: {
    requestedBy: { id: string; name: string };
    requestedAt: number;
    comment: string;
    paidAmount: string | null;
    credit: string;
  } | null;
};

function reviewQuery(db: Db, tenantId: string) {
  return db
    .selectFrom("review_items as r")
    .innerJoin("deposits as d", (j) =>
      j.onRef("d.id", "=", "r.deposit_id").onRef("d.tenant_id", "=", "r.tenant_id"),
    )
    .innerJoin("clients as c", (j) =>
      j.onRef("c.id", "=", "d.client_id").onRef("c.tenant_id", "=", "d.tenant_id"),
    )
    .innerJoin("tenants as t", "t.id", "r.tenant_id")
    .leftJoin("users as u", (j) =>
      j.onRef("u.id", "=", "r.approval_requested_by").onRef("u.tenant_id", "=", "r.tenant_id"),
    )
    .where("r.tenant_id", "=", tenantId);
}

const VIEW_COLUMNS = [
  "r.id",
  "r.reason",
  "r.status",
  "r.resolution",
  "r.resolved_by",
  "r.comment",
  "r.callback_log_id",
  "r.data",
  "r.created_at",
  "r.resolved_at",
  "d.id as deposit_id",
  "d.order_no",
  "d.status as deposit_status",
  "d.currency",
  "d.decimals",
  "d.amount_minor",
  "d.fee_minor",
  "d.credit_minor",
  "d.fee_rule_bps",
  "d.fee_rule_fixed_minor",
  "d.fee_rule_max_minor",
  "d.account_currency",
  "d.account_decimals",
  "d.fx_rate",
  "d.fx_markup_bps",
  "d.paid_amount_minor",
  "d.integration_id",
  "c.id as client_id",
  "c.name as client_name",
  "c.email as client_email",
  "t.four_eyes_limits",
  "r.approval_requested_by",
  "r.approval_requested_at",
  "r.approval_comment",
  "u.name as approval_requested_by_name",
] as const;

type ViewRow = {
  id: string;
  reason: string;
  status: ReviewItemsTable["status"];
  resolution: string | null;
  resolved_by: string | null;
  comment: string | null;
  callback_log_id: string | null;
  data: string;
  created_at: number;
  resolved_at: number | null;
  deposit_id: string;
  order_no: string;
  deposit_status: DepositStatus;
  currency: string;
  decimals: number;
  amount_minor: number;
  fee_minor: number;
  credit_minor: number;
  fee_rule_bps: number;
  fee_rule_fixed_minor: number;
  fee_rule_max_minor: number | null;
  account_currency: string | null;
  account_decimals: number | null;
  fx_rate: string | null;
  fx_markup_bps: number | null;
  paid_amount_minor: number | null;
  integration_id: string;
  client_id: string;
  client_name: string;
  client_email: string;
  four_eyes_limits: string | null;
  approval_requested_by: string | null;
  approval_requested_at: number | null;
  approval_comment: string | null;
  approval_requested_by_name: string | null;
};

function toView(r: ViewRow): ReviewItemView {
  const money = (minor: number | string | bigint) => formatAmount(BigInt(minor), r.decimals);
  // Credits count in the credit currency: a quote's account currency, else the order's.
  const creditMoney = (minor: number | string | bigint) =>
    formatAmount(BigInt(minor), r.account_decimals ?? r.decimals);
  const assisting = r.reason === "needs_assistance";
  return {
    id: r.id,
    reason: r.reason,
    status: r.status,
    resolution: r.resolution,
    resolvedBy: r.resolved_by,
    comment: r.comment,
    callbackLogId: r.callback_log_id,
    createdAt: r.created_at,
    resolvedAt: r.resolved_at,
    deposit: {
      id: r.deposit_id,
      orderNo: r.order_no,
      status: r.deposit_status,
      currency: r.currency,
      amount: money(r.amount_minor),
      fee: money(r.fee_minor),
      credit: creditMoney(r.credit_minor),
      creditCurrency: r.account_currency ?? r.currency,
      paidAmount: r.paid_amount_minor === null ? null : money(r.paid_amount_minor),
      integrationId: r.integration_id,
    },
    client: { id: r.client_id, name: r.client_name, email: r.client_email },
    claim: assisting ? null : claimView(r, money, creditMoney),
    assistance: assisting ? assistanceView(r) : null,
    approval: approvalView(r, money, creditMoney),
  };
}

function claimView(
  r: ViewRow,
  money: (minor: string | bigint) => string,
  creditMoney: (minor: string | bigint) => string,
): ReviewItemView["claim"] {
  const claim = decodeJson<ReviewClaim>(r.data, {} as ReviewClaim);
  // As resolve-review.ts credits it: from the paid amount and the order's stored fee rule.
  const paid = creditForPaid(BigInt(claim.paidMinor ?? 0), orderAmounts(r));
  return {
    status: claim.status,
    amount: claim.amount,
    paidAmount: money(claim.paidMinor ?? 0n),
    fee: money(paid.feeMinor),
    credit: creditMoney(paid.creditMinor),
    transactionId: claim.transactionId,
    time: claim.time,
  };
}

function assistanceView(r: ViewRow): ReviewItemView["assistance"] {
  const data = decodeJson<Partial<AssistanceClaim>>(r.data, {});
  const limits = fourEyesLimitsOf(r.four_eyes_limits);
  return {
    why: data.why ?? "still_open",
    queries: data.queries ?? 0,
    lastOutcome: data.lastOutcome ?? null,
    depositStatus: data.depositStatus ?? r.deposit_status,
    // The limit is the credited currency's (docs/exchange-rates.md#four-eyes).
    fourEyesLimit: limits[r.account_currency ?? r.currency] ?? null,
    creditNeedsApproval: needsSecondApprover(
      limits,
      r.account_currency ?? r.currency,
      BigInt(r.credit_minor),
      r.account_decimals ?? r.decimals,
    ),
  };
}

function approvalView(
  r: ViewRow,
  money: (minor: string | bigint) => string,
  creditMoney: (minor: string | bigint) => string,
): ReviewItemView["approval"] {
  if (r.approval_requested_by === null || r.approval_requested_at === null) return null;
  const request = decodeJson<AssistanceData>(r.data, {} as AssistanceData).creditRequest;
  return {
    requestedBy: {
      id: r.approval_requested_by,
      name: r.approval_requested_by_name ?? r.approval_requested_by,
    },
    requestedAt: r.approval_requested_at,
    comment: r.approval_comment ?? "",
    paidAmount: request?.paidMinor == null ? null : money(request.paidMinor),
    credit: creditMoney(request?.creditMinor ?? r.credit_minor.toString()),
  };
}

export async function listReviewItems(
  db: Db,
  tenantId: string,
  f: { status?: "open" | "resolved"; reason?: string; limit: number; offset: number },
): Promise<{ items: ReviewItemView[]; total: number; counts: Record<string, number> }> {
  let q = reviewQuery(db, tenantId);
  if (f.status) q = q.where("r.status", "=", f.status);
  if (f.reason) q = q.where("r.reason", "=", f.reason);
  const rows = await q
    .select(VIEW_COLUMNS)
    .orderBy("r.created_at", "desc")
    .orderBy("r.id")
    .limit(f.limit)
    .offset(f.offset)
    .execute();
  const count = await q.select((eb) => eb.fn.countAll<number | string>().as("n")).executeTakeFirstOrThrow();
  return {
    items: (rows as ViewRow[]).map(toView),
    total: Number(count.n),
    counts: await openCounts(db, tenantId),
  };
}

/** Open items per reason, for the queue's filter badges (every reason, 0 when none). */
export async function openCounts(db: Db, tenantId: string): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom("review_items")
    .select(["reason", (eb) => eb.fn.countAll<number | string>().as("n")])
    .where("tenant_id", "=", tenantId)
    .where("status", "=", "open")
    .groupBy("reason")
    .execute();
  const counts: Record<string, number> = Object.fromEntries(REVIEW_REASONS.map((r) => [r, 0]));
  for (const row of rows) counts[row.reason] = Number(row.n);
  return counts;
}

export async function findReviewItem(
  db: Db,
  tenantId: string,
  id: string,
): Promise<ReviewItemView | undefined> {
  const row = await reviewQuery(db, tenantId).select(VIEW_COLUMNS).where("r.id", "=", id).executeTakeFirst();
  return row ? toView(row as ViewRow) : undefined;
}
