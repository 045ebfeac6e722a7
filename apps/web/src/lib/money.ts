import { formatAmount, tryParseAmount } from "@psphub/protocol";

/**
 * Money in the browser: decimal text from the API is shown as text, and arithmetic (the live
 * fee preview) runs on bigint minor units. No amount is ever a float. The fee is the server's
 * own rule (`computeFee` of @psphub/protocol), so the preview and the order always agree.
 */

/** "1234567.50" → "1,234,567.50": grouping done on the text, never through Number. */
export function groupDigits(amount: string): string {
  const negative = amount.startsWith("-");
  const body = negative ? amount.slice(1) : amount;
  const [whole = "", fraction] = body.split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${negative ? "-" : ""}${grouped}${fraction !== undefined ? `.${fraction}` : ""}`;
}

/** "162.48", "USD" → "162.48 USD" (grouped). */
export function money(amount: string | null | undefined, currency: string): string {
  if (amount === null || amount === undefined || amount === "") return "—";
  return `${groupDigits(amount)} ${currency}`;
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
