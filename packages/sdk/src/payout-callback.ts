import { CallbackStatus, type CallbackStatusValue, isFinalCallbackStatus } from "@psphub/protocol";
import { type EncodedCallback, encodeSigned, endpointOf, type OutcomeName } from "./callback.js";
import { type DeliveryOptions, deliver, type SendCallbackResult } from "./callback-sender.js";
import { SdkError } from "./errors.js";

/**
 * API-5, the payout callback (docs/psp-open-api.md#api-5): the API-2 body with `payout_no` in
 * place of `order_no`, posted to `{CRM_Callback_URL}/payout/callback` with the same signature,
 * header, answers and retry rules as API-2.
 */

/** An API-5 callback, fields by name. */
export interface PayoutCallback {
  readonly merchantId: string;
  readonly payoutNo: string;
  /**
   * The amount paid out as decimal text: API-4's amount (`"95.5"`; `"95.50"` is the same amount).
   * Written into the body as a number literal exactly as given and signed as that text. The CRM
   * takes only API-4's amount: no amount policy applies to money going out.
   */
  readonly amount: string;
  readonly currency: string;
  /** 0 failed, 1 paid, 2 processing. */
  readonly status: CallbackStatusValue;
  /** Completion time, Unix milliseconds. Default: when the callback is encoded. */
  readonly time?: number;
  readonly transactionId?: string;
  readonly userId?: string;
}

/** The payout fields a callback repeats: a {@link PayoutRequest} from the API-4 handler fits. */
export interface CallbackPayout {
  readonly merchantId: string;
  readonly payoutNo: string;
  readonly amount: string;
  readonly currency: string;
  readonly userId?: string;
}

/** How a payout ended: `success` paid, `failed` not paid, `processing` under way. */
export interface PayoutOutcome {
  readonly status: OutcomeName;
  readonly transactionId?: string;
  /** Completion time, Unix milliseconds. Default: when the callback is encoded. */
  readonly time?: number;
}

const STATUS_OF: Record<OutcomeName, CallbackStatusValue> = {
  success: CallbackStatus.SUCCEEDED,
  failed: CallbackStatus.FAILED,
  processing: CallbackStatus.PROCESSING,
};

/**
 * The API-5 callback that reports `outcome` for `payout` (an API-4 request, or anything with the
 * same fields), with the payout's own amount text.
 *
 * ```ts
 * sendPayoutCallback({ callbackUrl, token, callback: buildPayoutCallback(req, { status: "success", transactionId: "po-1" }) });
 * ```
 */
export function buildPayoutCallback(
  payout: CallbackPayout,
  outcome: OutcomeName | PayoutOutcome,
): PayoutCallback {
  const o: PayoutOutcome = typeof outcome === "string" ? { status: outcome } : outcome;
  const status = STATUS_OF[o.status];
  if (status === undefined) {
    throw new SdkError(
      "invalid_callback",
      `unknown outcome ${JSON.stringify(o.status)}: success, failed or processing`,
    );
  }
  return {
    merchantId: payout.merchantId,
    payoutNo: payout.payoutNo,
    amount: payout.amount,
    currency: payout.currency,
    status,
    ...(o.time === undefined ? {} : { time: o.time }),
    ...(o.transactionId === undefined ? {} : { transactionId: o.transactionId }),
    ...(payout.userId === undefined ? {} : { userId: payout.userId }),
  };
}

/**
 * Encodes and signs an API-5 callback as `encodeCallback` does an API-2 one (the same checks and
 * literal amount), with `payout_no`. Throws `invalid_callback` for what cannot be sent.
 */
export function encodePayoutCallback(
  callback: PayoutCallback,
  token: string,
  now: () => number = Date.now,
): EncodedCallback {
  if (typeof callback !== "object" || callback === null) {
    throw new SdkError("invalid_callback", "the callback must be an object");
  }
  const { payoutNo, ...fields } = callback;
  if (typeof payoutNo !== "string" || payoutNo === "") {
    throw new SdkError("invalid_callback", "payoutNo must be a non-empty string");
  }
  return encodeSigned("payout_no", payoutNo, fields, token, now);
}

/**
 * The API-5 endpoint: `CRM_Callback_URL` (`https://crm.example.com/api/psp`) gets
 * `/payout/callback` appended; a URL already ending in it is used as it is, and the API-2
 * endpoint (ending in `/pay/callback`) has that replaced. Throws `invalid_url`.
 */
export function payoutCallbackEndpoint(callbackUrl: string): string {
  return endpointOf(callbackUrl, "/payout/callback");
}

/** Options of {@link sendPayoutCallback}: `sendCallback`'s, with an API-5 callback. */
export interface SendPayoutCallbackOptions extends DeliveryOptions {
  /** `CRM_Callback_URL` from the back office (`/payout/callback` is appended), or the full endpoint. */
  readonly callbackUrl: string;
  /** The integration's token: sent as `crm-pay-token` and used to sign. */
  readonly token: string;
  readonly callback: PayoutCallback;
}

/**
 * Signs and posts an API-5 callback to `{CRM_Callback_URL}/payout/callback`, by `sendCallback`'s
 * rules (docs/psp-open-api.md#api-2-retries): `done` on 2xx (a repeat of the payout's status is
 * `done` too: the CRM debits once); `done_conflicting` for `payment_status_not_pending` to a
 * final status (the payout already ended otherwise: look at it); network errors, timeouts and
 * 5xx retried with backoff until `deadlineMs` (`gave_up`); any other 3xx/4xx `rejected` with its
 * `type` and `detail`, never retried. Every attempt posts the same body.
 */
export async function sendPayoutCallback(options: SendPayoutCallbackOptions): Promise<SendCallbackResult> {
  const url = payoutCallbackEndpoint(options.callbackUrl);
  const { body } = encodePayoutCallback(options.callback, options.token);
  return deliver(url, body, options.token, isFinalCallbackStatus(options.callback.status), options);
}
