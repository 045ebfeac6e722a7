/** Codes of {@link ProtocolError}: one per way an input can break a protocol rule. */
export type ProtocolErrorCode =
  /** The text is not JSON (syntax error, trailing text after the object). */
  | "invalid_json"
  /** Valid JSON, but not an object (`[]`, `"x"`, `1`). */
  | "not_object"
  /** An object or array as a parameter value: neither API allows them. */
  | "nested_value"
  /** The same key twice: signer and verifier could read different values (a forgery vector). */
  | "duplicate_key"
  /** A value that cannot be signed: NaN/Infinity, a number out of range, a lone surrogate, a bigint… */
  | "invalid_value"
  /** Signing or verifying with an empty token. */
  | "empty_token"
  /** Not an amount: grammar (`+1`, `007`, `1.`, hex, whitespace, empty). */
  | "amount_invalid"
  /** More decimals than the currency's exponent allows. */
  | "amount_too_precise"
  /** A negative amount (any leading `-`). */
  | "amount_negative"
  /** More than 15 significant digits, or 10^15 and above. */
  | "amount_too_large"
  /** A currency exponent outside 0..8 (a programming or configuration error). */
  | "exponent_invalid"
  /** Not an exchange rate or markup (fx.ts): grammar, zero, too many digits, a markup out of range. */
  | "rate_invalid"
  /** Not a webhook secret `whsec_<base64 of 24–64 bytes>` (webhook-signature.ts). */
  | "webhook_secret_invalid";

/**
 * The one error type this package throws. `code` is stable and meant for programs;
 * `message` is for people and names the offending key where there is one.
 */
export class ProtocolError extends Error {
  override readonly name: string = "ProtocolError";
  readonly code: ProtocolErrorCode;

  constructor(code: ProtocolErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** Codes of {@link MoneyError}. */
export type MoneyErrorCode =
  | "amount_invalid"
  | "amount_too_precise"
  | "amount_negative"
  | "amount_too_large"
  | "exponent_invalid";

/** A {@link ProtocolError} about an amount (rules in money.ts). */
export class MoneyError extends ProtocolError {
  override readonly name: string = "MoneyError";
  declare readonly code: MoneyErrorCode;

  constructor(code: MoneyErrorCode, message: string) {
    super(code, message);
  }
}

/**
 * One row of {@link CALLBACK_ERROR_TYPES}. `ours` marks types this project added to the spec's nine
 * (docs/psp-open-api.md#api-2-error-types).
 */
export interface CallbackErrorTypeInfo {
  readonly httpStatus: 400 | 413 | 500;
  readonly meaning: string;
  readonly ours: boolean;
}

/**
 * API-2 error types (docs/psp-open-api.md#api-2-error-types), each with the HTTP status the CRM
 * answers and when it applies. The last three are ours: the spec lists no type for a body that
 * cannot be read at all, nor for the CRM's own storage failing (retry those).
 */
export const CALLBACK_ERROR_TYPES = {
  psp_token_invalid: {
    httpStatus: 400,
    meaning: "header token missing or wrong, or `sign` does not verify",
    ours: false,
  },
  psp_setting_not_found: {
    httpStatus: 400,
    meaning: "no integration with that `merchant_id`, or it is disabled",
    ours: false,
  },
  deposit_method_not_found: {
    httpStatus: 400,
    meaning: "the order's deposit method is gone or not configured",
    ours: false,
  },
  payment_not_found: {
    httpStatus: 400,
    meaning: "no order with that `order_no` under that integration",
    ours: false,
  },
  payment_status_not_pending: {
    httpStatus: 400,
    meaning: "the order already reached a different final status",
    ours: false,
  },
  payment_request_exists: {
    httpStatus: 400,
    meaning: "a payment request already exists for this order",
    ours: false,
  },
  payment_status_not_allowed: {
    httpStatus: 400,
    meaning: "`status` is not 0, 1 or 2, or not allowed from the order's status",
    ours: false,
  },
  payment_amount_not_allowed: {
    httpStatus: 400,
    meaning: "`amount` is not a valid amount, or differs from the order's",
    ours: false,
  },
  payment_currency_not_allowed: {
    httpStatus: 400,
    meaning: "`currency` differs from the order's or is not supported",
    ours: false,
  },
  request_malformed: {
    httpStatus: 400,
    meaning:
      "the body is not JSON or form-encoded, not an object, has nested values or duplicate keys, " +
      "a value of the wrong type, or misses a mandatory key",
    ours: true,
  },
  request_too_large: {
    httpStatus: 413,
    meaning: "the body is larger than the CRM accepts",
    ours: true,
  },
  internal_error: {
    httpStatus: 500,
    meaning: "the CRM could not record the callback (its storage failed); nothing was applied, retry later",
    ours: true,
  },
} as const satisfies Record<string, CallbackErrorTypeInfo>;

/** One of the API-2 error types. */
export type CallbackErrorType = keyof typeof CALLBACK_ERROR_TYPES;

/**
 * The API-2 error body: `{"error": true, "code": <HTTP status>, "type": "<type>"}`, and ours, an
 * optional `detail`: a short human reason (docs/psp-open-api.md#api-2-answers). A backend must not
 * depend on `detail`'s text, which may change; `type` is the contract.
 */
export interface CallbackErrorBody {
  readonly error: true;
  readonly code: 400 | 413 | 500;
  readonly type: CallbackErrorType;
  readonly detail?: string;
}

/** Whether `value` names an API-2 error type (docs/psp-open-api.md#api-2-error-types). */
export function isCallbackErrorType(value: unknown): value is CallbackErrorType {
  return typeof value === "string" && Object.hasOwn(CALLBACK_ERROR_TYPES, value);
}

/**
 * The API-2 error answer body for `type`: `{"error": true, "code": 400, "type": ...}`
 * (docs/psp-open-api.md#api-2-answers).
 */
export function callbackErrorBody(type: CallbackErrorType, detail?: string): CallbackErrorBody {
  const body = { error: true, code: CALLBACK_ERROR_TYPES[type].httpStatus, type } as const;
  return detail === undefined ? body : { ...body, detail };
}
