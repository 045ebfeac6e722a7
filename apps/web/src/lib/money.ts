import { formatAmount, tryParseAmount } from "@psphub/protocol";
import { locale, localeInfo } from "../i18n/index.js";

/**
 * Money in the browser: decimal text from the API is shown as text, and arithmetic (the live
 * fee preview) runs on bigint minor units. No amount is ever a float. The fee is the server's
 * own rule (`computeFee` of @psphub/protocol), so the preview and the order always agree.
 */

export interface Separators {
  group: string;
  decimal: string;
}

const separatorCache = new Map<string, Separators>();

/** The grouping and decimal signs of an Intl locale ("en": "," and "."; "de": "." and ","). */
export function separatorsOf(intlLocale: string): Separators {
  let s = separatorCache.get(intlLocale);
  if (!s) {
    // A sample number, only to learn the signs: amounts themselves never pass through Intl.
    const parts = new Intl.NumberFormat(intlLocale).formatToParts(12345.6);
    s = {
      group: parts.find((p) => p.type === "group")?.value ?? ",",
      decimal: parts.find((p) => p.type === "decimal")?.value ?? ".",
    };
    separatorCache.set(intlLocale, s);
  }
  return s;
}

/**
 * "1234567.50" → "1,234,567.50" in the current language's signs: grouping done on the text,
 * never through Number, so every digit of any amount is kept.
 */
export function groupDigits(amount: string, intlLocale = locale()): string {
  const { group, decimal } = separatorsOf(intlLocale);
  const negative = amount.startsWith("-");
  const body = negative ? amount.slice(1) : amount;
  const [whole = "", fraction] = body.split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, group);
  return `${negative ? "-" : ""}${grouped}${fraction !== undefined ? `${decimal}${fraction}` : ""}`;
}

/** Left-to-right isolate: in Arabic text an amount, its sign and its code stay one "+97.20 USD". */
const LRI = "\u2066";
const PDI = "\u2069";

/** "162.48", "USD" → "162.48 USD" (grouped; `plus` for a credit: "+162.48 USD"). */
export function money(
  amount: string | null | undefined,
  currency: string,
  opts: { plus?: boolean } = {},
): string {
  if (amount === null || amount === undefined || amount === "") return "—";
  const text = `${opts.plus ? "+" : ""}${groupDigits(amount)} ${currency}`;
  return localeInfo().dir === "rtl" ? `${LRI}${text}${PDI}` : text;
}

/** "2.5" (percent, decimal text) → 250n basis points; null when not a valid percentage. */
export function percentToBps(percent: string): bigint | null {
  const r = tryParseAmount(percent, 2);
  return r.ok ? r.minor : null;
}

/** basis points → "2.5" (percent text without trailing zeros). */
export function bpsToPercent(bps: bigint | number): string {
  const text = formatAmount(BigInt(bps), 2);
  return text.replace(/\.?0+$/, "") || "0";
}

export type AmountCheck =
  | { ok: true; minor: bigint }
  | { ok: false; reason: "empty" | "invalid" | "too_precise" | "below_min" | "above_max" };

/** Parses what a client typed and checks it against a currency's limits, in minor units. */
export function checkAmount(
  input: string,
  decimals: number,
  limits: { minMinor: bigint; maxMinor: bigint },
): AmountCheck {
  const text = input.trim();
  if (text === "") return { ok: false, reason: "empty" };
  const r = tryParseAmount(text, decimals);
  if (!r.ok) return { ok: false, reason: r.code === "amount_too_precise" ? "too_precise" : "invalid" };
  if (r.minor < limits.minMinor) return { ok: false, reason: "below_min" };
  if (r.minor > limits.maxMinor) return { ok: false, reason: "above_max" };
  return { ok: true, minor: r.minor };
}

export { formatAmount, tryParseAmount };

/** Decimal text as a bigint with 8 decimals, so amounts of any exponent sort correctly. */
export function decimalSortKey(amount: string): bigint {
  const negative = amount.startsWith("-");
  const [whole = "0", fraction = ""] = (negative ? amount.slice(1) : amount).split(".");
  const key = BigInt(`${whole || "0"}${fraction.padEnd(8, "0").slice(0, 8)}`);
  return negative ? -key : key;
}
