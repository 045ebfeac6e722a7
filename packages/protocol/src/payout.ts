import type { CallbackFieldSpec, CallbackParseResult, ParseCallbackOptions } from "./fields.js";
import { parseCallback } from "./fields.js";
import { formatAmount } from "./money.js";
import { type FlatParams, sign } from "./signature.js";
import { parseStatusAnswer, type StatusAnswer } from "./status-query.js";

/**
 * The payout extension (docs/psp-open-api.md#payouts): the CRM asks the tenant backend to pay a
 * client (API-4), the backend reports the result (API-5, the API-2 shape with `payout_no`), and
 * the CRM asks where a payout stands (the status query's payout twin). Signed exactly like API-2.
 */

/** Appended to the integration's APP_URL. */
export const PAYOUT_REQUEST_PATH = "/payout/request";
export const PAYOUT_STATUS_PATH = "/payout/status";
/** Appended to the CRM_Callback_URL. */
export const PAYOUT_CALLBACK_PATH = "/payout/callback";

/** `data.code` of a payout status answer whose backend does not know the payout. */
export const PAYOUT_NOT_FOUND = "payout_not_found";

/** API-4's own keys; the client's fields are sent beside them and may not reuse them. */
export const PAYOUT_REQUEST_KEYS = [
  "merchant_id",
  "payout_no",
  "amount",
  "currency",
  "user_id",
  "time",
  "sign",
] as const;

export const isPayoutRequestKey = (key: string): boolean =>
  (PAYOUT_REQUEST_KEYS as readonly string[]).includes(key);

/** The API-4 request body, signed: `amount` a JSON number, the client's fields as strings. */
export type PayoutRequestBody = FlatParams & {
  merchant_id: string;
  payout_no: string;
  amount: number;
  currency: string;
  user_id: string;
  time: number;
  sign: string;
};

/**
 * The signed API-4 body of a payout of `amountMinor` (what the client receives) at `time` (Unix
 * ms). The amount is written as the shortest literal of its value, which is `String(n)`, so the
 * body's text and the signed text agree (as API-1's).
 */
export function signPayoutRequest(
  p: {
    merchantId: string;
    payoutNo: string;
    amountMinor: bigint;
    decimals: number;
    currency: string;
    userId: string;
    fields: Readonly<Record<string, string>>;
    time: number;
  },
  token: string,
): PayoutRequestBody {
  for (const key of Object.keys(p.fields))
    if (isPayoutRequestKey(key)) throw new Error(`the client field ${key} reuses an API-4 key`);
  const params = {
    ...p.fields,
    merchant_id: p.merchantId,
    payout_no: p.payoutNo,
    amount: Number(formatAmount(p.amountMinor, p.decimals)),
    currency: p.currency,
    user_id: p.userId,
    time: p.time,
  };
  return { ...params, sign: sign(params, token) };
}

/** What API-4's answer says. */
export type PayoutRequestAnswer =
  /** `result: true`: the backend took the payout (it may still fail later, by API-5). */
  | { kind: "accepted"; transactionId?: string; msg: string }
  /** `result: false`: the backend refused to pay; nothing was sent to the client. */
  | { kind: "refused"; msg: string }
  /** Anything else: the outcome is unknown, and API-4 is sent again (it is idempotent). */
  | { kind: "invalid"; reason: string };

const MSG_MAX = 200;

/** Reads API-4's JSON answer `{result, msg, data: {transaction_id?}}`. */
export function parsePayoutRequestAnswer(json: unknown): PayoutRequestAnswer {
  if (typeof json !== "object" || json === null || Array.isArray(json))
    return { kind: "invalid", reason: "the answer is not a JSON object" };
  const a = json as Record<string, unknown>;
  const msg = typeof a.msg === "string" ? a.msg.slice(0, MSG_MAX) : "";
  if (a.result === false) return { kind: "refused", msg };
  if (a.result !== true) return { kind: "invalid", reason: "result is neither true nor false" };
  const data = a.data;
  if (data === undefined || data === null) return { kind: "accepted", msg };
  if (typeof data !== "object" || Array.isArray(data))
    return { kind: "invalid", reason: "data is not an object" };
  const tx = (data as Record<string, unknown>).transaction_id;
  if (tx === undefined || tx === null || tx === "") return { kind: "accepted", msg };
  if (typeof tx !== "string" || tx.length > 128)
    return { kind: "invalid", reason: "data.transaction_id is not a string of at most 128 characters" };
  return { kind: "accepted", transactionId: tx, msg };
}

/** API-5's fields: API-2's, with `payout_no` for `order_no` and `amount` the amount paid out. */
export const PAYOUT_CALLBACK_FIELDS: readonly CallbackFieldSpec[] = [
  { key: "merchant_id", type: "string", required: true, meaning: "the integration's merchant id" },
  { key: "payout_no", type: "string", required: true, meaning: "the CRM's payout id from API-4" },
  {
    key: "transaction_id",
    type: "string",
    required: false,
    meaning: "the tenant's or PSP's own transaction id",
  },
  { key: "amount", type: "number", required: true, meaning: "the amount paid out (API-4's amount)" },
  { key: "currency", type: "string", required: true, meaning: "currency code" },
  { key: "time", type: "number", required: true, meaning: "completion time, Unix milliseconds" },
  { key: "status", type: "number", required: true, meaning: "0 failed, 1 paid, 2 processing" },
  { key: "user_id", type: "string", required: false, meaning: "the client's CRM id" },
  { key: "sign", type: "string", required: true, meaning: "signature" },
];

/**
 * Types and checks an API-5 body as {@link parseCallback} does an API-2 one; the payout number is
 * returned as `orderNo`.
 */
export function parsePayoutCallback(
  params: FlatParams,
  literals?: Readonly<Record<string, string>>,
  opts?: Omit<ParseCallbackOptions, "idKey">,
): CallbackParseResult {
  return parseCallback(params, literals, { ...opts, idKey: "payout_no" });
}

/** The CRM's payout status query body: `time` in Unix milliseconds, `sign` over the other three. */
export interface PayoutStatusQueryBody {
  merchant_id: string;
  payout_no: string;
  time: number;
  sign: string;
}

export function signPayoutStatusQuery(
  q: { merchantId: string; payoutNo: string; time: number },
  token: string,
): PayoutStatusQueryBody {
  const params = { merchant_id: q.merchantId, payout_no: q.payoutNo, time: q.time };
  return { ...params, sign: sign(params, token) };
}

/** A payout status answer: `data` an API-5 body, or `payout_not_found`. */
export const parsePayoutStatusAnswer = (text: string): StatusAnswer =>
  parseStatusAnswer(text, PAYOUT_NOT_FOUND);

/** A signed API-5 body (the backend's side; the SDK and the simulator send these). */
export function signPayoutCallback(
  c: {
    merchantId: string;
    payoutNo: string;
    amount: number;
    currency: string;
    status: 0 | 1 | 2;
    time: number;
    transactionId?: string;
    userId?: string;
  },
  token: string,
): FlatParams & { sign: string } {
  const params: FlatParams = {
    merchant_id: c.merchantId,
    payout_no: c.payoutNo,
    amount: c.amount,
    currency: c.currency,
    status: c.status,
    time: c.time,
    ...(c.transactionId ? { transaction_id: c.transactionId } : {}),
    ...(c.userId ? { user_id: c.userId } : {}),
  };
  return { ...params, sign: sign(params, token) };
}
