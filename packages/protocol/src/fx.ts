import { ProtocolError } from "./errors.js";
import { computeFee, type FeeRule } from "./fees.js";
import { MAX_EXPONENT, MIN_EXPONENT } from "./money.js";

// Exchange rates as exact decimals: a rate is an integer `digits` over 10^`scale`, conversion is
// integer arithmetic with ONE half-up rounding at the end (docs/exchange-rates.md#rounding).

/** Most significant digits a rate may have (the "up to 12"). */
export const MAX_RATE_SIGNIFICANT_DIGITS = 12;

/** Largest markup, in basis points: 50 %. A bigger spread is a configuration mistake. */
export const MAX_MARKUP_BPS = 5_000;

/** A positive exact decimal: `digits / 10^scale`, `digits` > 0 without trailing zeros. */
export type Rate = { readonly digits: bigint; readonly scale: number };

const PLAIN_DECIMAL = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;

function normalized(digits: bigint, scale: number): Rate {
  let d = digits;
  let s = scale;
  while (s > 0 && d % 10n === 0n) {
    d /= 10n;
    s--;
  }
  return { digits: d, scale: s };
}

/**
 * Parses a rate written as plain decimal text (`"1.0781"`, `"0.000012345"`, `"150"`): no sign,
 * no exponent, greater than 0, at most {@link MAX_RATE_SIGNIFICANT_DIGITS} significant digits.
 * Throws {@link ProtocolError} `rate_invalid` with a message naming the rule broken.
 */
export function parseRate(text: string): Rate {
  if (typeof text !== "string") throw new ProtocolError("rate_invalid", "a rate must be decimal text");
  const m = PLAIN_DECIMAL.exec(text);
  if (m === null) {
    const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
    throw new ProtocolError(
      "rate_invalid",
      `${JSON.stringify(shown)} is not a plain decimal rate like "1.0781"`,
    );
  }
  const fraction = m[2] ?? "";
  const r = normalized(BigInt(m[1]! + fraction), fraction.length);
  if (r.digits === 0n) throw new ProtocolError("rate_invalid", "a rate must be greater than 0");
  if (r.digits.toString().length > MAX_RATE_SIGNIFICANT_DIGITS) {
    throw new ProtocolError(
      "rate_invalid",
      `a rate may have at most ${MAX_RATE_SIGNIFICANT_DIGITS} significant digits`,
    );
  }
  return r;
}

/** {@link parseRate} that answers null instead of throwing. */
export function tryParseRate(text: string): Rate | null {
  try {
    return parseRate(text);
  } catch (error) {
    if (error instanceof ProtocolError) return null;
    throw error;
  }
}

/** A rate as the shortest plain decimal text: `{digits: 10781n, scale: 4}` → `"1.0781"`. */
export function formatRate(rate: Rate): string {
  const digits = rate.digits.toString();
  if (rate.scale === 0) return digits;
  const padded = digits.padStart(rate.scale + 1, "0");
  return `${padded.slice(0, -rate.scale)}.${padded.slice(-rate.scale)}`;
}

function assertMarkup(bps: number): void {
  if (!Number.isInteger(bps) || bps < 0 || bps > MAX_MARKUP_BPS) {
    throw new ProtocolError(
      "rate_invalid",
      `a markup must be whole basis points from 0 to ${MAX_MARKUP_BPS}`,
    );
  }
}

/**
 * The rate the client gets: `rate × (1 − markup)`, exact (a markup of 150 bps on 1.0850 is
 * 1.068725). It may have up to four more significant digits than the source's rate.
 */
export function applyMarkup(rate: Rate, markupBps: number): Rate {
  assertMarkup(markupBps);
  return normalized(rate.digits * BigInt(10_000 - markupBps), rate.scale + 4);
}

function assertExponent(e: number): void {
  if (!Number.isInteger(e) || e < MIN_EXPONENT || e > MAX_EXPONENT) {
    throw new ProtocolError(
      "exponent_invalid",
      `a currency exponent must be an integer from 0 to 8, not ${e}`,
    );
  }
}

/**
 * Converts minor units of a currency with `fromExponent` decimals at `rate` into minor units of
 * one with `toExponent`, rounded half up once: `amount × rate × 10^(to − from)`. Integer only.
 */
export function convertMinor(
  amountMinor: bigint,
  fromExponent: number,
  rate: Rate,
  toExponent: number,
): bigint {
  assertExponent(fromExponent);
  assertExponent(toExponent);
  if (amountMinor < 0n) throw new ProtocolError("amount_negative", "only a non-negative amount converts");
  const numerator = amountMinor * rate.digits * 10n ** BigInt(toExponent);
  const denominator = 10n ** BigInt(rate.scale + fromExponent);
  return (2n * numerator + denominator) / (2n * denominator);
}

/** What a deposit converts with: the source's rate, the markup, and the two exponents. */
export type Conversion = {
  rate: Rate;
  markupBps: number;
  paymentExponent: number;
  accountExponent: number;
};

/** The figures of a quote, all minor units: the fee in the payment currency, the rest in the account's. */
export type QuoteFigures = {
  feeMinor: bigint;
  /** What converts: the amount less the fee (payment currency). */
  netMinor: bigint;
  /** What the wallet is credited (account currency). */
  accountMinor: bigint;
  /** What the markup kept: the net at the source's rate less `accountMinor` (account currency). */
  markupMinor: bigint;
  /** The rate after the markup, exact. */
  effectiveRate: Rate;
};

/**
 * The quote of a deposit (pure): the fee comes first, in the payment currency, by the method's
 * rule; the rest converts at the rate less the markup, rounded half up once to the account
 * currency's exponent. Without a conversion the account side is the payment side less the fee.
 */
export function quoteFigures(amountMinor: bigint, fee: FeeRule, conversion: Conversion | null): QuoteFigures {
  const feeMinor = computeFee(amountMinor, fee);
  const netMinor = amountMinor > feeMinor ? amountMinor - feeMinor : 0n;
  return { feeMinor: amountMinor - netMinor, ...convertNet(netMinor, conversion) };
}

/**
 * The account side of a net payment amount (pure), at a quote's locked rate: what a success
 * credits, whether it paid the ordered amount or another (policy `credit_paid`).
 */
export function convertNet(
  netMinor: bigint,
  conversion: Conversion | null,
): Pick<QuoteFigures, "netMinor" | "accountMinor" | "markupMinor" | "effectiveRate"> {
  if (conversion === null) {
    return { netMinor, accountMinor: netMinor, markupMinor: 0n, effectiveRate: { digits: 1n, scale: 0 } };
  }
  const { rate, markupBps, paymentExponent: from, accountExponent: to } = conversion;
  const effectiveRate = applyMarkup(rate, markupBps);
  const accountMinor = convertMinor(netMinor, from, effectiveRate, to);
  const atSourceRate = convertMinor(netMinor, from, rate, to);
  return { netMinor, accountMinor, markupMinor: atSourceRate - accountMinor, effectiveRate };
}
