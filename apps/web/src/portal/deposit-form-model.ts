import { computeFee, isJsonNumberText } from "@psphub/protocol";
import { locale, t } from "../i18n/index.js";
import { checkAmount, formatAmount, groupDigits, percentToBps, tryParseAmount } from "../lib/money.js";
import { formatAmountText, parseAmountText } from "./amount-text.js";
import type { PortalCurrency, PortalField, PortalMethod } from "./types.js";

/**
 * The deposit form's rules in the browser: the same limits, fee and field checks the server
 * runs (deposit-validation.ts), on bigint minor units, so the client sees problems inline before
 * sending. The server checks everything again.
 */
export interface DepositFormValues {
  currency: string;
  amount: string;
  /** One value per method field, in the method's field order (keys may contain dots). */
  fieldValues: string[];
}

export interface CurrencyLimits {
  decimals: number;
  minMinor: bigint;
  maxMinor: bigint;
  feePercentBps: bigint;
  feeFixedMinor: bigint;
  feeMaxMinor: bigint | null;
}

/** A method currency's limits and fee as the API gives them (a deposit's or a withdrawal's). */
export type FeeCurrency = Pick<
  PortalCurrency,
  "code" | "decimals" | "min" | "max" | "feePercent" | "feeFixed" | "feeMax"
>;

/** The currency's settings as minor units, from the API's decimal text; null if unreadable. */
export function limitsOf(c: FeeCurrency): CurrencyLimits | null {
  const min = tryParseAmount(c.min, c.decimals);
  const max = tryParseAmount(c.max, c.decimals);
  const fixed = tryParseAmount(c.feeFixed, c.decimals);
  const cap = c.feeMax === null ? null : tryParseAmount(c.feeMax, c.decimals);
  const bps = percentToBps(c.feePercent);
  if (!min.ok || !max.ok || !fixed.ok || (cap && !cap.ok) || bps === null) return null;
  return {
    decimals: c.decimals,
    minMinor: min.minor,
    maxMinor: max.minor,
    feePercentBps: bps,
    feeFixedMinor: fixed.minor,
    feeMaxMinor: cap?.ok ? cap.minor : null,
  };
}

export interface FeePreview {
  amount: string;
  fee: string;
  credit: string;
}

/**
 * What the client typed, in their locale's way ("1,000.00", "25,50"), as the plain decimal text
 * the API takes ("1000.00"); null when it is not an amount.
 */
export const canonicalAmount = (typed: string, loc = locale()): string | null => parseAmountText(typed, loc);

/** Fee and credit for what the client typed, or null while it is not a valid amount. */
export function previewFee(c: PortalCurrency, amountText: string): FeePreview | null {
  const l = limitsOf(c);
  const plain = canonicalAmount(amountText);
  if (!l || plain === null) return null;
  const r = tryParseAmount(plain, l.decimals);
  if (!r.ok || r.minor <= 0n) return null;
  const fee = computeFee(r.minor, l);
  return {
    amount: formatAmount(r.minor, l.decimals),
    fee: formatAmount(fee, l.decimals),
    credit: formatAmount(r.minor - fee, l.decimals),
  };
}

export function amountError(c: PortalCurrency | undefined, text: string): string | null {
  if (!c) return t("validation.required");
  const l = limitsOf(c);
  if (!l) return null;
  if (text.trim() === "") return t("validation.required");
  const plain = canonicalAmount(text);
  if (plain === null) {
    const example = l.decimals === 0 ? "1000" : `1000.${"5".padEnd(l.decimals, "0")}`;
    return t("deposit.amountInvalid", { example: formatAmountText(example, locale()) });
  }
  const r = checkAmount(plain, l.decimals, l);
  if (r.ok) {
    const fee = computeFee(r.minor, l);
    return r.minor - fee <= 0n ? t("deposit.feeExceedsAmount") : null;
  }
  switch (r.reason) {
    case "empty":
      return t("validation.required");
    case "too_precise":
      return t("validation.tooPrecise", { decimals: l.decimals });
    case "below_min":
      return t("validation.belowMin", { min: `${groupDigits(c.min)} ${c.code}` });
    case "above_max":
      return t("validation.aboveMax", { max: `${groupDigits(c.max)} ${c.code}` });
    default:
      return t("validation.decimal");
  }
}

const PHONE = /^\+?[0-9 ()-]{5,20}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[A-Za-z]{2,63}$/;

export function fieldError(f: PortalField, raw: string): string | null {
  const v = raw.trim();
  if (v === "") return f.required ? t("validation.required") : null;
  switch (f.type) {
    case "text":
      return Array.from(v).length > 200 ? t("validation.maxLength", { max: 200 }) : null;
    case "number":
      return v.length > 40 || !isJsonNumberText(v) ? t("validation.notNumber") : null;
    case "email":
      return EMAIL.test(v) ? null : t("validation.email");
    case "phone":
      return PHONE.test(v) ? null : t("validation.phone");
    case "select":
      return f.options.includes(v) ? null : t("validation.select");
    default:
      return null;
  }
}

export function validateDeposit(method: PortalMethod, v: DepositFormValues): Record<string, string> {
  const e: Record<string, string> = {};
  const c = method.currencies.find((x) => x.code === v.currency);
  if (!c) e.currency = t("validation.required");
  const a = amountError(c, v.amount);
  if (a) e.amount = a;
  method.fields.forEach((f, i) => {
    const err = fieldError(f, v.fieldValues[i] ?? "");
    if (err) e[`fieldValues.${i}`] = err;
  });
  return e;
}

/** "2.5% + 0.30 USD, at most 20.00 USD" */
export function feeSummary(c: FeeCurrency): string {
  const parts: string[] = [];
  const pct = c.feePercent.replace(/\.?0+$/, "");
  if (pct !== "0" && pct !== "") parts.push(`${pct}%`);
  if (!/^0(\.0+)?$/.test(c.feeFixed)) parts.push(`${groupDigits(c.feeFixed)} ${c.code}`);
  if (parts.length === 0) return t("deposit.noFee");
  const base = parts.join(" + ");
  return c.feeMax ? t("deposit.feeWithCap", { fee: base, max: `${groupDigits(c.feeMax)} ${c.code}` }) : base;
}

export const deviceKind = (): "mobile" | "pc" =>
  typeof window !== "undefined" && window.matchMedia?.("(max-width: 768px), (pointer: coarse)").matches
    ? "mobile"
    : "pc";
