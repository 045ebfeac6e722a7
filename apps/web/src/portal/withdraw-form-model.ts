import { computeFee } from "@psphub/protocol";
import { locale, t } from "../i18n/index.js";
import { checkAmount, formatAmount, groupDigits, tryParseAmount } from "../lib/money.js";
import { formatAmountText } from "./amount-text.js";
import { canonicalAmount, type FeeCurrency, limitsOf } from "./deposit-form-model.js";
import type { PortalWithdrawalMethod, Wallet } from "./types.js";

/**
 * The withdrawal form's rules in the browser, on bigint minor units like the deposit form's: the
 * method's limits, its fee (the server's computeFee, taken from the amount and never more than
 * it: the client receives amount − fee), the wallet's available balance, and the method's
 * fields. The server checks everything again (docs/withdrawals.md#the-request-and-the-hold).
 */
export interface WithdrawFormValues {
  currency: string;
  amount: string;
  /** One value per method field, in the method's field order. */
  fieldValues: string[];
}

export interface WithdrawalPreview {
  amount: string;
  fee: string;
  /** What the client receives. */
  payout: string;
}

/** The currencies of a method the client has a wallet in (a withdrawal takes from that wallet). */
export function usableCurrencies(
  m: Pick<PortalWithdrawalMethod, "currencies">,
  wallets: readonly Pick<Wallet, "currency">[],
): PortalWithdrawalMethod["currencies"] {
  return m.currencies.filter((c) => wallets.some((w) => w.currency === c.code));
}

/** Fee and what the client receives for what they typed, or null while it is not an amount. */
export function previewWithdrawal(c: FeeCurrency, amountText: string): WithdrawalPreview | null {
  const l = limitsOf(c);
  const plain = canonicalAmount(amountText);
  if (!l || plain === null) return null;
  const r = tryParseAmount(plain, l.decimals);
  if (!r.ok || r.minor <= 0n) return null;
  let fee = computeFee(r.minor, l);
  // The fee stops at the amount (bigint: no Math.min).
  if (fee > r.minor) fee = r.minor;
  return {
    amount: formatAmount(r.minor, l.decimals),
    fee: formatAmount(fee, l.decimals),
    payout: formatAmount(r.minor - fee, l.decimals),
  };
}

/**
 * What is wrong with the amount typed, or null: not an amount, outside the method's limits, or
 * more than the wallet's available balance (`available`, decimal text; null when unknown).
 */
export function withdrawAmountError(
  c: FeeCurrency | undefined,
  text: string,
  available: string | null,
): string | null {
  if (!c) return t("validation.required");
  const l = limitsOf(c);
  if (!l) return null;
  if (text.trim() === "") return t("validation.required");
  const plain = canonicalAmount(text);
  if (plain === null) {
    const example = l.decimals === 0 ? "100" : `100.${"5".padEnd(l.decimals, "0")}`;
    return t("deposit.amountInvalid", { example: formatAmountText(example, locale()) });
  }
  const r = checkAmount(plain, l.decimals, l);
  if (r.ok) {
    const left = available === null ? null : tryParseAmount(available, l.decimals);
    if (left?.ok && r.minor > left.minor)
      return t("withdraw.moreThanAvailable", { available: `${groupDigits(available ?? "")} ${c.code}` });
    return null;
  }
  switch (r.reason) {
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

export function withdrawFieldError(f: { required: boolean }, raw: string): string | null {
  const v = raw.trim();
  if (v === "") return f.required ? t("validation.required") : null;
  return Array.from(v).length > 200 ? t("validation.maxLength", { max: 200 }) : null;
}

export function validateWithdrawal(
  method: Pick<PortalWithdrawalMethod, "currencies" | "fields">,
  v: WithdrawFormValues,
  availableOf: (currency: string) => string | null,
): Record<string, string> {
  const e: Record<string, string> = {};
  const c = method.currencies.find((x) => x.code === v.currency);
  if (!c) e.currency = t("validation.required");
  const a = withdrawAmountError(c, v.amount, availableOf(v.currency));
  if (a) e.amount = a;
  method.fields.forEach((f, i) => {
    const err = withdrawFieldError(f, v.fieldValues[i] ?? "");
    if (err) e[`fieldValues.${i}`] = err;
  });
  return e;
}

/** A fresh idempotency key for one submission of the form (retries of it send the same key). */
export function newIdempotencyKey(): string {
  const c = globalThis.crypto;
  if (c?.randomUUID) return c.randomUUID();
  const bytes = new Uint8Array(16);
  c.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
