import {
  type CallbackStatusValue,
  type FlatParams,
  isCallbackStatus,
  ORDER_NOT_FOUND,
  STATUS_QUERY_PATH,
} from "@psphub/protocol";
import { buildCallback, encodeCallback, type OutcomeName } from "./callback.js";
import { SdkError } from "./errors.js";
import {
  type CheckRejection,
  checkTokenAndSign,
  type HandlerInput,
  type HandlerOutput,
  JSON_HEADERS,
  PUBLIC_MESSAGE,
  positiveInteger,
  Reject,
  type RequestHandler,
  readFlatBody,
  reject,
  type TokenSource,
  tokenSource,
  tokensFor,
} from "./request-checks.js";

/** Default cap on a status query's body: a real one is about 150 bytes. */
const DEFAULT_STATUS_QUERY_MAX_BODY_BYTES = 4 * 1024;

/** A status query that passed the token and signature checks (docs/psp-open-api.md#api-3-status-query). */
export interface StatusQuery {
  readonly merchantId: string;
  readonly orderNo: string;
  /** When the CRM sent it, Unix milliseconds. */
  readonly time: number;
  /** Which of the configured tokens matched: 0 the current one, 1 the previous one, … */
  readonly tokenIndex: number;
  /** Every parameter as parsed (`sign` included). */
  readonly params: Readonly<FlatParams>;
}

/**
 * Where an order stands on your side, as your lookup answers it. The handler turns it into a
 * signed API-2 body, exactly what `sendCallback` would post for it.
 */
export interface OrderStatus {
  /**
   * `1` or `"success"`: paid. `0` or `"failed"`: failed, and also any payment that can no longer
   * be paid (expired, abandoned, cancelled at the provider), so the CRM closes the order instead
   * of asking an admin. `2` or `"processing"`: still open.
   */
  readonly status: CallbackStatusValue | OutcomeName;
  /** The amount paid (or ordered, while open) as decimal text: `"162.48"`, never a float. */
  readonly amount: string;
  readonly currency: string;
  /** Your or your provider's transaction id. */
  readonly transactionId?: string;
  /** The client's CRM id, as API-1 gave it. */
  readonly userId?: string;
  /** When the order reached this status, Unix ms. Default: now. */
  readonly time?: number;
}

/** Why a status query was refused; given to `onReject` (log it to debug an integration). */
export type StatusQueryRejection = CheckRejection;

/** Options of {@link createStatusQueryHandler}. */
export interface StatusQueryHandlerOptions {
  /** The integration's token. Give `tokens` instead during a rotation. */
  readonly token?: string;
  /**
   * Tokens accepted, current first (`[current, previous]` during a rotation), or a function asked
   * per request with the body's `merchant_id`; answer `[]` for an unknown merchant. The answer's
   * `data` is signed with the token the request's header matched.
   */
  readonly tokens?: TokenSource;
  /**
   * Your lookup: where `orderNo` stands, or `null` when you do not know it (the CRM is told
   * `order_not_found`). `query.merchantId` tells a backend serving several integrations which one.
   */
  lookup(orderNo: string, query: StatusQuery): OrderStatus | null | Promise<OrderStatus | null>;
  /**
   * Refuse (401) a query whose `time` is further than this from your clock, in ms. Default: no
   * check; a replayed query only reads a status, so the check is a choice, not a need.
   */
  readonly maxClockSkewMs?: number;
  /** Largest body accepted, in bytes (413 beyond it). Default 4 KiB. */
  readonly maxBodyBytes?: number;
  /** Told about every refused request (no token in it). Default: nothing. */
  onReject?(rejection: StatusQueryRejection): void;
  /** Told when `lookup` throws or answers what cannot be signed (the CRM gets a 500). Default: console.error. */
  onError?(error: unknown): void;
  /** The clock, Unix ms (for `maxClockSkewMs` and a default `time`). Default `Date.now`. */
  readonly now?: () => number;
}

/** The framework-free status query handler; the SDK's adapters serve it like the API-1 handler. */
export interface StatusQueryHandler extends RequestHandler {
  readonly path: typeof STATUS_QUERY_PATH;
}

/** A status query failure: `{"result":false,"msg":…,"data":{"code":…}}`. */
function statusFailure(status: number, msg: string, code: string): HandlerOutput {
  return { status, headers: JSON_HEADERS, body: JSON.stringify({ result: false, msg, data: { code } }) };
}

const OUTCOME_OF: Record<CallbackStatusValue, OutcomeName> = { 0: "failed", 1: "success", 2: "processing" };

/**
 * Creates the API-3 status query handler (docs/psp-open-api.md#api-3-status-query), the CRM's
 * `POST {APP_URL}/pay/status`. For each request, in this order:
 *
 * 1. body at most `maxBodyBytes` (413), valid UTF-8 and one flat JSON object (400);
 * 2. `crm-pay-token` equal to one of the tokens, compared in constant time (401);
 * 3. `sign` verified over the raw body with that token (401);
 * 4. `merchant_id` and `order_no` non-empty strings, `time` a non-negative integer (400), and
 *    within `maxClockSkewMs` of now when set (401);
 * 5. `lookup(orderNo, query)`: an {@link OrderStatus} answers 200
 *    `{"result":true,"msg":"ok","data":<the API-2 body, signed with the matched token>}`;
 *    `null` answers 200 `{"result":false,"msg":"order not found","data":{"code":"order_not_found"}}`.
 *    A throw, or a status that cannot be encoded (a float amount, a status other than 0/1/2),
 *    answers 500 (and `onError`).
 *
 * Refusals answer `{"result":false,"msg":…,"data":{"code":<reason>}}`.
 */
export function createStatusQueryHandler(options: StatusQueryHandlerOptions): StatusQueryHandler {
  if (typeof options !== "object" || options === null) {
    throw new SdkError("invalid_config", "createStatusQueryHandler needs an options object");
  }
  if (typeof options.lookup !== "function") throw new SdkError("invalid_config", "lookup must be a function");
  const tokens = tokenSource(options);
  const maxBodyBytes = positiveInteger(
    options.maxBodyBytes,
    DEFAULT_STATUS_QUERY_MAX_BODY_BYTES,
    "maxBodyBytes",
  );
  const skew = options.maxClockSkewMs;
  if (skew !== undefined && (!Number.isSafeInteger(skew) || skew < 0)) {
    throw new SdkError("invalid_config", "maxClockSkewMs must be a non-negative integer");
  }
  const now = options.now ?? Date.now;
  const onError = options.onError ?? ((error: unknown) => console.error("@psphub/sdk status query:", error));

  async function check(input: HandlerInput): Promise<{ query: StatusQuery; token: string }> {
    const { params, literals } = readFlatBody(input.rawBody, maxBodyBytes);
    const merchantValue = params.merchant_id;
    const accepted = await tokensFor(tokens, typeof merchantValue === "string" ? merchantValue : undefined);
    const tokenIndex = checkTokenAndSign(input.headers, accepted, params, literals);

    const text = (key: "merchant_id" | "order_no"): string => {
      const value = params[key];
      if (value === undefined || value === null || value === "")
        throw reject(400, "missing_field", `${key} is missing`);
      if (typeof value !== "string") throw reject(400, "bad_field", `${key} must be a string`);
      return value;
    };
    const merchantId = text("merchant_id");
    const orderNo = text("order_no");
    const time = params.time;
    if (time === undefined || time === null || time === "")
      throw reject(400, "missing_field", "time is missing");
    if (typeof time !== "number" || !Number.isSafeInteger(time) || time < 0) {
      throw reject(400, "bad_field", "time must be Unix milliseconds (a non-negative integer)");
    }
    if (skew !== undefined && Math.abs(now() - time) > skew) {
      throw reject(401, "stale_time", `time is ${now() - time} ms from this clock (at most ${skew} allowed)`);
    }
    return { query: { merchantId, orderNo, time, tokenIndex, params }, token: accepted[tokenIndex]! };
  }

  return {
    maxBodyBytes,
    path: STATUS_QUERY_PATH,
    tooLarge: () => statusFailure(413, PUBLIC_MESSAGE.too_large, "too_large"),
    failure: (status, msg) =>
      statusFailure(status, msg, status === 405 ? "method_not_allowed" : "bad_request"),
    async handle(input) {
      let checked: { query: StatusQuery; token: string };
      try {
        checked = await check(input);
      } catch (error) {
        if (error instanceof Reject) {
          const { rejection } = error;
          try {
            options.onReject?.(rejection);
          } catch {
            // A logging hook must not change the answer.
          }
          return statusFailure(rejection.status, PUBLIC_MESSAGE[rejection.reason], rejection.reason);
        }
        onError(error);
        return statusFailure(500, "internal error", "internal_error");
      }
      const { query, token } = checked;
      try {
        const found = await options.lookup(query.orderNo, query);
        if (found === null || found === undefined) {
          return statusFailure(200, "order not found", ORDER_NOT_FOUND);
        }
        const status = isCallbackStatus(found.status) ? OUTCOME_OF[found.status] : found.status;
        const callback = buildCallback(
          {
            merchantId: query.merchantId,
            orderNo: query.orderNo,
            amount: found.amount,
            currency: found.currency,
            ...(found.userId === undefined ? {} : { userId: found.userId }),
          },
          {
            status,
            ...(found.transactionId === undefined ? {} : { transactionId: found.transactionId }),
            ...(found.time === undefined ? {} : { time: found.time }),
          },
        );
        const { body } = encodeCallback(callback, token, now);
        // `data` is the encoded body itself, not re-serialised: its amount keeps the signed text.
        return { status: 200, headers: JSON_HEADERS, body: `{"result":true,"msg":"ok","data":${body}}` };
      } catch (error) {
        onError(error);
        return statusFailure(500, "internal error", "internal_error");
      }
    },
  };
}
