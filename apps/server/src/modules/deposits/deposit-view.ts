import { formatAmount } from "@psphub/protocol";
import { cleanTenantText } from "@psphub/protocol/admin";
import { decodeJson } from "../../infra/db/database.js";
import type { DepositStatus } from "../../infra/db/schema.js";
import { PROVIDER_UNAVAILABLE_MESSAGE } from "./api1-request.js";
import type { DepositRow } from "./deposit-repo.js";
import { OPEN } from "./deposit-state.js";

/** Deposits as the edges show them (pure): every amount decimal text, never the admin-only reason to clients. */

export const money = (minor: number | bigint, decimals: number): string =>
  formatAmount(BigInt(minor), decimals);
const moneyOrNull = (minor: number | null, decimals: number): string | null =>
  minor === null ? null : money(minor, decimals);

/** Why an order failed, in words a client may read. */
export type ClientFailure = {
  code: "payment_provider_failed" | "payment_failed";
  /** provider_unavailable: API-1 could not give a payment page; provider_declined: the tenant said no. */
  reason: "provider_unavailable" | "provider_declined" | "payment_failed";
  message: string;
};

/** failure_reason codes written by API-1 failures (create-deposit.ts); the rest come from callbacks or staff. */
const API1_REASON =
  /^(timeout|connection_refused|blocked_address|dns_failure|too_large|network_error|http_status_\d+|bad_json|result_false|missing_url|bad_url|insecure_url|config_error|internal_error)\b/;

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
  const message = shownText(row.failure_message);
  if (API1_REASON.test(reason)) {
    const declined = message !== null && message !== PROVIDER_UNAVAILABLE_MESSAGE;
    return {
      code: "payment_provider_failed",
      reason: declined ? "provider_declined" : "provider_unavailable",
      message: message ?? PROVIDER_UNAVAILABLE_MESSAGE,
    };
  }
  return {
    code: "payment_failed",
    reason: "payment_failed",
    message: message ?? "The payment failed",
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
  status: DepositStatus;
  amount: string;
  fee: string;
  credit: string;
  currency: string;
  methodName: string;
  paymentUrl: string | null;
  failureMessage: string | null;
  createdAt: number;
  updatedAt: number;
  finalizedAt: number | null;
};

export function portalDepositView(row: DepositRow, methodName: string): PortalDepositView {
  return {
    orderNo: row.order_no,
    status: row.status,
    amount: money(row.amount_minor, row.decimals),
    fee: money(row.fee_minor, row.decimals),
    credit: money(row.credit_minor, row.decimals),
    currency: row.currency,
    methodName,
    paymentUrl: OPEN.has(row.status) ? row.payment_url : null,
    failureMessage: row.status === "failed" ? (clientFailureOf(row)?.message ?? null) : null,
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
  credit: string;
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
    credit: money(row.credit_minor, row.decimals),
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
