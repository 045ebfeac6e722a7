import { formatAmount, isoExponent, MAX_MARKUP_BPS, MoneyError, parseAmount } from "@psphub/protocol";
import { z } from "zod";
import type { FieldIssue } from "../../common/errors.js";
import { plainDecimal } from "../../common/plain-decimal.js";
import type { MethodConversion, MethodCurrency } from "./method-model.js";

const currencyCode = z
  .string()
  .regex(/^[A-Z][A-Z0-9]{2,9}$/, "3 to 10 upper-case letters or digits, starting with a letter");

/**
 * The account side of a payment currency (docs/exchange-rates.md): the wallet currency it
 * credits, and the rate rule per client group (`group: null` the default, required).
 */
export const conversionInput = z.object({
  accountCurrency: currencyCode,
  /** Defaults to the ISO 4217 exponent; required for other codes. */
  accountDecimals: z.number().int().min(0).max(8).optional(),
  rules: z
    .array(
      z.object({
        group: z.string().trim().min(1).max(64).nullable(),
        sourceId: z.string().min(1).max(64),
        markupBps: z.number().int().min(0).max(MAX_MARKUP_BPS).default(0),
      }),
    )
    .min(1)
    .max(50),
});

export const conversionOut = z.object({
  accountCurrency: z.string(),
  accountDecimals: z.number().int(),
  rules: z.array(
    z.object({ group: z.string().nullable(), sourceId: z.string(), markupBps: z.number().int() }),
  ),
});
export type ConversionView = z.output<typeof conversionOut>;

/**
 * A method currency at the HTTP edge: amounts and fees as decimal text, never numbers.
 * `decimals` defaults to the ISO 4217 exponent and is required for other codes (USDT, BTC).
 */
export const currencyInput = z.object({
  code: currencyCode,
  decimals: z.number().int().min(0).max(8).optional(),
  min: plainDecimal,
  max: plainDecimal,
  /** Percent of the amount, 0..100 with at most 2 decimals ("2.5"). */
  feePercent: plainDecimal.default("0"),
  feeFixed: plainDecimal.default("0"),
  /** Cap of the whole fee; null: no cap. */
  feeMax: plainDecimal.nullable().default(null),
  /** null: credits a wallet in this currency itself. */
  conversion: conversionInput.nullable().optional(),
});
export type CurrencyInput = z.output<typeof currencyInput>;

export const currencyOut = z.object({
  code: z.string(),
  decimals: z.number(),
  min: z.string(),
  max: z.string(),
  feePercent: z.string(),
  feeFixed: z.string(),
  feeMax: z.string().nullable(),
  conversion: conversionOut.nullable(),
});
export type CurrencyView = z.output<typeof currencyOut>;

const moneyMessage = (err: unknown, decimals: number): string => {
  if (err instanceof MoneyError) {
    if (err.code === "amount_too_precise") return `at most ${decimals} decimals`;
    if (err.code === "amount_negative") return "must not be negative";
    if (err.code === "amount_too_large") return "is too large";
    return "must be a decimal number such as 10.00";
  }
  throw err;
};

/**
 * Parses a method's currencies into minor units (pure, integer only). Issues carry paths
 * `currencies.<i>.<field>`: unknown decimals for a non-ISO code, decimals differing from ISO,
 * amounts with more decimals than the currency has, min ≤ 0, min > max, a fee percent above
 * 100 or with more than 2 decimals, and duplicate codes.
 */
export function parseCurrencies(inputs: readonly CurrencyInput[]): {
  currencies: MethodCurrency[];
  issues: FieldIssue[];
} {
  const issues: FieldIssue[] = [];
  const currencies: MethodCurrency[] = [];
  const seen = new Set<string>();
  inputs.forEach((c, i) => {
    const at = (field: string) => `currencies.${i}.${field}`;
    const before = issues.length;
    if (seen.has(c.code)) issues.push({ path: at("code"), message: `${c.code} is listed twice` });
    seen.add(c.code);

    const iso = isoExponent(c.code);
    let decimals: number;
    if (c.decimals === undefined) {
      if (iso === undefined) {
        issues.push({
          path: at("decimals"),
          message: `${c.code} is not an ISO 4217 currency: give its number of decimals`,
        });
        return;
      }
      decimals = iso;
    } else {
      if (iso !== undefined && c.decimals !== iso) {
        issues.push({ path: at("decimals"), message: `${c.code} has ${iso} decimals (ISO 4217)` });
        return;
      }
      decimals = c.decimals;
    }

    const amount = (field: "min" | "max" | "feeFixed" | "feeMax", text: string): bigint | undefined => {
      try {
        return parseAmount(text, decimals);
      } catch (err) {
        issues.push({ path: at(field), message: moneyMessage(err, decimals) });
        return undefined;
      }
    };
    const min = amount("min", c.min);
    const max = amount("max", c.max);
    const feeFixed = amount("feeFixed", c.feeFixed);
    const feeMax = c.feeMax === null ? null : amount("feeMax", c.feeMax);
    let feeBps: bigint | undefined;
    try {
      feeBps = parseAmount(c.feePercent, 2);
      if (feeBps > 10_000n) {
        issues.push({ path: at("feePercent"), message: "must be at most 100" });
        feeBps = undefined;
      }
    } catch (err) {
      issues.push({ path: at("feePercent"), message: moneyMessage(err, 2) });
    }
    if (min !== undefined && min <= 0n) issues.push({ path: at("min"), message: "must be more than 0" });
    if (min !== undefined && max !== undefined && min > max)
      issues.push({ path: at("max"), message: "must not be less than the minimum" });

    const conversion = c.conversion ? parseConversion(c.code, c.conversion, at, issues) : null;

    if (
      issues.length === before &&
      min !== undefined &&
      max !== undefined &&
      feeFixed !== undefined &&
      feeMax !== undefined &&
      feeBps !== undefined
    ) {
      currencies.push({
        code: c.code,
        decimals,
        minMinor: min,
        maxMinor: max,
        feePercentBps: Number(feeBps),
        feeFixedMinor: feeFixed,
        feeMaxMinor: feeMax,
        ...(conversion ? { conversion } : {}),
      });
    }
  });
  return { currencies, issues };
}

/**
 * The pure rules of a conversion, issues at `currencies.<i>.conversion.…`: an account currency
 * other than the payment one, its decimals (ISO 4217's, given for other codes), one default rule
 * and no group twice. Whether the sources exist and the decimals agree with the tenant's is the
 * use-case's (conversionStoreIssues).
 */
function parseConversion(
  paymentCode: string,
  c: NonNullable<CurrencyInput["conversion"]>,
  at: (field: string) => string,
  issues: FieldIssue[],
): MethodConversion | null {
  const before = issues.length;
  if (c.accountCurrency === paymentCode)
    issues.push({
      path: at("conversion.accountCurrency"),
      message: "must differ from the payment currency (leave the conversion out to credit it itself)",
    });
  const iso = isoExponent(c.accountCurrency);
  const decimals = c.accountDecimals ?? iso;
  if (decimals === undefined)
    issues.push({
      path: at("conversion.accountDecimals"),
      message: `${c.accountCurrency} is not an ISO 4217 currency: give its number of decimals`,
    });
  else if (iso !== undefined && decimals !== iso)
    issues.push({
      path: at("conversion.accountDecimals"),
      message: `${c.accountCurrency} has ${iso} decimals (ISO 4217)`,
    });
  const defaults = c.rules.filter((r) => r.group === null).length;
  if (defaults !== 1)
    issues.push({
      path: at("conversion.rules"),
      message:
        defaults === 0
          ? "needs a default rule (group null) for every client group"
          : "has more than one default rule",
    });
  const groups = new Set<string>();
  c.rules.forEach((r, j) => {
    if (r.group === null) return;
    if (groups.has(r.group))
      issues.push({ path: at(`conversion.rules.${j}.group`), message: `${r.group} has two rules` });
    groups.add(r.group);
  });
  if (issues.length > before || decimals === undefined) return null;
  return {
    account: c.accountCurrency,
    accountDecimals: decimals,
    rules: c.rules.map((r) => ({ group: r.group, sourceId: r.sourceId, markupBps: r.markupBps })),
  };
}

/** A conversion as the edge shows it. */
export function conversionView(c: MethodConversion | null | undefined): ConversionView | null {
  if (!c) return null;
  return {
    accountCurrency: c.account,
    accountDecimals: c.accountDecimals,
    rules: c.rules.map((r) => ({ group: r.group, sourceId: r.sourceId, markupBps: r.markupBps })),
  };
}

/** A currency as decimal text again (`formatAmount`), the shape the edge accepts. */
export function currencyView(c: MethodCurrency): CurrencyView {
  return {
    code: c.code,
    decimals: c.decimals,
    min: formatAmount(c.minMinor, c.decimals),
    max: formatAmount(c.maxMinor, c.decimals),
    feePercent: formatAmount(BigInt(c.feePercentBps), 2),
    feeFixed: formatAmount(c.feeFixedMinor, c.decimals),
    feeMax: c.feeMaxMinor === null ? null : formatAmount(c.feeMaxMinor, c.decimals),
    conversion: conversionView(c.conversion),
  };
}
