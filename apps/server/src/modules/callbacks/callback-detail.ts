import type { VerifyResult } from "@psphub/protocol";
import type { DepositStatus } from "../../infra/db/schema.js";
import type { ResultStatus, SettlementOutcome } from "../settlement/settlement-planner.js";

/**
 * Why a callback was refused, in words (pure; docs/psp-open-api.md#api-2-answers): a `detail`
 * for the API-2 answer, and a diagnosis for the tenant's callback log. The detail says which
 * check failed and what about the body as sent was wrong. It never holds the token, the expected
 * sign, or anything of another tenant: before the token matched it names the check only, and
 * the order's own facts (currency, amount, status) are given only once token and sign passed.
 */

/** The check that refused a callback, in the spec's order (docs/psp-open-api.md#api-2-checks). */
export type FailedCheck =
  | "body"
  | "merchant_id"
  | "header_token"
  | "sign"
  | "order"
  | "method"
  | "currency"
  | "amount"
  | "status";

/** What the callback log keeps about a refusal, for the tenant's admins. */
export type CallbackDiagnosis = {
  check: FailedCheck;
  /** sign: StringA as the CRM computed it from the body as sent (numbers as written). */
  stringA?: string;
  /** sign: StringA with the numbers as parsed (`100.00` → `100`), when that differs. */
  stringAParsed?: string;
  /** amount: the order's amount and the amount the callback reported, decimal text. */
  orderedAmount?: string;
  paidAmount?: string;
  /** currency and status: what the order has. */
  orderCurrency?: string;
  orderStatus?: DepositStatus;
};

export type Refusal = { detail: string; diagnosis: CallbackDiagnosis };

/** Most characters of StringA an answer quotes (the log keeps it whole). */
const STRING_A_QUOTED = 40;
/** Most characters of a value the sender chose that a detail quotes back. */
const ECHO_MAX = 64;

const quote = (text: string, max = ECHO_MAX) => `\`${text.length > max ? `${text.slice(0, max)}…` : text}\``;

export const bodyRefused = (message: string): Refusal => ({
  detail: message,
  diagnosis: { check: "body" },
});

export const integrationNotFound = (): Refusal => ({
  detail: "`merchant_id` matches no enabled integration",
  diagnosis: { check: "merchant_id" },
});

/** Check 3: which way the header failed, and nothing about the token expected. */
export function tokenRefused(header: string | string[] | undefined): Refusal {
  const detail =
    header === undefined || header === ""
      ? "header crm-pay-token is missing"
      : Array.isArray(header)
        ? "header crm-pay-token is sent more than once"
        : "header crm-pay-token is not this integration's token";
  return { detail, diagnosis: { check: "header_token" } };
}

/** Most characters of each StringA the log keeps (as many as of a raw body). */
const STRING_A_KEPT = 16_384;

/** Check 4, with the token matched: the start of StringA in the answer, both forms in the log. */
export function signRefused(v: VerifyResult): Refusal {
  const forms = {
    stringA: v.stringA.slice(0, STRING_A_KEPT),
    ...(v.stringAParsed !== undefined ? { stringAParsed: v.stringAParsed.slice(0, STRING_A_KEPT) } : {}),
  };
  const detail =
    v.reason === "missing_sign"
      ? "`sign` is missing"
      : v.reason === "malformed_sign"
        ? "`sign` must be 40 hexadecimal digits (SHA-1)"
        : `sign does not verify (StringA begins ${quote(v.stringA, STRING_A_QUOTED)})`;
  return { detail, diagnosis: { check: "sign", ...forms } };
}

export const orderNotFound = (orderNo: string): Refusal => ({
  detail: `no order ${quote(orderNo)} under this integration`,
  diagnosis: { check: "order" },
});

export const methodGone = (): Refusal => ({
  detail: "the order's deposit method no longer exists",
  diagnosis: { check: "method" },
});

export const currencyRefused = (sent: string, order: string): Refusal => ({
  detail: `\`currency\` is ${quote(sent)}, the order's is \`${order}\``,
  diagnosis: { check: "currency", orderCurrency: order },
});

/** Check 8, the amount unreadable in the order's currency. */
export const amountUnreadable = (sent: string, decimals: number, ordered: string): Refusal => ({
  detail: `\`amount\` ${quote(sent)} is not an amount with at most ${decimals} decimals`,
  diagnosis: { check: "amount", orderedAmount: ordered, paidAmount: sent },
});

/** Check 8, another amount than the order's under the policy `exact`. */
export const amountDiffers = (paid: string, ordered: string): Refusal => ({
  detail: `\`amount\` ${quote(paid)} differs from the order's ${ordered}`,
  diagnosis: { check: "amount", orderedAmount: ordered, paidAmount: paid },
});

export const statusUnknown = (status: number): Refusal => ({
  detail: `\`status\` ${status} is not 0 (failed), 1 (succeeded) or 2 (processing)`,
  diagnosis: { check: "status" },
});

const STATUS_WORD: Record<ResultStatus, string> = {
  succeeded: "1 (succeeded)",
  failed: "0 (failed)",
  processing: "2 (processing)",
};

/**
 * Check 9 after the settlement: a status the order's state refuses (the outcomes of
 * callback-outcome.ts that answer an error), or null for one that is answered 204.
 */
export function statusRefused(requested: ResultStatus, result: SettlementOutcome): Refusal | null {
  if (result.kind === "unknown")
    return { detail: "no such order under this integration", diagnosis: { check: "order" } };
  if (result.kind !== "conflict" && result.kind !== "late") return null;
  const current = result.current;
  const detail =
    requested === "processing"
      ? `\`status\` 2 (processing) cannot follow the order's final status \`${current}\``
      : `the order is already \`${current}\`: \`status\` ${STATUS_WORD[requested]} cannot change it`;
  return { detail, diagnosis: { check: "status", orderStatus: current } };
}

/**
 * Another success with another amount than the one the order succeeded with: refused by the
 * amount check under the policy `exact`, else by the status check.
 */
export const settledWithOtherAmount = (
  check: "amount" | "status",
  paid: string,
  settled: string,
): Refusal => ({
  detail: `the order already succeeded with ${settled}: a success for ${quote(paid)} is kept for review`,
  diagnosis: { check, orderedAmount: settled, paidAmount: paid, orderStatus: "succeeded" },
});
