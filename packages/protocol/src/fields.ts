import { ProtocolError } from "./errors.js";
import { describeKey } from "./flat-json.js";
import { isJsonNumberText } from "./money.js";
import type { FlatParams, FlatValue } from "./signature.js";

// ---------------------------------------------------------------------------------------------
// API-1 request parameters (docs/psp-open-api.md#api-1-parameter-configuration, #api-1-parameters)
// ---------------------------------------------------------------------------------------------

/** The API-1 standard parameters, in the spec's order (docs/psp-open-api.md#api-1-parameters). */
export const API1_PARAM_NAMES = [
  "merchant_id",
  "order_no",
  "amount",
  "currency",
  "user_id",
  "user_name",
  "email",
  "phone",
  "nationality",
  "language",
  "device",
] as const;

/** One API-1 standard parameter name (its default key). */
export type Api1ParamName = (typeof API1_PARAM_NAMES)[number];

/** Description of one API-1 standard parameter. */
export interface Api1ParamSpec {
  readonly name: Api1ParamName;
  readonly type: "string" | "number";
  /** Mandatory parameters can be renamed but never disabled (ours). */
  readonly mandatory: boolean;
  readonly meaning: string;
}

/** The API-1 standard parameters: type, mandatory flag, meaning (docs/psp-open-api.md#api-1-parameters). */
export const API1_PARAMS: Readonly<Record<Api1ParamName, Api1ParamSpec>> = {
  merchant_id: {
    name: "merchant_id",
    type: "string",
    mandatory: true,
    meaning: "the integration's merchant id",
  },
  order_no: { name: "order_no", type: "string", mandatory: true, meaning: "the CRM's unique order id" },
  amount: { name: "amount", type: "number", mandatory: true, meaning: "amount to pay" },
  currency: { name: "currency", type: "string", mandatory: true, meaning: "ISO 4217 code, upper case" },
  user_id: { name: "user_id", type: "string", mandatory: false, meaning: "the client's CRM id" },
  user_name: { name: "user_name", type: "string", mandatory: false, meaning: "the client's name" },
  email: { name: "email", type: "string", mandatory: false, meaning: "the client's email" },
  phone: { name: "phone", type: "string", mandatory: false, meaning: "the client's phone" },
  nationality: {
    name: "nationality",
    type: "string",
    mandatory: false,
    meaning: "ISO 3166 alpha-2, lower case (`us`)",
  },
  language: {
    name: "language",
    type: "string",
    mandatory: false,
    meaning: "portal language, lower case (`en-us`, `de`)",
  },
  device: { name: "device", type: "string", mandatory: false, meaning: "`mobile` or `pc`" },
};

/** Whether `name` is an API-1 standard parameter. */
export function isApi1ParamName(name: unknown): name is Api1ParamName {
  return typeof name === "string" && Object.hasOwn(API1_PARAMS, name);
}

/** How one standard parameter is sent: under which key, and whether at all. */
export interface Api1ParamSetting {
  key: string;
  enabled: boolean;
}

/** An integration's API-1 parameter configuration (docs/psp-open-api.md#api-1-parameter-configuration). */
export type Api1ParamConfig = Record<Api1ParamName, Api1ParamSetting>;

/** Every standard parameter enabled under its default key (docs/psp-open-api.md#api-1-parameters). */
export function defaultApi1ParamConfig(): Api1ParamConfig {
  const config = {} as Api1ParamConfig;
  for (const name of API1_PARAM_NAMES) config[name] = { key: name, enabled: true };
  return config;
}

/**
 * The key under which the signature travels; never renamed, never a parameter key
 * (docs/psp-open-api.md#api-1-parameter-configuration).
 */
export const SIGN_KEY = "sign";

/**
 * Keys an admin may give a parameter (ours): letters, digits, `_`, `.`, `-`, at most 64.
 * Anything else (spaces, `&`, `=`, non-ASCII) only invites encoding and signing mistakes in
 * tenant backends.
 */
export const PARAM_KEY_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/** A problem found by {@link validateApi1ParamConfig}: a path into the config and a message. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

function keyIssue(key: unknown): string | undefined {
  if (typeof key !== "string" || key === "") return "the key must not be empty";
  if (key === SIGN_KEY) return "`sign` is reserved for the signature";
  // Harmless on the wire, but a trap for any tenant code that builds objects with `obj[key] = …`.
  if (key === "__proto__") return "`__proto__` is not allowed as a key";
  if (!PARAM_KEY_PATTERN.test(key)) {
    return "a key may only use letters, digits, `_`, `.` and `-`, at most 64 characters";
  }
  return undefined;
}

/**
 * Checks an API-1 parameter configuration and the custom parameter keys
 * (docs/psp-open-api.md#api-1-parameter-configuration):
 * every key non-empty, not `sign`, unique across standard AND custom keys (disabled parameters
 * included, so re-enabling one can never clash), and the four mandatory parameters
 * (`merchant_id`, `order_no`, `amount`, `currency`) enabled (ours). Keys must match
 * {@link PARAM_KEY_PATTERN} and not be `__proto__` (ours).
 *
 * Returns an empty list when valid. Paths: `<name>.key`, `<name>.enabled`, `<name>` (missing
 * entry), `custom.<index>`.
 */
export function validateApi1ParamConfig(
  config: Api1ParamConfig,
  customKeys: readonly string[],
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const owners = new Map<string, string>(); // key → who used it first, for the message

  const claim = (key: string, path: string, who: string): void => {
    const first = owners.get(key);
    if (first === undefined) owners.set(key, who);
    else issues.push({ path, message: `the key ${describeKey(key)} is already used by ${first}` });
  };

  for (const name of API1_PARAM_NAMES) {
    const setting: unknown = (config as Partial<Record<string, unknown>>)[name];
    if (typeof setting !== "object" || setting === null) {
      issues.push({ path: name, message: `the setting of ${name} is missing` });
      continue;
    }
    const { key, enabled } = setting as Partial<Record<string, unknown>>;
    const problem = keyIssue(key);
    if (problem !== undefined) issues.push({ path: `${name}.key`, message: problem });
    else claim(key as string, `${name}.key`, `the standard parameter ${name}`);
    if (typeof enabled !== "boolean") {
      issues.push({ path: `${name}.enabled`, message: "enabled must be true or false" });
    } else if (!enabled && API1_PARAMS[name].mandatory) {
      issues.push({ path: `${name}.enabled`, message: `${name} is mandatory and cannot be disabled` });
    }
  }

  customKeys.forEach((key, index) => {
    const problem = keyIssue(key);
    if (problem !== undefined) issues.push({ path: `custom.${index}`, message: problem });
    else claim(key, `custom.${index}`, `custom parameter ${index + 1}`);
  });
  return issues;
}

/**
 * The default key of a new custom parameter: `custom_<n>` above every `custom_<m>` in use
 * (docs/psp-open-api.md#custom-parameters).
 */
export function nextCustomKey(existing: Iterable<string>): string {
  let highest = 0;
  for (const key of existing) {
    const match = /^custom_([1-9][0-9]{0,8})$/.exec(key);
    if (match) highest = Math.max(highest, Number(match[1]));
  }
  return `custom_${highest + 1}`;
}

/** API-1 values by parameter name, and custom parameter values by key. */
export interface Api1Values {
  readonly named: Partial<Record<Api1ParamName, FlatValue>>;
  readonly custom?: Readonly<Record<string, FlatValue>>;
}

/** An API-1 wire body decoded by {@link fromConfiguredKeys}. */
export interface DecodedApi1Body {
  named: Partial<Record<Api1ParamName, FlatValue>>;
  custom: Record<string, FlatValue>;
  /** Keys neither an enabled standard parameter nor a custom one (`sign` is left out). */
  unknown: Record<string, FlatValue>;
}

function assertFlatValue(key: string, value: unknown): void {
  if (typeof value === "object" && value !== null) {
    throw new ProtocolError(
      "nested_value",
      `the value of ${describeKey(key)} must not be an object or array`,
    );
  }
}

/**
 * Builds the API-1 wire body (without `sign`) under the configured keys: keys renamed and
 * parameters disabled as configured (docs/psp-open-api.md#api-1-parameter-configuration).
 * Disabled parameters and `undefined` values are left out; custom values go under their own keys.
 * Throws `duplicate_key` when two values would land on one key (validate the config first) and
 * `nested_value` for objects.
 * The result has a null prototype.
 */
export function toConfiguredKeys(values: Api1Values, config: Api1ParamConfig): FlatParams {
  const wire: FlatParams = Object.create(null);
  const put = (key: string, value: FlatValue): void => {
    if (value === undefined) return;
    assertFlatValue(key, value);
    if (key === SIGN_KEY || Object.hasOwn(wire, key)) {
      throw new ProtocolError("duplicate_key", `two values would be sent under ${describeKey(key)}`);
    }
    wire[key] = value;
  };
  for (const name of API1_PARAM_NAMES) {
    const setting = config[name];
    if (setting.enabled && Object.hasOwn(values.named, name)) put(setting.key, values.named[name]);
  }
  if (values.custom) {
    for (const key of Object.keys(values.custom)) put(key, values.custom[key]);
  }
  return wire;
}

/**
 * Reads an API-1 wire body back into named and custom values (the inverse of
 * {@link toConfiguredKeys}). Keys of disabled parameters and keys not configured land in
 * `unknown`; `sign` is left out (read it from the body and check it with `verify`).
 * All three results have a null prototype.
 */
export function fromConfiguredKeys(
  wire: FlatParams,
  config: Api1ParamConfig,
  customKeys: readonly string[],
): DecodedApi1Body {
  const byKey = new Map<string, Api1ParamName>();
  for (const name of API1_PARAM_NAMES) {
    const setting = config[name];
    if (setting.enabled) byKey.set(setting.key, name);
  }
  const custom = new Set(customKeys);
  const decoded: DecodedApi1Body = {
    named: Object.create(null),
    custom: Object.create(null),
    unknown: Object.create(null),
  };
  for (const key of Object.keys(wire)) {
    if (key === SIGN_KEY) continue;
    const value = wire[key];
    assertFlatValue(key, value);
    const name = byKey.get(key);
    if (name !== undefined) decoded.named[name] = value;
    else if (custom.has(key)) decoded.custom[key] = value;
    else decoded.unknown[key] = value;
  }
  return decoded;
}

// ---------------------------------------------------------------------------------------------
// API-1 response: `{"data": {"url": ...}, "result": true, "msg": ""}` (docs/psp-open-api.md#api-1-response)
// ---------------------------------------------------------------------------------------------

/** Longest tenant `msg` passed on (ours); it reaches clients and admins. */
export const API1_MSG_MAX_LENGTH = 200;

/** Longest payment URL accepted (ours). */
export const API1_URL_MAX_LENGTH = 8192;

/** Why an API-1 answer gave no usable payment URL. */
export type Api1ResponseFailure =
  | "not_object"
  | "result_not_true"
  | "missing_url"
  | "bad_url"
  | "insecure_url";

/** The outcome of {@link parseApi1Response}. */
export type Api1ResponseResult =
  | { readonly ok: true; readonly url: string }
  | { readonly ok: false; readonly reason: Api1ResponseFailure; readonly msg?: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Characters that are not seen but change what is seen, removed outright: Unicode's format
 * category Cf (the bidi controls U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C, which
 * reorder text, "invoice_\u202Efdp.exe" reads "invoice_exe.pdf"; the zero-width U+200B–U+200D,
 * U+2060, U+FEFF; soft hyphen, tags), lone surrogates (Cs: not text), and the Hangul fillers,
 * letters that render as nothing.
 */
const INVISIBLE_FORMAT = /[\p{Cf}\p{Cs}\u115f\u1160\u3164\uffa0]/gu;
/** Control characters (Cc) and the line and paragraph separators would forge lines: each run becomes a space. */
const LINE_BREAKING = /[\p{Cc}\p{Zl}\p{Zp}]+/gu;

/**
 * Cleans text a tenant backend wrote for people to read (API-1's `msg`), before it is stored,
 * logged or shown: invisible formatting removed, control characters and line breaks turned into
 * spaces, trimmed. The result holds no Cc, Cf, Zl or Zp character.
 */
export function cleanTenantText(text: string): string {
  return text.replace(INVISIBLE_FORMAT, "").replace(LINE_BREAKING, " ").trim();
}

function shortMessage(msg: unknown): string | undefined {
  if (typeof msg !== "string") return undefined;
  const cleaned = cleanTenantText(msg);
  if (cleaned === "") return undefined;
  const chars = Array.from(cleaned);
  return chars.length <= API1_MSG_MAX_LENGTH
    ? cleaned
    : chars.slice(0, API1_MSG_MAX_LENGTH).join("").trimEnd();
}

/**
 * Reads a parsed API-1 answer (docs/psp-open-api.md#api-1-outcomes): `result` must be exactly `true` and
 * `data.url` an absolute `https:` URL (`http:` only with `allowHttp`), at most 8192 characters,
 * without user info (`https://bank@evil.example`). `javascript:`, `data:` and every other scheme
 * answer `bad_url`; `http:` without `allowHttp` answers `insecure_url`: the portal opens this
 * URL, so anything else would let a tenant run script there (docs/failure-modes.md#failure-mode-15).
 *
 * On success `url` is the normalised `URL.href`, the exact text that was checked. When `result`
 * is not true, the tenant's `msg` is passed on, cleaned by {@link cleanTenantText}, at most 200
 * characters.
 */
export function parseApi1Response(json: unknown, opts: { readonly allowHttp: boolean }): Api1ResponseResult {
  if (!isRecord(json)) return { ok: false, reason: "not_object" };
  if (json.result !== true) {
    const msg = shortMessage(json.msg);
    return msg === undefined
      ? { ok: false, reason: "result_not_true" }
      : { ok: false, reason: "result_not_true", msg };
  }
  const data = json.data;
  const raw = isRecord(data) ? data.url : undefined;
  if (typeof raw !== "string" || raw.trim() === "") return { ok: false, reason: "missing_url" };
  if (raw.length > API1_URL_MAX_LENGTH) return { ok: false, reason: "bad_url" };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "bad_url" };
  }
  if (url.protocol === "http:") {
    if (!opts.allowHttp) return { ok: false, reason: "insecure_url" };
  } else if (url.protocol !== "https:") {
    return { ok: false, reason: "bad_url" };
  }
  if (url.username !== "" || url.password !== "" || url.hostname === "")
    return { ok: false, reason: "bad_url" };
  return { ok: true, url: url.href };
}

// ---------------------------------------------------------------------------------------------
// API-2 callback, keys fixed (docs/psp-open-api.md#api-2)
// ---------------------------------------------------------------------------------------------

/** Description of one API-2 callback field. */
export interface CallbackFieldSpec {
  readonly key: string;
  readonly type: "string" | "number";
  readonly required: boolean;
  readonly meaning: string;
}

/** The API-2 callback fields in order, with type and required flag (docs/psp-open-api.md#api-2-fields). */
export const CALLBACK_FIELDS: readonly CallbackFieldSpec[] = [
  { key: "merchant_id", type: "string", required: true, meaning: "the integration's merchant id" },
  { key: "order_no", type: "string", required: true, meaning: "the CRM's order id" },
  {
    key: "transaction_id",
    type: "string",
    required: false,
    meaning: "the tenant's or PSP's own transaction id",
  },
  { key: "amount", type: "number", required: true, meaning: "amount paid" },
  { key: "currency", type: "string", required: true, meaning: "currency code" },
  { key: "time", type: "number", required: true, meaning: "completion time, Unix milliseconds" },
  { key: "status", type: "number", required: true, meaning: "0 fail, 1 success, 2 processing" },
  { key: "user_id", type: "string", required: false, meaning: "the client's CRM id" },
  { key: "sign", type: "string", required: true, meaning: "signature" },
];

/** A callback body that passed {@link parseCallback}: typed, not yet verified or applied. */
export interface ParsedCallback {
  readonly merchantId: string;
  readonly orderNo: string;
  readonly transactionId?: string;
  /** The amount exactly as sent (JSON literal or form text): give it to `parseAmount`. */
  readonly amountText: string;
  readonly currency: string;
  /** Unix milliseconds, a non-negative safe integer. */
  readonly time: number;
  /** Any number: values other than 0, 1, 2 are `payment_status_not_allowed`, checked later. */
  readonly status: number;
  readonly userId?: string;
  readonly sign: string;
}

/** Why {@link parseCallback} refused a body: always the API-2 type `request_malformed`. */
export interface CallbackMalformed {
  readonly type: "request_malformed";
  readonly message: string;
  /** The offending key (empty when the whole body is at fault). */
  readonly path: string;
}

/** The outcome of {@link parseCallback}. */
export type CallbackParseResult =
  | { readonly ok: true; readonly callback: ParsedCallback }
  | { readonly ok: false; readonly error: CallbackMalformed };

/** Options of {@link parseCallback}. */
export interface ParseCallbackOptions {
  /**
   * The body was form-encoded (ours): every value is a string, and `amount`, `time`, `status`
   * must be JSON number text.
   */
  readonly form?: boolean;
  /**
   * The key that names the CRM's record: `order_no` (API-2, the default) or `payout_no` (API-5,
   * payout.ts). Its value is returned as `orderNo` either way.
   */
  readonly idKey?: "order_no" | "payout_no";
}

class Malformed extends Error {
  constructor(
    readonly detail: string,
    readonly path: string,
  ) {
    super(detail);
  }
}

/**
 * Types and checks an API-2 body (docs/psp-open-api.md#api-2-fields); a bad one answers
 * `request_malformed`.
 *
 * JSON bodies: `merchant_id`, `order_no`, `currency`, `sign`, and `transaction_id`/`user_id` when
 * present, must be strings; `amount`, `time`, `status` numbers (`literals` from `parseFlatJson`
 * supply the amount's exact text). Form bodies (`{ form: true }`): all strings, the three numbers
 * as JSON number text. Required keys that are missing, `null` or `""` are named in the error;
 * optional ones that are `null` or `""` count as absent (they are not signed either). `time` must
 * be a non-negative integer (Unix milliseconds, ours). Unknown keys are allowed (they are signed)
 * but must be flat. The amount's value, the currency and the status value are NOT judged here:
 * they have their own error types, checked after the signature.
 */
export function parseCallback(
  params: FlatParams,
  literals?: Readonly<Record<string, string>>,
  opts?: ParseCallbackOptions,
): CallbackParseResult {
  try {
    return {
      ok: true,
      callback: readCallback(params, literals, opts?.form === true, opts?.idKey ?? "order_no"),
    };
  } catch (error) {
    if (error instanceof Malformed) {
      return { ok: false, error: { type: "request_malformed", message: error.detail, path: error.path } };
    }
    throw error;
  }
}

function readCallback(
  params: FlatParams,
  literals: Readonly<Record<string, string>> | undefined,
  form: boolean,
  idKey: "order_no" | "payout_no",
): ParsedCallback {
  if (!isRecord(params)) throw new Malformed("the body must be an object", "");
  for (const key of Object.keys(params)) {
    const value: unknown = params[key];
    if (typeof value === "object" && value !== null) {
      throw new Malformed(`the value of ${describeKey(key)} must not be an object or array`, key);
    }
    if (value !== undefined && value !== null && !["string", "number", "boolean"].includes(typeof value)) {
      throw new Malformed(`the value of ${describeKey(key)} has an unsupported type`, key);
    }
  }
  const present = (key: string): unknown => {
    const value = Object.hasOwn(params, key) ? params[key] : undefined;
    return value === null || value === "" ? undefined : value;
  };
  const requiredString = (key: string): string => {
    const value = present(key);
    if (value === undefined) throw new Malformed(`\`${key}\` is missing`, key);
    if (typeof value !== "string") throw new Malformed(`\`${key}\` must be a string`, key);
    return value;
  };
  const optionalString = (key: string): string | undefined => {
    const value = present(key);
    if (value !== undefined && typeof value !== "string")
      throw new Malformed(`\`${key}\` must be a string`, key);
    return value;
  };
  // Returns the number's text (literal or String(n)) and its value.
  const requiredNumber = (key: string): { text: string; value: number } => {
    const value = present(key);
    if (value === undefined) throw new Malformed(`\`${key}\` is missing`, key);
    if (form) {
      if (typeof value !== "string" || !isJsonNumberText(value)) {
        throw new Malformed(`\`${key}\` must be a number, e.g. 100.00`, key);
      }
      const parsed = Number(value);
      if (!Number.isFinite(parsed)) throw new Malformed(`\`${key}\` is out of range`, key);
      return { text: value, value: parsed };
    }
    if (typeof value !== "number" || !Number.isFinite(value)) {
      const sent =
        typeof value === "string" ? "a string" : typeof value === "boolean" ? "a boolean" : "not a number";
      throw new Malformed(`\`${key}\` must be a JSON number, not ${sent}`, key);
    }
    const literal = literals !== undefined && Object.hasOwn(literals, key) ? literals[key] : undefined;
    return { text: literal ?? String(value), value };
  };

  const merchantId = requiredString("merchant_id");
  const orderNo = requiredString(idKey);
  const transactionId = optionalString("transaction_id");
  const amount = requiredNumber("amount");
  const currency = requiredString("currency");
  const time = requiredNumber("time");
  if (!Number.isSafeInteger(time.value) || time.value < 0) {
    throw new Malformed("`time` must be Unix milliseconds (a non-negative integer)", "time");
  }
  const status = requiredNumber("status");
  const userId = optionalString("user_id");
  const sign = requiredString("sign");

  return {
    merchantId,
    orderNo,
    ...(transactionId === undefined ? {} : { transactionId }),
    amountText: amount.text,
    currency,
    time: time.value,
    status: status.value,
    ...(userId === undefined ? {} : { userId }),
    sign,
  };
}
