import { isoExponent } from "@psphub/protocol";
import { t } from "../i18n/index.js";
import { bpsToMarkupPercent, MAX_MARKUP_PERCENT, markupPercentToBps } from "./markup-model.js";
import type { FxConversion } from "./types.js";

/**
 * The "Credit to" block of a deposit method's currency, as the form edits it: the account
 * currency ("" = the payment currency itself, no conversion, today's behaviour), its decimals
 * and the rate rules (a default for every client group, then per-group rules, each with its
 * source and markup in %). Validation and the request body are here, pure, so they are tested
 * without a browser.
 */
export interface RuleRow {
  uid: string;
  /** null: the default rule, for every client group without its own. */
  group: string | null;
  sourceId: string | null;
  markupPercent: string;
}

export interface ConversionValues {
  /** "" = credits the payment currency (no conversion). */
  accountCurrency: string;
  /** "" = the ISO 4217 exponent of the account currency. */
  accountDecimals: number | string;
  rules: RuleRow[];
}

let seq = 0;
const nextUid = () => `rule-${++seq}`;

export const noConversion = (): ConversionValues => ({ accountCurrency: "", accountDecimals: "", rules: [] });

export const newRule = (group: string | null, uid: () => string = nextUid): RuleRow => ({
  uid: uid(),
  group,
  sourceId: null,
  markupPercent: "0",
});

/** A method currency's conversion as the form shows it (the default rule first). */
export function conversionValuesOf(
  c: FxConversion | null | undefined,
  uid: () => string = nextUid,
): ConversionValues {
  if (!c) return noConversion();
  const rules = [...c.rules].sort((a, b) => (a.group === null ? -1 : b.group === null ? 1 : 0));
  return {
    accountCurrency: c.accountCurrency,
    accountDecimals: isoExponent(c.accountCurrency) === c.accountDecimals ? "" : c.accountDecimals,
    rules: rules.map((r) => ({
      uid: uid(),
      group: r.group,
      sourceId: r.sourceId,
      markupPercent: bpsToMarkupPercent(r.markupBps),
    })),
  };
}

/** Turning conversion on: the account currency typed, and a default rule to fill in. */
export function withAccountCurrency(v: ConversionValues, code: string): ConversionValues {
  if (code.trim() === "") return noConversion();
  const rules = v.rules.some((r) => r.group === null) ? v.rules : [newRule(null), ...v.rules];
  return { ...v, accountCurrency: code, rules };
}

const normCode = (s: string) => s.trim().toUpperCase();
const CODE = /^[A-Z][A-Z0-9]{2,9}$/;

/** The account currency's exponent: given, else ISO 4217; undefined when neither is known. */
export function accountDecimalsOf(v: ConversionValues): number | undefined {
  if (v.accountDecimals !== "" && Number.isInteger(Number(v.accountDecimals)))
    return Number(v.accountDecimals);
  return isoExponent(normCode(v.accountCurrency));
}

/**
 * Field errors of the block, by path relative to it ("accountCurrency", "rules.1.sourceId",
 * …); empty when valid. `paymentCurrency` is the currency the block belongs to.
 */
export function conversionErrors(v: ConversionValues, paymentCurrency: string): Record<string, string> {
  const e: Record<string, string> = {};
  const code = normCode(v.accountCurrency);
  if (code === "") return e;
  if (!CODE.test(code)) e.accountCurrency = t("methods.codeFormat");
  else if (code === normCode(paymentCurrency)) e.accountCurrency = t("fx.conv.sameCurrency");
  const d = accountDecimalsOf(v);
  if (d === undefined) e.accountDecimals = t("methods.decimalsRequired");
  else if (d < 0 || d > 8) e.accountDecimals = t("validation.range", { min: 0, max: 8 });
  if (!v.rules.some((r) => r.group === null)) e.rules = t("fx.conv.defaultRequired");
  const groups = new Set<string>();
  v.rules.forEach((r, i) => {
    const at = (f: string) => `rules.${i}.${f}`;
    if (r.group !== null) {
      const g = r.group.trim();
      if (g === "") e[at("group")] = t("validation.required");
      else if (groups.has(g)) e[at("group")] = t("fx.conv.groupTwice");
      groups.add(g);
    }
    if (!r.sourceId) e[at("sourceId")] = t("validation.required");
    if (markupPercentToBps(r.markupPercent.trim() || "0") === null)
      e[at("markupPercent")] = t("fx.markup.format", { max: MAX_MARKUP_PERCENT });
  });
  return e;
}

/** The block as the API takes it: null when it credits the payment currency itself. */
export function conversionBody(v: ConversionValues): FxConversion | null {
  const code = normCode(v.accountCurrency);
  if (code === "") return null;
  return {
    accountCurrency: code,
    accountDecimals: accountDecimalsOf(v) ?? 0,
    rules: v.rules.map((r) => ({
      group: r.group === null ? null : r.group.trim(),
      sourceId: r.sourceId ?? "",
      markupBps: markupPercentToBps(r.markupPercent.trim() || "0") ?? 0,
    })),
  };
}

/** A server issue's path inside a conversion ("…rules.0.markupBps") as the form's path. */
export function conversionServerPath(path: string): string {
  return path.replace(/(\.conversion\.rules\.\d+\.)markupBps$/, "$1markupPercent");
}
