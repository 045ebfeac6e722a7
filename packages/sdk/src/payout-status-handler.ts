import { type FlatParams, PAYOUT_NOT_FOUND, PAYOUT_STATUS_PATH } from "@psphub/protocol";
import { buildPayoutCallback, encodePayoutCallback } from "./payout-callback.js";
import type { CheckRejection, RequestHandler, TokenSource } from "./request-checks.js";
import { createStatusHandler, type OrderStatus, outcomeOf } from "./status-query-handler.js";

/** A payout status query that passed the token and signature checks (docs/psp-open-api.md#payout-status-query). */
export interface PayoutStatusQuery {
  readonly merchantId: string;
  readonly payoutNo: string;
  /** When the CRM sent it, Unix milliseconds. */
  readonly time: number;
  /** Which of the configured tokens matched: 0 the current one, 1 the previous one, … */
  readonly tokenIndex: number;
  /** Every parameter as parsed (`sign` included). */
  readonly params: Readonly<FlatParams>;
}

/**
 * Where a payout stands on your side, as your lookup answers it; the handler turns it into a
 * signed API-5 body, exactly what `sendPayoutCallback` would post for it. `status`: `1` or
 * `"success"` paid, `0` or `"failed"` failed (nothing was or will be paid), `2` or
 * `"processing"` still under way. `amount` is API-4's amount as decimal text (`"95.5"` or
 * `"95.50"`, never a float): the CRM takes only that exact amount.
 */
export type PayoutStatus = OrderStatus;

/** Why a payout status query was refused; given to `onReject`. */
export type PayoutStatusRejection = CheckRejection;

/** Options of {@link createPayoutStatusHandler}: those of `createStatusQueryHandler`. */
export interface PayoutStatusHandlerOptions {
  readonly token?: string;
  /** Tokens accepted, current first, or a function of the body's `merchant_id`; `data` is signed with the one that matched. */
  readonly tokens?: TokenSource;
  /** Your lookup: where `payoutNo` stands, or `null` when you do not know it (`payout_not_found`). */
  lookup(payoutNo: string, query: PayoutStatusQuery): PayoutStatus | null | Promise<PayoutStatus | null>;
  /** Refuse (401) a query whose `time` is further than this from your clock, in ms. Default: no check. */
  readonly maxClockSkewMs?: number;
  /** Largest body accepted, in bytes (413 beyond it). Default 4 KiB. */
  readonly maxBodyBytes?: number;
  onReject?(rejection: PayoutStatusRejection): void;
  /** Told when `lookup` throws or answers what cannot be signed (the CRM gets a 500). Default: console.error. */
  onError?(error: unknown): void;
  /** The clock, Unix ms. Default `Date.now`. */
  readonly now?: () => number;
}

/** The framework-free payout status handler; the SDK's adapters serve it. */
export interface PayoutStatusHandler extends RequestHandler {
  readonly path: typeof PAYOUT_STATUS_PATH;
}

/**
 * Creates the payout status query handler (docs/psp-open-api.md#payout-status-query), the CRM's
 * `POST {APP_URL}/payout/status`: the twin of `createStatusQueryHandler`, with `payout_no` for
 * `order_no`. Checks, in order: body size (413), one flat JSON object (400), `crm-pay-token` (401),
 * `sign` (401), `merchant_id` and `payout_no` strings and `time` an integer (400), the optional
 * clock skew (401). Then `lookup(payoutNo, query)`: a {@link PayoutStatus} answers 200
 * `{"result":true,"msg":"ok","data":<the API-5 body, signed with the matched token>}`; `null`
 * answers 200 `{"result":false,"msg":"payout not found","data":{"code":"payout_not_found"}}`; a
 * throw or a status that cannot be encoded answers 500. Refusals answer
 * `{"result":false,"msg":…,"data":{"code":<reason>}}`.
 */
export function createPayoutStatusHandler(options: PayoutStatusHandlerOptions): PayoutStatusHandler {
  return createStatusHandler<PayoutStatusQuery, PayoutStatus>(
    {
      name: "createPayoutStatusHandler",
      idKey: "payout_no",
      path: PAYOUT_STATUS_PATH,
      notFound: { code: PAYOUT_NOT_FOUND, msg: "payout not found" },
      label: "payout status query",
      query: ({ merchantId, id, time, tokenIndex, params }) => ({
        merchantId,
        payoutNo: id,
        time,
        tokenIndex,
        params,
      }),
      encode(query, found, token, now) {
        const callback = buildPayoutCallback(
          {
            merchantId: query.merchantId,
            payoutNo: query.payoutNo,
            amount: found.amount,
            currency: found.currency,
            ...(found.userId === undefined ? {} : { userId: found.userId }),
          },
          {
            status: outcomeOf(found.status),
            ...(found.transactionId === undefined ? {} : { transactionId: found.transactionId }),
            ...(found.time === undefined ? {} : { time: found.time }),
          },
        );
        return encodePayoutCallback(callback, token, now).body;
      },
    },
    options,
  ) as PayoutStatusHandler;
}
