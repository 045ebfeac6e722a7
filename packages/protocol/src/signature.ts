import { ProtocolError } from "./errors.js";
import { describeKey, hasLoneSurrogate, parseFlatJson } from "./flat-json.js";
import { constantTimeEqual, sha1Hex, utf8 } from "./sha1.js";

/** A parameter value of either API: flat, never an object or array (docs/psp-open-api.md#signature). */
export type FlatValue = string | number | boolean | null | undefined;

/** A flat body: parameter name → value. */
export type FlatParams = Record<string, FlatValue>;

/** Options of {@link stringA}, {@link sign} and {@link verify}. */
export interface SignOptions {
  /**
   * key → a number's exact text in the raw JSON (`100.0`), as {@link parseFlatJson} records it.
   * Used instead of `String(n)` for numbers (docs/psp-open-api.md#signature-numbers).
   */
  readonly literals?: Readonly<Record<string, string>> | undefined;
}

/** Why {@link verifyDetailed} refused a signature. */
export type VerifyFailureReason =
  /** No signature given and no string `sign` in the body (or an empty one). */
  | "missing_sign"
  /** The signature is not 40 hex characters (or `sign` is not a string). */
  | "malformed_sign"
  /** The token is empty: nothing signed with it could be trusted. */
  | "empty_token"
  /** Well-formed, but neither accepted form of StringA gives this signature. */
  | "mismatch";

/** The outcome of {@link verifyDetailed}. */
export interface VerifyResult {
  readonly valid: boolean;
  /** StringA over the literal number text (the canonical string; show it when debugging). */
  readonly stringA: string;
  /** StringA over `String(number)`, present only when it differs from `stringA`. */
  readonly stringAParsed?: string;
  /** Present exactly when `valid` is false. */
  readonly reason?: VerifyFailureReason;
}

const SIGN_KEY = "sign";
const HEX_40 = /^[0-9A-Fa-f]{40}$/;

/**
 * Orders keys by the bytes of their UTF-8 form: "ascending byte (ASCII) order", case-sensitive
 * (docs/psp-open-api.md#signature-string-a). UTF-8 byte order equals code point order, so this
 * walks code points; plain `<` on strings would compare UTF-16 units and misplace astral
 * characters, and `localeCompare` would not even put `B` before `a`.
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n) {
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(i)!;
    if (ca !== cb) return ca < cb ? -1 : 1;
    i += ca > 0xffff ? 2 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

function assertFlatParams(params: unknown): asserts params is FlatParams {
  if (typeof params !== "object" || params === null || Array.isArray(params)) {
    throw new ProtocolError("not_object", "the parameters must be an object");
  }
}

function nestedError(key: string, value: object): ProtocolError {
  const what = Array.isArray(value) ? "an array" : "an object";
  return new ProtocolError(
    "nested_value",
    `the value of ${describeKey(key)} is ${what}: nested values are not allowed`,
  );
}

/**
 * The text a value contributes to StringA, or `undefined` when it is left out
 * (docs/psp-open-api.md#signature-string-a).
 */
function valueText(
  key: string,
  value: unknown,
  literals: Readonly<Record<string, string>> | undefined,
): string | undefined {
  switch (typeof value) {
    case "undefined":
      return undefined;
    case "string":
      if (value === "") return undefined;
      if (hasLoneSurrogate(value)) {
        throw new ProtocolError(
          "invalid_value",
          `the value of ${describeKey(key)} contains a lone surrogate and has no UTF-8 form`,
        );
      }
      return value;
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isFinite(value)) {
        throw new ProtocolError("invalid_value", `the value of ${describeKey(key)} is not a finite number`);
      }
      if (literals !== undefined && Object.hasOwn(literals, key)) return literals[key] ?? String(value);
      return String(value);
    case "object":
      if (value === null) return undefined;
      throw nestedError(key, value);
    default:
      throw new ProtocolError(
        "invalid_value",
        `the value of ${describeKey(key)} is a ${typeof value}, which cannot be signed`,
      );
  }
}

/**
 * StringA (docs/psp-open-api.md#signature-string-a): every parameter except `sign` whose value is
 * not null, missing or `""` (`0` and `false` are kept), sorted by key in byte order
 * ({@link compareKeys}), joined as `key=value` with `&`, nothing escaped or trimmed. Numbers are
 * `String(n)` unless `opts.literals` gives their literal JSON text.
 *
 * Throws `nested_value` for an object or array anywhere (also under `sign`), `invalid_value` for
 * NaN/Infinity, lone surrogates and non-JSON types, `not_object` when `params` is no object.
 */
export function stringA(params: FlatParams, opts?: SignOptions): string {
  assertFlatParams(params);
  const literals = opts?.literals;
  const pairs: Array<[string, string]> = [];
  for (const key of Object.keys(params)) {
    const value: unknown = params[key];
    if (key === SIGN_KEY) {
      if (typeof value === "object" && value !== null) throw nestedError(key, value);
      continue;
    }
    if (hasLoneSurrogate(key)) {
      throw new ProtocolError("invalid_value", `the key ${describeKey(key)} contains a lone surrogate`);
    }
    const text = valueText(key, value, literals);
    if (text !== undefined) pairs.push([key, text]);
  }
  pairs.sort((x, y) => compareKeys(x[0], y[0]));
  return pairs.map(([key, text]) => `${key}=${text}`).join("&");
}

function assertToken(token: string): void {
  if (typeof token !== "string" || token === "") {
    throw new ProtocolError("empty_token", "the token must be a non-empty string");
  }
}

/**
 * Constant-time string equality, for the `crm-pay-token` header (docs/psp-open-api.md#api-2-checks,
 * docs/failure-modes.md#failure-mode-13). Compares the SHA-1 digests of both strings,
 * so timing reveals neither how much of the expected value matched nor its length. An empty
 * expected value never matches, so an unset token cannot be "guessed" by sending nothing.
 */
export function constantTimeEquals(provided: string, expected: string): boolean {
  if (typeof provided !== "string" || typeof expected !== "string" || expected === "") return false;
  const digestsEqual = constantTimeEqual(utf8(sha1Hex(provided)), utf8(sha1Hex(expected)));
  // Equal digests mean equal strings; the direct check only rules out a SHA-1 collision.
  return digestsEqual && provided === expected;
}

/**
 * `sign`: SHA-1 of the UTF-8 bytes of StringA + token, upper-case hex
 * (docs/psp-open-api.md#signature-string-a).
 */
export function sign(params: FlatParams, token: string, opts?: SignOptions): string {
  assertToken(token);
  return sha1Hex(stringA(params, opts) + token);
}

/**
 * {@link verify} with the details needed to debug a mismatch: the canonical string
 * (docs/failure-modes.md#failure-mode-10). Same arguments and throws as `verify`; `stringA` never
 * holds the token, but it does hold every signed value (names, emails): log it with care.
 */
export function verifyDetailed(
  body: string | FlatParams,
  token: string,
  signature?: string,
  opts?: SignOptions,
): VerifyResult {
  let params: FlatParams;
  let literals: Readonly<Record<string, string>> | undefined;
  if (typeof body === "string") {
    ({ params, literals } = parseFlatJson(body));
  } else {
    params = body;
    literals = opts?.literals;
  }

  const literalForm = stringA(params, { literals });
  const parsedForm = literals === undefined ? literalForm : stringA(params);
  const base: VerifyResult = {
    valid: false,
    stringA: literalForm,
    ...(parsedForm === literalForm ? {} : { stringAParsed: parsedForm }),
  };

  if (typeof token !== "string" || token === "") return { ...base, reason: "empty_token" };
  const provided: unknown = signature === undefined ? params[SIGN_KEY] : signature;
  if (provided === undefined || provided === null || provided === "") {
    return { ...base, reason: "missing_sign" };
  }
  if (typeof provided !== "string" || !HEX_40.test(provided)) return { ...base, reason: "malformed_sign" };

  // Case-insensitive by design: signers are asked for upper case, but a lower-case digest
  // carries the same proof (docs/psp-open-api.md#signature-refusals). Every candidate is compared
  // in full; none short-circuits another.
  const given = utf8(provided.toUpperCase());
  const literalOk = constantTimeEqual(utf8(sha1Hex(literalForm + token)), given);
  const parsedOk =
    parsedForm === literalForm ? literalOk : constantTimeEqual(utf8(sha1Hex(parsedForm + token)), given);
  const valid = literalOk || parsedOk;
  return valid ? { ...base, valid } : { ...base, reason: "mismatch" };
}

/**
 * Verifies `sign` in constant time (docs/psp-open-api.md#signature).
 *
 * - `body` as raw JSON text is parsed with {@link parseFlatJson}, and a signature over either
 *   the literal number text (`100.0`) or `String(number)` (`100`) is accepted
 *   (docs/psp-open-api.md#signature-numbers). Verify against the raw body, never against
 *   re-serialised JSON (docs/failure-modes.md#failure-mode-10).
 * - `body` as parsed params: only the `String(n)` form, unless `opts.literals` is given.
 * - `signature` omitted: the body's own `sign` is used.
 * - Upper- or lower-case hex is accepted (the provided sign is upper-cased before comparing).
 * - An empty token never verifies.
 *
 * Returns false for a missing, malformed or wrong signature. Throws {@link ProtocolError} when
 * the body itself is malformed (not a flat JSON object, duplicate keys…): that is a malformed
 * request, not a bad signature.
 */
export function verify(
  body: string | FlatParams,
  token: string,
  signature?: string,
  opts?: SignOptions,
): boolean {
  return verifyDetailed(body, token, signature, opts).valid;
}
