import { type FlatParams, type FlatValue, isoExponent, MAX_EXPONENT, tryParseAmount } from "@psphub/protocol";
import {
  API1_PARAM_NAMES,
  type Api1ParamConfig,
  type Api1ParamName,
  type Api1ParamSetting,
  defaultApi1ParamConfig,
  fromConfiguredKeys,
  isApi1ParamName,
  validateApi1ParamConfig,
} from "@psphub/protocol/admin";
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

/** Default cap on an API-1 body (ours): a real one is well under 4 KiB. */
export const DEFAULT_API1_MAX_BODY_BYTES = 64 * 1024;

/**
 * Per-parameter overrides of the API-1 key configuration, as set in the CRM's back office for
 * the integration: `{ order_no: { key: "orderId" }, email: { enabled: false } }`. Parameters not
 * listed keep their default key and are enabled. A complete `Api1ParamConfig` works too.
 */
export type Api1ParamConfigInput = Partial<Record<Api1ParamName, Partial<Api1ParamSetting>>>;

/**
 * The full API-1 configuration for `input` merged over the default, checked with the protocol's
 * rules (mandatory parameters enabled, unique keys, never `sign`). Throws `invalid_config`.
 */
export function resolveParamConfig(
  input: Api1ParamConfigInput | undefined,
  customKeys: readonly string[] = [],
): Api1ParamConfig {
  const config = defaultApi1ParamConfig();
  if (input !== undefined) {
    if (typeof input !== "object" || input === null || Array.isArray(input)) {
      throw new SdkError("invalid_config", "paramConfig must be an object keyed by parameter name");
    }
    for (const name of Object.keys(input)) {
      if (!isApi1ParamName(name)) {
        throw new SdkError(
          "invalid_config",
          `paramConfig: ${JSON.stringify(name)} is not an API-1 parameter (one of ${API1_PARAM_NAMES.join(", ")})`,
        );
      }
      const setting = input[name];
      if (typeof setting !== "object" || setting === null) {
        throw new SdkError("invalid_config", `paramConfig.${name} must be an object { key?, enabled? }`);
      }
      config[name] = {
        key: setting.key ?? config[name].key,
        enabled: setting.enabled ?? config[name].enabled,
      };
    }
  }
  const issues = validateApi1ParamConfig(config, customKeys);
  if (issues.length > 0) {
    throw new SdkError(
      "invalid_config",
      `the API-1 parameter configuration is invalid: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`,
    );
  }
  return config;
}

/** What the framework-free API-1 handler needs from a request. */
export type Api1Input = HandlerInput;

/** What to send back. `body` is JSON text. */
export type Api1Output = HandlerOutput;

/** An API-1 request that passed the token and signature checks, with its fields by name. */
export interface PaymentRequest {
  readonly merchantId: string;
  readonly orderNo: string;
  /** The amount exactly as the CRM wrote it (`"162.48"`, `"100"`): decimal text, never a float. */
  readonly amount: string;
  /**
   * The amount in minor units of `currency` (`16248n` for `"162.48"` USD), when the currency's
   * exponent is known (ISO 4217, or `currencyExponent`); otherwise `undefined`.
   */
  readonly amountMinor: bigint | undefined;
  /** The currency's exponent (2 for USD, 0 for JPY) when known. */
  readonly exponent: number | undefined;
  readonly currency: string;
  readonly userId?: string;
  readonly userName?: string;
  readonly email?: string;
  readonly phone?: string;
  readonly nationality?: string;
  readonly language?: string;
  readonly device?: string;
  /**
   * Custom parameters by key, as text (numbers as their literal, `true`/`false` as words). With
   * `customKeys` configured, only those keys; without, every key that is not a standard parameter.
   */
  readonly custom: Readonly<Record<string, string>>;
  /** Keys that are neither enabled standard parameters nor custom ones (only with `customKeys`). */
  readonly extra: Readonly<Record<string, FlatValue>>;
  /** Which of the configured tokens matched: 0 the current one, 1 the previous one, … */
  readonly tokenIndex: number;
  /** Every parameter as parsed (under the wire keys, `sign` included). */
  readonly params: Readonly<FlatParams>;
  /**
   * A test order of `psphub certify` (header `x-psphub-test: 1`, docs/certify.md#test-orders):
   * serve it as any other; you may keep it out of your books, or settle it by the test hooks.
   */
  readonly test: boolean;
}

/** What the tenant's code answers: the payment page URL, or a failure message for the client. */
export type PaymentAnswer = { readonly url: string } | { readonly error: string };

/**
 * Why a request was refused; given to `onReject` (log it to debug an integration). API-1 checks
 * no time, so never `stale_time`.
 */
export interface Api1Rejection extends CheckRejection {
  readonly reason: Exclude<CheckRejection["reason"], "stale_time">;
}

/** Options of {@link createApi1Handler}. */
export interface Api1HandlerOptions {
  /** The integration's token. Give `tokens` instead during a rotation. */
  readonly token?: string;
  /**
   * Tokens accepted, current first. During a rotation give `[current, previous]` until the CRM
   * has switched. A function is asked per request with the body's `merchant_id` (one backend
   * serving several integrations); answer `[]` for an unknown merchant.
   */
  readonly tokens?: TokenSource;
  /** The integration's API-1 key configuration (renames, disabled parameters). Default: the default keys. */
  readonly paramConfig?: Api1ParamConfigInput;
  /** The integration's custom parameter keys (`custom_1`, …). See {@link PaymentRequest.custom}. */
  readonly customKeys?: readonly string[];
  /** Exponent of currencies without an ISO 4217 minor unit (USDT…); falls back to ISO 4217. */
  readonly currencyExponent?: (currency: string) => number | undefined;
  /** Largest body accepted, in bytes (413 beyond it). Default 64 KiB. */
  readonly maxBodyBytes?: number;
  /** The tenant's code: create or look up the payment for `req.orderNo` and answer its page URL. */
  onPaymentRequest(req: PaymentRequest): PaymentAnswer | Promise<PaymentAnswer>;
  /** Told about every refused request (no token in it). Default: nothing. */
  onReject?(rejection: Api1Rejection): void;
  /** Told when `onPaymentRequest` throws or answers nonsense (the CRM gets a 500). Default: console.error. */
  onError?(error: unknown): void;
}

/** The framework-free API-1 handler; adapters wrap it for node:http, Express, Fastify and fetch. */
export interface Api1Handler extends RequestHandler {
  handle(input: Api1Input): Promise<Api1Output>;
}

/** API-1 success: `{"data":{"url":…},"result":true,"msg":""}` (docs/psp-open-api.md#api-1-response). */
export function api1Success(url: string): Api1Output {
  return {
    status: 200,
    headers: JSON_HEADERS,
    body: JSON.stringify({ data: { url }, result: true, msg: "" }),
  };
}

/** The API-1 failure answer, `{"data":null,"result":false,"msg":…}` (docs/psp-open-api.md#api-1-response). */
export function api1Failure(status: number, msg: string): Api1Output {
  return { status, headers: JSON_HEADERS, body: JSON.stringify({ data: null, result: false, msg }) };
}

function valueAsText(value: FlatValue, literal: string | undefined): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value === "number") return literal ?? String(value);
  return String(value);
}

const OPTIONAL_FIELDS = {
  user_id: "userId",
  user_name: "userName",
  email: "email",
  phone: "phone",
  nationality: "nationality",
  language: "language",
  device: "device",
} as const satisfies Partial<Record<Api1ParamName, keyof PaymentRequest>>;

/**
 * Creates the API-1 handler (docs/psp-open-api.md#api-1). For each request, in this order:
 *
 * 1. body at most `maxBodyBytes` (413), valid UTF-8 and one flat JSON object (400);
 * 2. `crm-pay-token` equal to one of the tokens, compared in constant time (401);
 * 3. `sign` verified over the raw body with that token: the literal number text (`100.0`) or
 *    `String(number)` (`100`) are both accepted (401);
 * 4. configured keys mapped back to named fields; `merchant_id`, `order_no`, `currency` must be
 *    non-empty strings, `amount` a non-negative JSON number (within the currency's decimals when
 *    the exponent is known), optional standard fields strings (400);
 * 5. `onPaymentRequest(req)`: `{ url }` answers `{"data":{"url":…},"result":true,"msg":""}`,
 *    `{ error }` answers `{"data":null,"result":false,"msg":error}` with 200. A throw or a URL
 *    that is not absolute `http(s):` answers 500 (and `onError`).
 *
 * Every refusal answers the API-1 envelope with `result: false` (docs/psp-open-api.md#api-1-response).
 * The CRM sends the same `order_no` only for the same order: answer the same URL when it asks again.
 */
export function createApi1Handler(options: Api1HandlerOptions): Api1Handler {
  if (typeof options !== "object" || options === null) {
    throw new SdkError("invalid_config", "createApi1Handler needs an options object");
  }
  if (typeof options.onPaymentRequest !== "function") {
    throw new SdkError("invalid_config", "onPaymentRequest must be a function");
  }
  const tokens = tokenSource(options);
  const maxBodyBytes = positiveInteger(options.maxBodyBytes, DEFAULT_API1_MAX_BODY_BYTES, "maxBodyBytes");
  const customKeys = options.customKeys;
  const config = resolveParamConfig(options.paramConfig, customKeys ?? []);
  const exponentOf = (currency: string): number | undefined => {
    const configured = options.currencyExponent?.(currency);
    return configured ?? isoExponent(currency);
  };
  const onError = options.onError ?? ((error: unknown) => console.error("@psphub/sdk API-1:", error));

  async function check(input: Api1Input): Promise<PaymentRequest> {
    // 1. Size, encoding, JSON.
    const { params, literals } = readFlatBody(input.rawBody, maxBodyBytes);

    // 2, 3. Token (the list for the body's merchant_id) and sign.
    const merchantValue = params[config.merchant_id.key];
    const accepted = await tokensFor(tokens, typeof merchantValue === "string" ? merchantValue : undefined);
    const tokenIndex = checkTokenAndSign(input.headers, accepted, params, literals);

    // 4. Fields by name.
    const decoded = fromConfiguredKeys(params, config, customKeys ?? []);
    const named = decoded.named;
    const requiredString = (name: Api1ParamName): string => {
      const value = named[name];
      const key = JSON.stringify(config[name].key);
      if (value === undefined || value === null || value === "") {
        throw reject(400, "missing_field", `${key} (${name}) is missing`);
      }
      if (typeof value !== "string") throw reject(400, "bad_field", `${key} (${name}) must be a string`);
      return value;
    };
    const merchantId = requiredString("merchant_id");
    const orderNo = requiredString("order_no");
    const currency = requiredString("currency");

    const amountKey = config.amount.key;
    const amountValue = named.amount;
    if (amountValue === undefined || amountValue === null || amountValue === "") {
      throw reject(400, "missing_field", `${JSON.stringify(amountKey)} (amount) is missing`);
    }
    if (typeof amountValue !== "number") {
      throw reject(400, "bad_field", `${JSON.stringify(amountKey)} (amount) must be a JSON number`);
    }
    const amount = literals[amountKey] ?? String(amountValue);
    const exponent = exponentOf(currency);
    const parsedAmount = tryParseAmount(amount, exponent ?? MAX_EXPONENT);
    if (!parsedAmount.ok) {
      throw reject(400, "bad_field", `${JSON.stringify(amountKey)} (amount): ${parsedAmount.message}`);
    }

    const optional: Partial<Record<(typeof OPTIONAL_FIELDS)[keyof typeof OPTIONAL_FIELDS], string>> = {};
    for (const name of Object.keys(OPTIONAL_FIELDS) as (keyof typeof OPTIONAL_FIELDS)[]) {
      const value = named[name];
      if (value === undefined || value === null || value === "") continue;
      if (typeof value !== "string") {
        throw reject(400, "bad_field", `${JSON.stringify(config[name].key)} (${name}) must be a string`);
      }
      optional[OPTIONAL_FIELDS[name]] = value;
    }

    const customSource = customKeys === undefined ? decoded.unknown : decoded.custom;
    const custom: Record<string, string> = Object.create(null);
    for (const key of Object.keys(customSource)) {
      const text = valueAsText(customSource[key], literals[key]);
      if (text !== undefined) custom[key] = text;
    }
    const extra = customKeys === undefined ? Object.create(null) : decoded.unknown;

    return {
      merchantId,
      orderNo,
      amount,
      amountMinor: exponent === undefined ? undefined : parsedAmount.minor,
      exponent,
      currency,
      ...optional,
      custom,
      extra,
      tokenIndex,
      params,
      test: headerValue(input.headers, TEST_ORDER_HEADER) === "1",
    };
  }

  return {
    maxBodyBytes,
    path: "/pay/url",
    tooLarge: () => api1Failure(413, PUBLIC_MESSAGE.too_large),
    failure: api1Failure,
    async handle(input: Api1Input): Promise<Api1Output> {
      let request: PaymentRequest;
      try {
        request = await check(input);
      } catch (error) {
        if (error instanceof Reject) {
          try {
            options.onReject?.(error.rejection as Api1Rejection);
          } catch {
            // A logging hook must not change the answer.
          }
          return api1Failure(error.rejection.status, PUBLIC_MESSAGE[error.rejection.reason]);
        }
        onError(error);
        return api1Failure(500, "internal error");
      }

      let answer: PaymentAnswer;
      try {
        answer = await options.onPaymentRequest(request);
      } catch (error) {
        onError(error);
        return api1Failure(500, "internal error");
      }
      if (typeof answer === "object" && answer !== null) {
        if ("url" in answer && typeof answer.url === "string" && isWebUrl(answer.url)) {
          return api1Success(answer.url);
        }
        if ("error" in answer && typeof answer.error === "string") {
          return api1Failure(200, answer.error === "" ? "payment refused" : answer.error);
        }
      }
      onError(
        new SdkError(
          "invalid_config",
          "onPaymentRequest must answer { url } with an absolute http(s) URL, or { error: message }",
        ),
      );
      return api1Failure(500, "internal error");
    },
  };
}

function isWebUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === "https:" || url.protocol === "http:";
  } catch {
    return false;
  }
}
