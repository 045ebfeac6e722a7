import {
  CallbackStatus,
  type CallbackStatusValue,
  type FlatParams,
  isCallbackStatus,
  isJsonNumberText,
  sign,
  stringA,
} from "@psphub/protocol";
import { SdkError } from "./errors.js";

/** An API-2 callback (docs/psp-open-api.md#api-2), fields by name. */
export interface Callback {
  readonly merchantId: string;
  readonly orderNo: string;
  /**
   * The amount paid as decimal text (`"162.48"`). It is written into the JSON body as a number
   * literal exactly as given and signed as that same text, so body and `sign` always agree.
   */
  readonly amount: string;
  readonly currency: string;
  /** 0 failed, 1 succeeded, 2 processing. */
  readonly status: CallbackStatusValue;
  /** Completion time, Unix milliseconds. Default: when the callback is encoded. */
  readonly time?: number;
  readonly transactionId?: string;
  readonly userId?: string;
}

/** How a payment ended, for {@link buildCallback}. */
export type OutcomeName = "success" | "failed" | "processing";

/** A payment outcome: its status and, optionally, what was really paid and the PSP's id. */
export interface Outcome {
  readonly status: OutcomeName;
  /** The amount actually paid, decimal text, when it differs from the order's. */
  readonly paidAmount?: string;
  readonly transactionId?: string;
  /** Completion time, Unix milliseconds. Default: when the callback is encoded. */
  readonly time?: number;
}

/** The order fields a callback repeats: a {@link PaymentRequest} from the API-1 handler fits. */
export interface CallbackOrder {
  readonly merchantId: string;
  readonly orderNo: string;
  readonly amount: string;
  readonly currency: string;
  readonly userId?: string;
}

const STATUS_OF: Record<OutcomeName, CallbackStatusValue> = {
  success: CallbackStatus.SUCCEEDED,
  failed: CallbackStatus.FAILED,
  processing: CallbackStatus.PROCESSING,
};

/**
 * The callback that reports `outcome` for `order` (an API-1 request, or anything with the same
 * fields). The amount is the order's own text (`"162.48"` as the CRM sent it) unless the outcome
 * names a different `paidAmount`; the CRM compares it in minor units.
 *
 * ```ts
 * sendCallback({ callbackUrl, token, callback: buildCallback(req, { status: "success", transactionId: "tx-1" }) });
 * ```
 */
export function buildCallback(order: CallbackOrder, outcome: OutcomeName | Outcome): Callback {
  const o: Outcome = typeof outcome === "string" ? { status: outcome } : outcome;
  const status = STATUS_OF[o.status];
  if (status === undefined) {
    throw new SdkError(
      "invalid_callback",
      `unknown outcome ${JSON.stringify(o.status)}: success, failed or processing`,
    );
  }
  return {
    merchantId: order.merchantId,
    orderNo: order.orderNo,
    amount: o.paidAmount ?? order.amount,
    currency: order.currency,
    status,
    ...(o.time === undefined ? {} : { time: o.time }),
    ...(o.transactionId === undefined ? {} : { transactionId: o.transactionId }),
    ...(order.userId === undefined ? {} : { userId: order.userId }),
  };
}

/** A callback ready to post: its JSON body (with `sign`), and what was signed. */
export interface EncodedCallback {
  /** The JSON text to post. `amount` is the literal given, `sign` last. */
  readonly body: string;
  /** The parameters signed (numbers as JS numbers; `amount`'s text is in `literals`). */
  readonly params: FlatParams;
  readonly stringA: string;
  readonly sign: string;
}

function requireText(value: unknown, name: string): string {
  if (typeof value !== "string" || value === "") {
    throw new SdkError("invalid_callback", `${name} must be a non-empty string`);
  }
  return value;
}

function optionalText(value: unknown, name: string): string | undefined {
  if (value === undefined || value === "") return undefined;
  if (typeof value !== "string") throw new SdkError("invalid_callback", `${name} must be a string`);
  return value;
}

/**
 * Encodes and signs a callback (docs/psp-open-api.md#api-2-fields, docs/psp-open-api.md#signature).
 * The amount is decimal text written as a JSON number literal exactly as given: `"100.10"` goes
 * out as `100.10` and is signed as `100.10`, so the CRM's literal-text check matches (and its
 * `String(n)` check would match a signer that prints `100.1`). `time` defaults to `now`.
 *
 * Throws `invalid_callback` for a missing field, an amount that is not a non-negative JSON
 * number, a status other than 0/1/2, or a time that is not a non-negative integer; and
 * `ProtocolError` for an empty token or a value with a lone surrogate.
 */
export function encodeCallback(
  callback: Callback,
  token: string,
  now: () => number = Date.now,
): EncodedCallback {
  if (typeof callback !== "object" || callback === null) {
    throw new SdkError("invalid_callback", "the callback must be an object");
  }
  return encodeSigned("order_no", requireText(callback.orderNo, "orderNo"), callback, token, now);
}

/** The fields an API-2 or API-5 body shares (everything but the order or payout number). */
export type SignedResultFields = Omit<Callback, "orderNo">;

/**
 * Encodes and signs an API-2 body (`idKey` `order_no`) or an API-5 body (`payout_no`,
 * payout-callback.ts): the same fields, checks and literal amount, in the API-2 table's order.
 */
export function encodeSigned(
  idKey: "order_no" | "payout_no",
  id: string,
  callback: SignedResultFields,
  token: string,
  now: () => number,
): EncodedCallback {
  const merchantId = requireText(callback.merchantId, "merchantId");
  const currency = requireText(callback.currency, "currency");
  const amount = requireText(callback.amount, "amount");
  if (!isJsonNumberText(amount) || amount.startsWith("-")) {
    throw new SdkError(
      "invalid_callback",
      `amount must be a non-negative decimal number as text ("162.48"), not ${JSON.stringify(amount)}`,
    );
  }
  const amountValue = Number(amount);
  if (!Number.isFinite(amountValue)) throw new SdkError("invalid_callback", "amount is out of range");
  if (!isCallbackStatus(callback.status)) {
    throw new SdkError("invalid_callback", "status must be 0 (failed), 1 (succeeded) or 2 (processing)");
  }
  const time = callback.time ?? now();
  if (!Number.isSafeInteger(time) || time < 0) {
    throw new SdkError("invalid_callback", "time must be Unix milliseconds (a non-negative integer)");
  }
  const transactionId = optionalText(callback.transactionId, "transactionId");
  const userId = optionalText(callback.userId, "userId");

  // The API-2 table's order (docs/psp-open-api.md#api-2-fields); the order does not matter for the signature.
  const params: FlatParams = {
    merchant_id: merchantId,
    [idKey]: id,
    ...(transactionId === undefined ? {} : { transaction_id: transactionId }),
    amount: amountValue,
    currency,
    time,
    status: callback.status,
    ...(userId === undefined ? {} : { user_id: userId }),
  };
  const literals = { amount };
  const signature = sign(params, token, { literals });
  const parts = Object.keys(params).map((key) => {
    const text = key === "amount" ? amount : JSON.stringify(params[key]);
    return `${JSON.stringify(key)}:${text}`;
  });
  parts.push(`"sign":${JSON.stringify(signature)}`);
  return { body: `{${parts.join(",")}}`, params, stringA: stringA(params, { literals }), sign: signature };
}

/**
 * The API-2 endpoint for a callback URL: `CRM_Callback_URL` as shown in the back office
 * (`https://crm.example.com/api/psp`) gets `/pay/callback` appended; a URL that already ends in
 * `/pay/callback` is used as it is. Throws `invalid_url` unless absolute `http:`/`https:`.
 */
export function callbackEndpoint(callbackUrl: string): string {
  return endpointOf(callbackUrl, "/pay/callback");
}

/**
 * `callbackUrl` checked (absolute http(s), no user info, query or fragment) with `path` appended
 * unless it already ends in it. For `/payout/callback`, the API-2 endpoint (a URL ending in
 * `/pay/callback`) has its last part replaced. Throws `invalid_url`.
 */
export function endpointOf(callbackUrl: string, path: "/pay/callback" | "/payout/callback"): string {
  let url: URL;
  try {
    url = new URL(callbackUrl);
  } catch {
    throw new SdkError("invalid_url", `${JSON.stringify(callbackUrl)} is not an absolute URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new SdkError("invalid_url", `the callback URL must be http: or https:, not ${url.protocol}`);
  }
  if (url.username !== "" || url.password !== "") {
    throw new SdkError("invalid_url", "the callback URL must not carry user info");
  }
  if (url.search !== "" || url.hash !== "") {
    throw new SdkError("invalid_url", "the callback URL must not have a query or fragment");
  }
  const base = url.pathname.replace(/\/+$/, "");
  if (base.endsWith(path)) return url.href;
  const api2 = "/pay/callback";
  url.pathname = `${path !== api2 && base.endsWith(api2) ? base.slice(0, -api2.length) : base}${path}`;
  return url.href;
}
