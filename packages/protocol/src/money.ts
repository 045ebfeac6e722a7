import { MoneyError, type MoneyErrorCode } from "./errors.js";

// Money never touches floating point here: amounts are bigint minor units, text in and out, one
// exponent per currency, excess precision refused (docs/failure-modes.md#failure-mode-9).

/**
 * Most significant digits an amount may have (ours). Every decimal with at most 15 significant
 * digits survives text → IEEE-754 double → text unchanged (15 = DBL_DIG), so an amount that a
 * tenant's JSON library turns into a double and back still reads, and signs, the same.
 */
export const MAX_SIGNIFICANT_DIGITS = 15;

/** Smallest currency exponent (whole units only, e.g. JPY). */
export const MIN_EXPONENT = 0;

/** Largest currency exponent (ours): 8 covers satoshis and every ISO 4217 currency. */
export const MAX_EXPONENT = 8;

/**
 * Largest amount in minor units (ours): `Number.MAX_SAFE_INTEGER`, so minor units fit a signed
 * 64-bit column and a JS number exactly. That is 90 trillion in a 2-decimal currency and
 * 90 million in an 8-decimal one.
 */
export const MAX_MINOR_UNITS = 9_007_199_254_740_991n;

/**
 * ISO 4217 minor units where Intl (which reports CLDR display digits) disagrees, or may disagree
 * between engines: CLDR rounds these to whole units for display, ISO gives them decimals; and
 * codes that have no minor unit in ISO 4217 ("N.A.").
 */
const ISO_4217_CORRECTIONS: ReadonlyMap<string, number | undefined> = new Map<string, number | undefined>([
  ["AFN", 2],
  ["ALL", 2],
  ["COP", 2],
  ["CRC", 2],
  ["HUF", 2],
  ["IDR", 2],
  ["IQD", 3],
  ["IRR", 2],
  ["KPW", 2],
  ["LAK", 2],
  ["LBP", 2],
  ["MGA", 2],
  ["MMK", 2],
  ["PKR", 2],
  ["RSD", 2],
  ["SLL", 2],
  ["SOS", 2],
  ["SYP", 2],
  ["TWD", 2],
  ["UZS", 2],
  ["YER", 2],
  ["XAG", undefined],
  ["XAU", undefined],
  ["XDR", undefined],
  ["XPD", undefined],
  ["XPT", undefined],
  ["XSU", undefined],
  ["XTS", undefined],
  ["XUA", undefined],
  ["XXX", undefined],
]);

let knownCurrencies: ReadonlySet<string> | null | undefined;

function isKnownToIntl(code: string): boolean {
  if (knownCurrencies === undefined) {
    const supportedValuesOf = (Intl as { supportedValuesOf?: (key: "currency") => string[] })
      .supportedValuesOf;
    knownCurrencies = typeof supportedValuesOf === "function" ? new Set(supportedValuesOf("currency")) : null;
  }
  // Without `supportedValuesOf` (older engines) every well-formed code Intl formats counts.
  return knownCurrencies === null || knownCurrencies.has(code);
}

/**
 * The ISO 4217 exponent (decimals) of a currency code, or `undefined` for codes ISO does not
 * define a minor unit for, such as `USDT` or `BTC`, whose exponent must be configured
 * (docs/psp-open-api.md#amounts). Codes must be upper case: "ISO 4217 code, upper case"
 * (docs/psp-open-api.md#api-1-parameters).
 * Based on Intl, which reports CLDR's digits, corrected to ISO where the two differ (IQD is 3,
 * IDR 2, …) so Node and every browser answer the same.
 */
export function isoExponent(code: string): number | undefined {
  if (typeof code !== "string" || !/^[A-Z]{3}$/.test(code)) return undefined;
  if (ISO_4217_CORRECTIONS.has(code)) return ISO_4217_CORRECTIONS.get(code);
  if (!isKnownToIntl(code)) return undefined;
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency: code }).resolvedOptions()
      .maximumFractionDigits;
  } catch {
    return undefined;
  }
}

function assertExponent(exponent: number): void {
  if (!Number.isInteger(exponent) || exponent < MIN_EXPONENT || exponent > MAX_EXPONENT) {
    throw new MoneyError(
      "exponent_invalid",
      `a currency exponent must be an integer from ${MIN_EXPONENT} to ${MAX_EXPONENT}, not ${String(exponent)}`,
    );
  }
}

// The JSON number grammar (RFC 8259 section 6): no "+", no leading zeros, digits on both
// sides of ".", an optional exponent.
const JSON_NUMBER = /^(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$/;

/**
 * Whether `text` is a JSON number literal (RFC 8259), e.g. for the numbers of a form-encoded
 * API-2 body, which arrive as strings (docs/psp-open-api.md#api-2-body-encodings).
 */
export function isJsonNumberText(text: string): boolean {
  return JSON_NUMBER.test(text);
}

/**
 * Parses an amount to minor units of a currency with `exponent` decimals: compared in minor
 * units, never floating point (docs/psp-open-api.md#amounts). `input` is a JSON number literal
 * or the same as decimal text: `"162.48"`, `"100"`, `"100.0"`, `"1e2"`, `"1.5E+1"`.
 *
 * Throws {@link MoneyError}:
 * - `amount_invalid`: not the JSON number grammar (empty, whitespace, `+1`, `007`, `.5`, `5.`,
 *   hex, `NaN`, `Infinity`, a non-string);
 * - `amount_negative`: a leading `-` (also `-0`);
 * - `amount_too_precise`: more decimals than `exponent`, once trailing zeros are dropped
 *   (`100.10` is fine with 2, `1.005` is not; exponent notation counts the same way);
 * - `amount_too_large`: more than {@link MAX_SIGNIFICANT_DIGITS} significant digits, or more than
 *   {@link MAX_MINOR_UNITS} minor units;
 * - `exponent_invalid`: `exponent` not an integer in 0..8.
 */
export function parseAmount(input: string, exponent: number): bigint {
  assertExponent(exponent);
  if (typeof input !== "string") throw new MoneyError("amount_invalid", "an amount must be text");
  const match = JSON_NUMBER.exec(input);
  if (match === null) {
    const shown = input.length > 40 ? `${input.slice(0, 40)}…` : input;
    throw new MoneyError("amount_invalid", `${JSON.stringify(shown)} is not a decimal number`);
  }
  if (match[1] === "-") throw new MoneyError("amount_negative", "an amount must not be negative");

  const fraction = match[3] ?? "";
  let digits = match[2]! + fraction;
  // value = digits × 10^scale. An absurd exponent becomes ±Infinity, which the checks below
  // reject without ever building a huge number.
  let scale = (match[4] === undefined ? 0 : Number(match[4])) - fraction.length;

  let start = 0;
  while (start < digits.length && digits.charCodeAt(start) === 0x30) start++;
  if (start === digits.length) return 0n;
  let end = digits.length;
  while (digits.charCodeAt(end - 1) === 0x30) end--;
  scale += digits.length - end;
  digits = digits.slice(start, end);

  const decimals = scale < 0 ? -scale : 0;
  if (decimals > exponent) {
    throw new MoneyError(
      "amount_too_precise",
      `${JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}…` : input)} has more than ${exponent} decimals`,
    );
  }
  if (digits.length > MAX_SIGNIFICANT_DIGITS) {
    throw new MoneyError(
      "amount_too_large",
      `an amount may have at most ${MAX_SIGNIFICANT_DIGITS} significant digits`,
    );
  }
  const shift = scale + exponent; // >= 0, since decimals <= exponent
  if (digits.length + shift > String(MAX_MINOR_UNITS).length) {
    throw new MoneyError("amount_too_large", "the amount is too large");
  }
  const minor = BigInt(digits) * 10n ** BigInt(shift);
  if (minor > MAX_MINOR_UNITS) throw new MoneyError("amount_too_large", "the amount is too large");
  return minor;
}

/** The outcome of {@link tryParseAmount}. */
export type AmountParseResult =
  | { readonly ok: true; readonly minor: bigint }
  | { readonly ok: false; readonly code: MoneyErrorCode; readonly message: string };

/** {@link parseAmount} that returns its error instead of throwing it. */
export function tryParseAmount(input: string, exponent: number): AmountParseResult {
  try {
    return { ok: true, minor: parseAmount(input, exponent) };
  } catch (error) {
    if (error instanceof MoneyError) return { ok: false, code: error.code, message: error.message };
    throw error;
  }
}

function assertMinor(minor: bigint): void {
  if (typeof minor !== "bigint") throw new MoneyError("amount_invalid", "minor units must be a bigint");
}

/**
 * Minor units as decimal text with exactly `exponent` decimals (decimal text at every HTTP edge,
 * never a float: docs/psp-open-api.md#amounts), for people and forms:
 * `16248n, 2` → `"162.48"`, `10000n, 2` → `"100.00"`, `5n, 0` → `"5"`. Negative values get `-`.
 */
export function formatAmount(minor: bigint, exponent: number): string {
  assertExponent(exponent);
  assertMinor(minor);
  const sign = minor < 0n ? "-" : "";
  const digits = (minor < 0n ? -minor : minor).toString();
  if (exponent === 0) return sign + digits;
  const padded = digits.padStart(exponent + 1, "0");
  return `${sign}${padded.slice(0, -exponent)}.${padded.slice(-exponent)}`;
}

/**
 * Minor units as the shortest JSON number literal, for the API-1 `amount` and its signature:
 * `10000n, 2` → `"100"`, `10010n, 2` → `"100.1"`, `16248n, 2` → `"162.48"`. Follows
 * ECMAScript's Number::toString exactly, so for every amount {@link parseAmount} accepts it
 * equals `String(Number(text))`: a body built with `JSON.stringify` and a number carries this
 * very text, and signers that parse the number print it the same way.
 */
export function formatAmountNumber(minor: bigint, exponent: number): string {
  assertExponent(exponent);
  assertMinor(minor);
  if (minor === 0n) return "0";
  const sign = minor < 0n ? "-" : "";
  let digits = (minor < 0n ? -minor : minor).toString();
  let power = -exponent; // value = digits × 10^power
  let end = digits.length;
  while (digits.charCodeAt(end - 1) === 0x30) end--;
  power += digits.length - end;
  digits = digits.slice(0, end);

  // ECMA-262 Number::toString: value = 0.d1…dk × 10^n
  const k = digits.length;
  const n = k + power;
  let text: string;
  if (k <= n && n <= 21) text = digits + "0".repeat(n - k);
  else if (0 < n && n <= 21) text = `${digits.slice(0, n)}.${digits.slice(n)}`;
  else if (-6 < n && n <= 0) text = `0.${"0".repeat(-n)}${digits}`;
  else {
    const e = n - 1;
    const mantissa = k === 1 ? digits : `${digits[0]}.${digits.slice(1)}`;
    text = `${mantissa}e${e < 0 ? "-" : "+"}${Math.abs(e)}`;
  }
  return sign + text;
}
