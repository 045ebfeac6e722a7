import {
  type FlatParams,
  type FlatValue,
  isoExponent,
  isPayoutRequestKey,
  MAX_EXPONENT,
  PAYOUT_REQUEST_PATH,
  tryParseAmount,
} from "@psphub/protocol";
import { SdkError } from "./errors.js";
import {
  type CheckRejection,
  checkTokenAndSign,
  type HandlerInput,
  type HandlerOutput,
  headerValue,
  JSON_HEADERS,
  PUBLIC_MESSAGE,
  positiveInteger,
  Reject,
  type RequestHandler,
  readFlatBody,
  reject,
  TEST_ORDER_HEADER,
  type TokenSource,
  tokenSource,
  tokensFor,
} from "./request-checks.js";

/** Default cap on an API-4 body: a real one is well under 2 KiB. */
const DEFAULT_PAYOUT_MAX_BODY_BYTES = 16 * 1024;

/** The longest `transaction_id` the CRM reads from API-4's answer. */
const TRANSACTION_ID_MAX = 128;

/** An API-4 request that passed the token and signature checks (docs/psp-open-api.md#api-4). */
export interface PayoutRequest {
  readonly merchantId: string;
  /** The CRM's payout id, unique for ever: the key of your idempotency. */
  readonly payoutNo: string;
  /** The amount to pay out exactly as the CRM wrote it (`"95.5"`): decimal text, never a float. */
  readonly amount: string;
  /** The amount in minor units of `currency` (`9550n`), when the currency's exponent is known. */
  readonly amountMinor: bigint | undefined;
  /** The currency's exponent (2 for USD, 0 for JPY) when known. */
  readonly exponent: number | undefined;
  readonly currency: string;
  /** The client's CRM id. */
  readonly userId?: string;
  /** When the CRM sent it, Unix milliseconds. */
  readonly time: number;
  /**
   * The client's fields of the withdrawal method (`iban`, `address`…): every key that is not one
   * of API-4's own, as text (numbers as their literal, `true`/`false` as words).
   */
  readonly fields: Readonly<Record<string, string>>;
  /** Which of the configured tokens matched: 0 the current one, 1 the previous one, … */
  readonly tokenIndex: number;
  /** Every parameter as parsed (`sign` included). */
  readonly params: Readonly<FlatParams>;
  /**
   * A test payout of `psphub certify` (header `x-psphub-test: 1`, docs/certify.md#test-payouts):
   * pay nothing real; report it paid (the test hooks, `payoutTestHookSteps`), or as usual.
   */
  readonly test: boolean;
}

/**
 * What your code answers. `accepted: true`: you took the payout and will report its result by
 * API-5 (`sendPayoutCallback`); the CRM waits for it. `accepted: false`: you refuse and pay
 * nothing; the CRM fails the withdrawal and gives the client the money back.
 */
export type PayoutAnswer =
  | { readonly accepted: true; readonly transactionId?: string; readonly msg?: string }
  | { readonly accepted: false; readonly msg: string };

/** Why an API-4 request was refused; given to `onReject` (log it to debug an integration). */
export type PayoutRejection = CheckRejection;

/** Options of {@link createPayoutRequestHandler}. */
export interface PayoutRequestHandlerOptions {
  /** The integration's token. Give `tokens` instead during a rotation. */
  readonly token?: string;
  /**
   * Tokens accepted, current first (`[current, previous]` during a rotation), or a function asked
   * per request with the body's `merchant_id` (one backend serving several integrations); answer
   * `[]` for an unknown merchant.
   */
  readonly tokens?: TokenSource;
  /**
   * Your code: take the payout `req.payoutNo` (or refuse it). **It must be idempotent by
   * `payout_no`**: when the CRM does not get your answer it sends the same payout again, so a
   * payout you already took must answer `accepted: true` again (the same `transactionId`) and pay
   * nothing twice. Record the payout before you send money; {@link oncePerPayout} does this in
   * memory for one process.
   */
  onPayout(req: PayoutRequest): PayoutAnswer | Promise<PayoutAnswer>;
  /** Exponent of currencies without an ISO 4217 minor unit (USDT…); falls back to ISO 4217. */
  readonly currencyExponent?: (currency: string) => number | undefined;
  /**
   * Refuse (401, so the CRM retries later) a request whose `time` is further than this from your
   * clock, in ms. Default: no check (a replayed request is harmless to an idempotent backend).
   */
  readonly maxClockSkewMs?: number;
  /** Largest body accepted, in bytes (413 beyond it). Default 16 KiB. */
  readonly maxBodyBytes?: number;
  /** Told about every refused request (no token in it). Default: nothing. */
  onReject?(rejection: PayoutRejection): void;
  /** Told when `onPayout` throws or answers nonsense (the CRM gets a 500 and asks again). Default: console.error. */
  onError?(error: unknown): void;
  /** The clock, Unix ms (for `maxClockSkewMs`). Default `Date.now`. */
  readonly now?: () => number;
}

/** The framework-free API-4 handler; the SDK's adapters serve it like the API-1 handler. */
export interface PayoutRequestHandler extends RequestHandler {
  readonly path: typeof PAYOUT_REQUEST_PATH;
}

/** API-4's answer `{"result":…,"msg":…,"data":{…}}` (200): the payout taken, or refused. */
function payoutAnswer(result: boolean, msg: string, data: Record<string, string>): HandlerOutput {
  return { status: 200, headers: JSON_HEADERS, body: JSON.stringify({ result, msg, data }) };
}

/**
 * Any other answer: `{"msg":…,"data":{"code":…}}` with a 4xx or 5xx status and **no `result`**,
 * so that not even a reader of the body alone could take it for a refusal (a refusal fails the
 * withdrawal; this answer leaves its outcome unknown, and the CRM asks again).
 */
const failure = (status: number, msg: string, code: string): HandlerOutput => ({
  status,
  headers: JSON_HEADERS,
  body: JSON.stringify({ msg, data: { code } }),
});

function valueAsText(value: FlatValue, literal: string | undefined): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value === "number") return literal ?? String(value);
  return String(value);
}

/**
 * Creates the API-4 handler (docs/psp-open-api.md#api-4), the CRM's `POST {APP_URL}/payout/request`.
 * For each request, in this order:
 *
 * 1. body at most `maxBodyBytes` (413), valid UTF-8 and one flat JSON object (400);
 * 2. `crm-pay-token` equal to one of the tokens, compared in constant time (401);
 * 3. `sign` verified over the raw body with that token: the literal number text or `String(n)` (401);
 * 4. `merchant_id`, `payout_no`, `currency` non-empty strings, `amount` a non-negative JSON number
 *    (within the currency's decimals when its exponent is known), `time` a non-negative integer,
 *    `user_id` a string when present (400); `time` within `maxClockSkewMs` when set (401);
 * 5. `onPayout(req)`: `{ accepted: true, transactionId? }` answers 200
 *    `{"result":true,"msg":"ok","data":{"transaction_id":…}}` (`"data":{}` without one);
 *    `{ accepted: false, msg }` answers 200 `{"result":false,"msg":…,"data":{"code":"payout_refused"}}`.
 *    A throw, or an answer that is neither, answers 500 (and `onError`).
 *
 * Refusals of steps 1–4 answer `{"msg":…,"data":{"code":<reason>}}` with their 4xx status, and
 * failures 500 `{"msg":"internal error","data":{"code":"internal_error"}}`: no `result`, so the CRM
 * reads the outcome as unknown and sends the payout again later. Only your `accepted: false`
 * answers `result: false`, the one answer that fails the withdrawal.
 */
export function createPayoutRequestHandler(options: PayoutRequestHandlerOptions): PayoutRequestHandler {
  if (typeof options !== "object" || options === null) {
    throw new SdkError("invalid_config", "createPayoutRequestHandler needs an options object");
  }
  if (typeof options.onPayout !== "function")
    throw new SdkError("invalid_config", "onPayout must be a function");
  const tokens = tokenSource(options);
  const maxBodyBytes = positiveInteger(options.maxBodyBytes, DEFAULT_PAYOUT_MAX_BODY_BYTES, "maxBodyBytes");
  const skew = options.maxClockSkewMs;
  if (skew !== undefined && (!Number.isSafeInteger(skew) || skew < 0)) {
    throw new SdkError("invalid_config", "maxClockSkewMs must be a non-negative integer");
  }
  const now = options.now ?? Date.now;
  const exponentOf = (currency: string): number | undefined =>
    options.currencyExponent?.(currency) ?? isoExponent(currency);
  const onError = options.onError ?? ((error: unknown) => console.error("@psphub/sdk API-4:", error));

  async function check(input: HandlerInput): Promise<PayoutRequest> {
    const { params, literals } = readFlatBody(input.rawBody, maxBodyBytes);
    const merchantValue = params.merchant_id;
    const accepted = await tokensFor(tokens, typeof merchantValue === "string" ? merchantValue : undefined);
    const tokenIndex = checkTokenAndSign(input.headers, accepted, params, literals);

    const absent = (value: FlatValue) => value === undefined || value === null || value === "";
    const text = (key: "merchant_id" | "payout_no" | "currency"): string => {
      const value = params[key];
      if (absent(value)) throw reject(400, "missing_field", `${key} is missing`);
      if (typeof value !== "string") throw reject(400, "bad_field", `${key} must be a string`);
      return value;
    };
    const merchantId = text("merchant_id");
    const payoutNo = text("payout_no");
    const currency = text("currency");

    const amountValue = params.amount;
    if (absent(amountValue)) throw reject(400, "missing_field", "amount is missing");
    if (typeof amountValue !== "number") throw reject(400, "bad_field", "amount must be a JSON number");
    const amount = literals.amount ?? String(amountValue);
    const exponent = exponentOf(currency);
    const parsedAmount = tryParseAmount(amount, exponent ?? MAX_EXPONENT);
    if (!parsedAmount.ok) throw reject(400, "bad_field", `amount: ${parsedAmount.message}`);

    const time = params.time;
    if (absent(time)) throw reject(400, "missing_field", "time is missing");
    if (typeof time !== "number" || !Number.isSafeInteger(time) || time < 0) {
      throw reject(400, "bad_field", "time must be Unix milliseconds (a non-negative integer)");
    }
    if (skew !== undefined && Math.abs(now() - time) > skew) {
      throw reject(401, "stale_time", `time is ${now() - time} ms from this clock (at most ${skew} allowed)`);
    }
    const userValue = params.user_id;
    if (!absent(userValue) && typeof userValue !== "string") {
      throw reject(400, "bad_field", "user_id must be a string");
    }

    const fields: Record<string, string> = Object.create(null);
    for (const key of Object.keys(params)) {
      if (isPayoutRequestKey(key)) continue;
      const value = valueAsText(params[key], literals[key]);
      if (value !== undefined) fields[key] = value;
    }
    return {
      merchantId,
      payoutNo,
      amount,
      amountMinor: exponent === undefined ? undefined : parsedAmount.minor,
      exponent,
      currency,
      ...(absent(userValue) ? {} : { userId: userValue as string }),
      time,
      fields,
      tokenIndex,
      params,
      test: headerValue(input.headers, TEST_ORDER_HEADER) === "1",
    };
  }

  return {
    maxBodyBytes,
    path: PAYOUT_REQUEST_PATH,
    tooLarge: () => failure(413, PUBLIC_MESSAGE.too_large, "too_large"),
    failure: (status, msg) => failure(status, msg, status === 405 ? "method_not_allowed" : "bad_request"),
    async handle(input) {
      let request: PayoutRequest;
      try {
        request = await check(input);
      } catch (error) {
        if (error instanceof Reject) {
          const { rejection } = error;
          try {
            options.onReject?.(rejection);
          } catch {
            // A logging hook must not change the answer.
          }
          return failure(rejection.status, PUBLIC_MESSAGE[rejection.reason], rejection.reason);
        }
        onError(error);
        return failure(500, "internal error", "internal_error");
      }
      let answer: PayoutAnswer;
      try {
        answer = await options.onPayout(request);
      } catch (error) {
        onError(error);
        return failure(500, "internal error", "internal_error");
      }
      const problem = answerProblem(answer);
      if (problem !== undefined) {
        onError(new SdkError("invalid_config", problem));
        return failure(500, "internal error", "internal_error");
      }
      if (answer.accepted) {
        const tx = answer.transactionId;
        return payoutAnswer(true, answer.msg || "ok", tx ? { transaction_id: tx } : {});
      }
      return payoutAnswer(false, answer.msg || "payout refused", { code: "payout_refused" });
    },
  };
}

/** Why an `onPayout` answer cannot be sent, or undefined when it can. */
function answerProblem(answer: unknown): string | undefined {
  const shape =
    "onPayout must answer { accepted: true, transactionId? } or { accepted: false, msg: message }";
  if (typeof answer !== "object" || answer === null) return shape;
  const a = answer as { accepted?: unknown; transactionId?: unknown; msg?: unknown };
  if (a.accepted !== true && a.accepted !== false) return shape;
  if (a.msg !== undefined && typeof a.msg !== "string") return "onPayout's msg must be a string";
  if (a.accepted === true && a.transactionId !== undefined && a.transactionId !== "") {
    if (typeof a.transactionId !== "string" || a.transactionId.length > TRANSACTION_ID_MAX)
      return `onPayout's transactionId must be a string of at most ${TRANSACTION_ID_MAX} characters`;
  }
  return undefined;
}

/** Options of {@link oncePerPayout}. */
export interface OncePerPayoutOptions {
  /** Payouts remembered; the oldest are forgotten beyond it. Default 10,000. */
  readonly maxEntries?: number;
}

/**
 * Makes `onPayout` idempotent by `payout_no`, in memory: the first request of a payout (per
 * `merchant_id`) runs it; every later or concurrent one gets the same answer without running it
 * again. A repeat with another amount or currency throws `payout_conflict` (the CRM gets a 500,
 * `onError` the reason); a throw of `onPayout` is not remembered, so the CRM's next try runs it
 * again.
 *
 * For one process and for tests: the memory goes with the process. A real backend records each
 * payout in its database under `payout_no` (a unique key) before it sends money, and answers a
 * repeat from that record.
 *
 * ```ts
 * createPayoutRequestHandler({ token, onPayout: oncePerPayout(async (req) => {
 *   const id = await bank.transfer(req.fields.iban, req.amount, req.currency);
 *   return { accepted: true, transactionId: id };
 * }) });
 * ```
 */
export function oncePerPayout(
  onPayout: (req: PayoutRequest) => PayoutAnswer | Promise<PayoutAnswer>,
  options: OncePerPayoutOptions = {},
): (req: PayoutRequest) => Promise<PayoutAnswer> {
  if (typeof onPayout !== "function") throw new SdkError("invalid_config", "onPayout must be a function");
  const maxEntries = positiveInteger(options.maxEntries, 10_000, "maxEntries");
  const seen = new Map<string, { facts: string; answer: Promise<PayoutAnswer> }>();
  return (req) => {
    const key = `${req.merchantId}\u0000${req.payoutNo}`;
    const facts = `${req.currency} ${req.amountMinor === undefined ? req.amount : String(req.amountMinor)}`;
    const known = seen.get(key);
    if (known !== undefined) {
      if (known.facts !== facts) {
        return Promise.reject(
          new SdkError(
            "payout_conflict",
            `payout ${req.payoutNo} came again with ${req.amount} ${req.currency}, not what it first asked for`,
          ),
        );
      }
      return known.answer;
    }
    if (seen.size >= maxEntries) {
      const oldest = seen.keys().next().value;
      if (oldest !== undefined) seen.delete(oldest);
    }
    const answer = (async () => onPayout(req))();
    seen.set(key, { facts, answer });
    answer.catch(() => {
      if (seen.get(key)?.answer === answer) seen.delete(key);
    });
    return answer;
  };
}
