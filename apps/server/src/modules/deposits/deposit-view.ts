import { convertNet, formatAmount } from "@psphub/protocol";
import { cleanTenantText } from "@psphub/protocol/admin";
import type { z } from "zod";
import { decodeJson } from "../../infra/db/database.js";
import type { DepositStatus } from "../../infra/db/schema.js";
import { conversionOf, effectiveRate } from "../fx-quotes/quote-model.js";
import { PROVIDER_UNAVAILABLE_MESSAGE } from "./api1-request.js";
import type { DepositRow } from "./deposit-repo.js";
import type { depositQuote } from "./deposit-schemas.js";
import { OPEN } from "./deposit-state.js";

/** Deposits as the edges show them (pure): every amount decimal text, never the admin-only reason to clients. */

export const money = (minor: number | bigint, decimals: number): string =>
  formatAmount(BigInt(minor), decimals);
const moneyOrNull = (minor: number | null, decimals: number): string | null =>
  minor === null ? null : money(minor, decimals);

/**
 * Why an order failed, as a code the portal translates (docs/psp-open-api.md#client-failures):
 * - `api1_declined`: the tenant backend refused properly (HTTP 2xx, `result: false`); `message`
 *   is its cleaned `msg`, or null when it gave none;
 * - `api1_unavailable`: anything else API-1 did (timeout, non-2xx, bad answer); never its text;
 * - `payment_failed`: the payment itself failed later (callback status 0, an admin's rejection).
 */
type ClientFailureReason = "api1_declined" | "api1_unavailable" | "payment_failed";
export type ClientFailure = {
  code: "payment_provider_failed" | "payment_failed";
  reason: ClientFailureReason;
  /** The tenant's own words, only for `api1_declined`; null otherwise. */
  message: string | null;
};

/** failure_reason codes written by API-1 failures (create-deposit.ts); the rest come from callbacks or staff. */
const API1_REASON =
  /^(timeout|connection_refused|blocked_address|dns_failure|too_large|network_error|http_status_\d+|bad_json|result_false|missing_url|bad_url|insecure_url|config_error|internal_error)\b/;
/** Only a proper refusal's `msg` reaches a client; older rows kept a non-2xx answer's text too. */
const API1_DECLINED = /^result_false\b/;

/**
 * A tenant's text as stored: rows written before `cleanTenantText` also removed invisible
 * formatting (bidi controls) still hold it, so it is cleaned again on the way out.
 */
const shownText = (text: string | null): string | null =>
  text === null ? null : cleanTenantText(text) || null;

export function clientFailureOf(
  row: Pick<DepositRow, "status" | "failure_reason" | "failure_message">,
): ClientFailure | null {
  if (row.status !== "failed") return null;
  const reason = row.failure_reason ?? "";
  if (API1_DECLINED.test(reason)) {
    const message = shownText(row.failure_message);
    return {
      code: "payment_provider_failed",
      reason: "api1_declined",
      message: message === PROVIDER_UNAVAILABLE_MESSAGE ? null : message,
    };
  }
  if (API1_REASON.test(reason))
    return { code: "payment_provider_failed", reason: "api1_unavailable", message: null };
  return { code: "payment_failed", reason: "payment_failed", message: null };
}

/** The quote locked on an order, as both sides show it (docs/exchange-rates.md): its schema's type. */
export type DepositQuoteView = NonNullable<z.infer<typeof depositQuote>>;

type QuoteRow = Pick<
  DepositRow,
  | "amount_minor"
  | "fee_minor"
  | "currency"
  | "decimals"
  | "account_currency"
  | "account_decimals"
  | "fx_rate"
  | "fx_markup_bps"
  | "fx_source_kind"
  | "fx_source_name"
  | "fx_rate_time"
  | "fx_quoted_at"
  | "created_at"
>;

/** The currency `credit_minor` counts in: the account currency of a quote, else the order's. */
export const creditCurrencyOf = (row: Pick<DepositRow, "currency" | "account_currency">): string =>
  row.account_currency ?? row.currency;
/** The decimals of `credit_minor`. */
export const creditDecimalsOf = (row: Pick<DepositRow, "decimals" | "account_decimals">): number =>
  row.account_decimals ?? row.decimals;

/**
 * An order's quote; null for an order without one. The account amount is the quote's (the
 * ordered amount's net converted again at the locked rate: the same figures exactly, as
 * quoteFigures does the fee first), so a success of another paid amount shows its own credit.
 */
export function depositQuoteView(row: QuoteRow): DepositQuoteView | null {
  if (row.account_currency === null || row.account_decimals === null || row.fx_rate === null) return null;
  const net = BigInt(row.amount_minor) - BigInt(row.fee_minor);
  const figures = convertNet(net > 0n ? net : 0n, conversionOf(row));
  const markupBps = row.fx_markup_bps ?? 0;
  return {
    paymentAmount: money(row.amount_minor, row.decimals),
    paymentCurrency: row.currency,
    fee: money(row.fee_minor, row.decimals),
    accountAmount: money(figures.accountMinor, row.account_decimals),
    accountCurrency: row.account_currency,
    rate: effectiveRate(row.fx_rate, markupBps),
    sourceRate: row.fx_rate,
    markupBps,
    markupAmount: money(figures.markupMinor, row.account_decimals),
    sourceKind: row.fx_source_kind ?? "manual",
    sourceName: row.fx_source_name ?? "",
    rateTime: row.fx_rate_time ?? row.created_at,
    quotedAt: row.fx_quoted_at ?? row.created_at,
  };
}

/** The answer of creating a deposit (portal and back office). */
export type CreateDepositView = {
  id: string;
  orderNo: string;
  status: DepositStatus;
  paymentUrl: string | null;
  error: ClientFailure | null;
  /** True when an idempotency key returned an order created earlier. */
  replayed: boolean;
};

export function createDepositView(
  row: Pick<DepositRow, "id" | "order_no" | "status" | "payment_url" | "failure_reason" | "failure_message">,
  replayed: boolean,
): CreateDepositView {
  return {
    id: row.id,
    orderNo: row.order_no,
    status: row.status,
    paymentUrl: OPEN.has(row.status) ? row.payment_url : null,
    error: clientFailureOf(row),
    replayed,
  };
}

/** HTTP status of a create answer: 502 when API-1 gave no payment page, else 201 (new) / 200 (replay). */
export function createDepositHttpStatus(v: CreateDepositView): 200 | 201 | 502 {
  if (v.error?.code === "payment_provider_failed") return 502;
  return v.replayed ? 200 : 201;
}

export type PortalDepositView = {
  orderNo: string;
  methodId: string;
  status: DepositStatus;
  amount: string;
  fee: string;
  /** In `creditCurrency`. */
  credit: string;
  currency: string;
  /** The account currency of a quote, else `currency`. */
  creditCurrency: string;
  quote: DepositQuoteView | null;
  methodName: string;
  paymentUrl: string | null;
  failure: Omit<ClientFailure, "code"> | null;
  /** A payment reported for this order waits for a person's check (an open review item). */
  underReview: boolean;
  createdAt: number;
  updatedAt: number;
  finalizedAt: number | null;
};

export function portalDepositView(
  row: DepositRow,
  methodName: string,
  underReview: boolean,
): PortalDepositView {
  const failure = clientFailureOf(row);
  return {
    orderNo: row.order_no,
    methodId: row.method_id,
    status: row.status,
    amount: money(row.amount_minor, row.decimals),
    fee: money(row.fee_minor, row.decimals),
    credit: money(row.credit_minor, creditDecimalsOf(row)),
    currency: row.currency,
    creditCurrency: creditCurrencyOf(row),
    quote: depositQuoteView(row),
    methodName,
    // No payment page while a payment is being checked: paying twice is what the check is about.
    paymentUrl: OPEN.has(row.status) && !underReview ? row.payment_url : null,
    failure: failure ? { reason: failure.reason, message: failure.message } : null,
    underReview,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finalizedAt: row.finalized_at,
  };
}

export type AdminDepositView = {
  id: string;
  orderNo: string;
  status: DepositStatus;
  clientId: string;
  clientName: string | null;
  methodId: string;
  methodName: string | null;
  integrationId: string;
  integrationName: string | null;
  currency: string;
  decimals: number;
  amount: string;
  fee: string;
  /** In `creditCurrency`. */
  credit: string;
  creditCurrency: string;
  quote: DepositQuoteView | null;
  paidAmount: string | null;
  paymentUrl: string | null;
  transactionId: string | null;
  pspTime: number | null;
  failureReason: string | null;
  failureMessage: string | null;
  fields: Record<string, string>;
  device: string | null;
  language: string | null;
  createdBy: string | null;
  expiresAt: number;
  createdAt: number;
  updatedAt: number;
  finalizedAt: number | null;
};

export function adminDepositView(
  row: DepositRow,
  names: { clientName: string | null; methodName: string | null; integrationName: string | null },
): AdminDepositView {
  return {
    id: row.id,
    orderNo: row.order_no,
    status: row.status,
    clientId: row.client_id,
    clientName: names.clientName,
    methodId: row.method_id,
    methodName: names.methodName,
    integrationId: row.integration_id,
    integrationName: names.integrationName,
    currency: row.currency,
    decimals: row.decimals,
    amount: money(row.amount_minor, row.decimals),
    fee: money(row.fee_minor, row.decimals),
    credit: money(row.credit_minor, creditDecimalsOf(row)),
    creditCurrency: creditCurrencyOf(row),
    quote: depositQuoteView(row),
    paidAmount: moneyOrNull(row.paid_amount_minor, row.decimals),
    paymentUrl: row.payment_url,
    transactionId: row.transaction_id,
    pspTime: row.psp_time,
    failureReason: shownText(row.failure_reason),
    failureMessage: shownText(row.failure_message),
    fields: decodeJson<Record<string, string>>(row.fields, {}),
    device: row.device,
    language: row.language,
    createdBy: row.created_by,
    expiresAt: row.expires_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finalizedAt: row.finalized_at,
  };
}

/** What a client's claim in a review item says was paid: API-2 status 1 (success). */
export type OpenReviewClaim = { status: number };

/**
 * Whether the client sees "we received a payment and are checking it" (docs/psp-open-api.md#client-review-state):
 * an open review item whose callback reported a success (late, another amount, contradicting
 * the order). A held failure report is the admin's business only: no payment was received.
 */
export function isUnderReview(openClaims: readonly OpenReviewClaim[]): boolean {
  return openClaims.some((c) => c.status === 1);
}

/**
 * Whether a live view of the order is done (the SSE stream's `final`): succeeded or failed with
 * nothing being checked. Cancelled and expired orders stay watched, since a payment page opened
 * before can still be paid and that payment lands in review
 * (docs/psp-open-api.md#client-review-state).
 */
export function isSettledForClient(v: Pick<PortalDepositView, "status" | "underReview">): boolean {
  return !v.underReview && (v.status === "succeeded" || v.status === "failed");
}
