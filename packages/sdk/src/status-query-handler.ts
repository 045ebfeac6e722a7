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

/** A status as a lookup answers it, by number or by name, as an outcome name. */
export const outcomeOf = (status: CallbackStatusValue | OutcomeName): OutcomeName =>
  isCallbackStatus(status) ? OUTCOME_OF[status] : status;

/** The options every status handler takes (the order's and the payout's), `Q` its query. */
export interface StatusHandlerOptions<Q, S> {
  readonly token?: string;
  readonly tokens?: TokenSource;
  lookup(id: string, query: Q): S | null | Promise<S | null>;
  readonly maxClockSkewMs?: number;
  readonly maxBodyBytes?: number;
  onReject?(rejection: CheckRejection): void;
  onError?(error: unknown): void;
  readonly now?: () => number;
}

/** What makes one status handler: the key it reads, where it is, and how it answers. */
export interface StatusHandlerKind<Q, S> {
  /** The factory's name, for configuration errors. */
  readonly name: string;
  readonly idKey: "order_no" | "payout_no";
  readonly path: string;
  /** `data.code` and `msg` of the answer for an unknown id. */
  readonly notFound: { readonly code: string; readonly msg: string };
  /** Prefix of `onError`'s default console line. */
  readonly label: string;
  /** The query handed to `lookup`, from the checked fields. */
  query(checked: {
    merchantId: string;
    id: string;
    time: number;
    tokenIndex: number;
    params: Readonly<FlatParams>;
  }): Q;
  /** The signed body (JSON text) that answers `found`, signed with `token`. */
  encode(query: Q, found: S, token: string, now: () => number): string;
}

/**
 * The status handler of one kind (the order's API-3 below, the payout's in
 * payout-status-handler.ts): checks, lookup, the signed answer or `notFound`.
 */
export function createStatusHandler<Q, S>(
  kind: StatusHandlerKind<Q, S>,
  options: StatusHandlerOptions<Q, S>,
): RequestHandler & { readonly path: string } {
  if (typeof options !== "object" || options === null) {
    throw new SdkError("invalid_config", `${kind.name} needs an options object`);
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
  const onError = options.onError ?? ((error: unknown) => console.error(`@psphub/sdk ${kind.label}:`, error));

  async function check(input: HandlerInput): Promise<{ query: Q; id: string; token: string }> {
    const { params, literals } = readFlatBody(input.rawBody, maxBodyBytes);
    const merchantValue = params.merchant_id;
    const accepted = await tokensFor(tokens, typeof merchantValue === "string" ? merchantValue : undefined);
    const tokenIndex = checkTokenAndSign(input.headers, accepted, params, literals);

    const text = (key: "merchant_id" | "order_no" | "payout_no"): string => {
      const value = params[key];
      if (value === undefined || value === null || value === "")
        throw reject(400, "missing_field", `${key} is missing`);
      if (typeof value !== "string") throw reject(400, "bad_field", `${key} must be a string`);
      return value;
    };
    const merchantId = text("merchant_id");
    const id = text(kind.idKey);
    const time = params.time;
    if (time === undefined || time === null || time === "")
      throw reject(400, "missing_field", "time is missing");
    if (typeof time !== "number" || !Number.isSafeInteger(time) || time < 0) {
      throw reject(400, "bad_field", "time must be Unix milliseconds (a non-negative integer)");
    }
    if (skew !== undefined && Math.abs(now() - time) > skew) {
      throw reject(401, "stale_time", `time is ${now() - time} ms from this clock (at most ${skew} allowed)`);
    }
    const query = kind.query({ merchantId, id, time, tokenIndex, params });
    return { query, id, token: accepted[tokenIndex]! };
  }

  return {
    maxBodyBytes,
    path: kind.path,
    tooLarge: () => statusFailure(413, PUBLIC_MESSAGE.too_large, "too_large"),
    failure: (status, msg) =>
      statusFailure(status, msg, status === 405 ? "method_not_allowed" : "bad_request"),
    async handle(input) {
      let checked: { query: Q; id: string; token: string };
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
      const { query, id, token } = checked;
      try {
        const found = await options.lookup(id, query);
        if (found === null || found === undefined) {
          return statusFailure(200, kind.notFound.msg, kind.notFound.code);
        }
        const body = kind.encode(query, found, token, now);
        // `data` is the encoded body itself, not re-serialised: its amount keeps the signed text.
        return { status: 200, headers: JSON_HEADERS, body: `{"result":true,"msg":"ok","data":${body}}` };
      } catch (error) {
        onError(error);
        return statusFailure(500, "internal error", "internal_error");
      }
    },
  };
}

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
  return createStatusHandler<StatusQuery, OrderStatus>(
    {
      name: "createStatusQueryHandler",
      idKey: "order_no",
      path: STATUS_QUERY_PATH,
      notFound: { code: ORDER_NOT_FOUND, msg: "order not found" },
      label: "status query",
      query: ({ merchantId, id, time, tokenIndex, params }) => ({
        merchantId,
        orderNo: id,
        time,
        tokenIndex,
        params,
      }),
      encode(query, found, token, now) {
        const callback = buildCallback(
          {
            merchantId: query.merchantId,
            orderNo: query.orderNo,
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
        return encodeCallback(callback, token, now).body;
      },
    },
    options,
  ) as StatusQueryHandler;
}
