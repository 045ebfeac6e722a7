import {
  applyMarkup,
  type Conversion,
  formatAmount,
  formatRate,
  MAX_MARKUP_BPS,
  parseRate,
  quoteFigures,
  tryParseRate,
} from "@psphub/protocol";
import type { FxSourceKind } from "../../infra/db/schema.js";
import { type MethodCurrency, ruleFor } from "../deposit-methods/method-model.js";
import type { RateAnswer } from "../fx-rates/rate-lookup.js";
import type { QuoteColumns } from "./locked-quote.js";

/**
 * A deposit's quote (pure): the payment side (amount, fee, in the payment currency) and the
 * account side (the wallet currency's amount), at the source's rate less the markup, rounded
 * half up once (docs/exchange-rates.md#rounding). What an order locks and a token carries.
 */
export type LockedQuote = {
  tenantId: string;
  clientId: string;
  methodId: string;
  currency: string;
  decimals: number;
  amountMinor: bigint;
  feeMinor: bigint;
  accountCurrency: string;
  accountDecimals: number;
  accountMinor: bigint;
  /** What the markup kept of the account amount (account minor units). */
  markupMinor: bigint;
  /** The source's rate, decimal text, before the markup. */
  rate: string;
  /** The pair's markup plus the method rule's, capped at MAX_MARKUP_BPS. */
  markupBps: number;
  sourceKind: FxSourceKind;
  sourceId: string;
  sourceName: string;
  rateTime: number;
  quotedAt: number;
  /** Past this the quote is not locked any more: the earlier of the quote's and the rate's end. */
  validUntil: number;
};

export type QuoteRequest = {
  tenantId: string;
  clientId: string;
  methodId: string;
  clientGroup: string | null;
  currency: MethodCurrency;
  amountMinor: bigint;
  /** The fee of the amount, payment currency (deposit-validation.ts). */
  feeMinor: bigint;
};

/** The rate request of a quote: the client group's rule, else the default one. */
export function rateRequestOf(q: Pick<QuoteRequest, "tenantId" | "clientGroup" | "currency">) {
  const conversion = q.currency.conversion;
  if (!conversion) return null;
  const rule = ruleFor(conversion, q.clientGroup);
  if (!rule) return null;
  return {
    request: { tenantId: q.tenantId, sourceId: rule.sourceId, from: q.currency.code, to: conversion.account },
    ruleMarkupBps: rule.markupBps,
    conversion,
  };
}

/** The markup of a quote: the pair's plus the rule's, never above MAX_MARKUP_BPS. */
export const totalMarkup = (pairBps: number, ruleBps: number): number =>
  Math.min(MAX_MARKUP_BPS, Math.max(0, pairBps) + Math.max(0, ruleBps));

/**
 * The quote of a request at a rate the lookup answered. Null when the answer's rate cannot be
 * read (the caller refuses as for a missing rate). The fee is the request's (payment side).
 */
export function buildQuote(
  q: QuoteRequest,
  answer: Extract<RateAnswer, { ok: true }>,
  now: number,
  validityMs: number,
): LockedQuote | null {
  const plan = rateRequestOf(q);
  const rate = tryParseRate(answer.rate);
  if (!plan || !rate) return null;
  const markupBps = totalMarkup(answer.pairMarkupBps, plan.ruleMarkupBps);
  const figures = quoteFigures(q.amountMinor, feeRuleOfFee(q.feeMinor), {
    rate,
    markupBps,
    paymentExponent: q.currency.decimals,
    accountExponent: plan.conversion.accountDecimals,
  });
  const ownEnd = now + validityMs;
  return {
    tenantId: q.tenantId,
    clientId: q.clientId,
    methodId: q.methodId,
    currency: q.currency.code,
    decimals: q.currency.decimals,
    amountMinor: q.amountMinor,
    feeMinor: figures.feeMinor,
    accountCurrency: plan.conversion.account,
    accountDecimals: plan.conversion.accountDecimals,
    accountMinor: figures.accountMinor,
    markupMinor: figures.markupMinor,
    rate: formatRate(rate),
    markupBps,
    sourceKind: answer.sourceKind,
    sourceId: answer.sourceId,
    sourceName: answer.sourceName,
    rateTime: answer.rateTime,
    quotedAt: now,
    validUntil: answer.validUntil === null ? ownEnd : Math.min(ownEnd, answer.validUntil),
  };
}

/** The fee already computed, as a rule that gives exactly it (the fee comes first, once). */
const feeRuleOfFee = (feeMinor: bigint) => ({ feePercentBps: 0, feeFixedMinor: feeMinor, feeMaxMinor: null });

/** The locked conversion of an order's quote columns; null for an order without a quote. */
export function conversionOf(row: {
  decimals: number;
  account_decimals: number | null;
  fx_rate: string | null;
  fx_markup_bps: number | null;
}): Conversion | null {
  if (row.fx_rate === null || row.account_decimals === null) return null;
  return {
    rate: parseRate(row.fx_rate),
    markupBps: row.fx_markup_bps ?? 0,
    paymentExponent: row.decimals,
    accountExponent: row.account_decimals,
  };
}

/** What an order stores of its quote (migration 0014). */
export function quoteColumns(q: LockedQuote): QuoteColumns {
  return {
    account_currency: q.accountCurrency,
    account_decimals: q.accountDecimals,
    fx_rate: q.rate,
    fx_markup_bps: q.markupBps,
    fx_markup_minor: Number(q.markupMinor),
    fx_source_kind: q.sourceKind,
    fx_source_id: q.sourceId,
    fx_source_name: q.sourceName,
    fx_rate_time: q.rateTime,
    fx_quoted_at: q.quotedAt,
  };
}

/** The quote at the HTTP edge: every amount and rate as decimal text. */
export type QuoteView = {
  payment: { amount: string; currency: string; fee: string; net: string };
  account: { amount: string; currency: string };
  fx: {
    rate: string;
    sourceRate: string;
    markupBps: number;
    markupAmount: string;
    sourceKind: FxSourceKind;
    sourceName: string;
    rateTime: number;
  } | null;
  quotedAt: number;
  validUntil: number | null;
  token: string | null;
};

/** The effective rate (after the markup) of a quote, decimal text. */
export const effectiveRate = (rate: string, markupBps: number): string =>
  formatRate(applyMarkup(parseRate(rate), markupBps));

export function quoteView(q: LockedQuote, token: string): QuoteView {
  return {
    payment: {
      amount: formatAmount(q.amountMinor, q.decimals),
      currency: q.currency,
      fee: formatAmount(q.feeMinor, q.decimals),
      net: formatAmount(q.amountMinor - q.feeMinor, q.decimals),
    },
    account: { amount: formatAmount(q.accountMinor, q.accountDecimals), currency: q.accountCurrency },
    fx: {
      rate: effectiveRate(q.rate, q.markupBps),
      sourceRate: q.rate,
      markupBps: q.markupBps,
      markupAmount: formatAmount(q.markupMinor, q.accountDecimals),
      sourceKind: q.sourceKind,
      sourceName: q.sourceName,
      rateTime: q.rateTime,
    },
    quotedAt: q.quotedAt,
    validUntil: q.validUntil,
    token,
  };
}

/** A same-currency quote: the account side is the payment side less the fee, no rate, no token. */
export function sameCurrencyQuoteView(
  c: Pick<MethodCurrency, "code" | "decimals">,
  amountMinor: bigint,
  feeMinor: bigint,
  now: number,
): QuoteView {
  const net = formatAmount(amountMinor - feeMinor, c.decimals);
  return {
    payment: {
      amount: formatAmount(amountMinor, c.decimals),
      currency: c.code,
      fee: formatAmount(feeMinor, c.decimals),
      net,
    },
    account: { amount: net, currency: c.code },
    fx: null,
    quotedAt: now,
    validUntil: null,
    token: null,
  };
}
