import { localeInfo, t } from "../i18n/index.js";
import { formatAmount, groupDigits, money, tryParseAmount } from "../lib/money.js";
import { amountError, canonicalAmount, limitsOf } from "./deposit-form-model.js";
import type { DepositQuote, DepositQuoteView, PortalCurrency, QuoteInput } from "./types.js";

/**
 * The two-sided preview of a deposit paid in one currency and credited in another, as pure
 * state: which quote request an input asks for, which answer is current (answers of an older
 * amount, or older answers of the same amount, are dropped), how long the shown quote is held,
 * when to quote again, and how a refused confirmation (409) sends the form back to "confirm the
 * new figures". The page (pages/deposit.tsx) owns the timers and the calls; nothing here waits.
 */

/** How long typing must pause before a quote is asked for. */
export const QUOTE_DEBOUNCE_MS = 300;

/** True when the currency credits another currency, so a deposit in it needs a quote. */
export const convertsCurrency = (c: PortalCurrency | undefined): boolean =>
  !!c?.accountCurrency && c.accountCurrency !== c.code;

/**
 * The quote to ask for: only for a converting currency and an amount the form already accepts
 * (limits, precision, fee), written with the currency's decimals so "100" and "100.00" are one
 * request. Null: nothing to ask.
 */
export function quoteInputOf(
  methodId: string,
  c: PortalCurrency | undefined,
  amountText: string,
  loc?: string,
): QuoteInput | null {
  if (!c || !convertsCurrency(c)) return null;
  const limits = limitsOf(c);
  if (!limits || amountError(c, amountText) !== null) return null;
  const plain = canonicalAmount(amountText, loc);
  if (plain === null) return null;
  const r = tryParseAmount(plain, limits.decimals);
  if (!r.ok) return null;
  return { methodId, currency: c.code, amount: formatAmount(r.minor, limits.decimals) };
}

export const quoteKey = (q: QuoteInput): string => `${q.methodId}\n${q.currency}\n${q.amount}`;

/** A request on its way: its order among all requests, what it asked, when it left (local clock). */
export interface QuoteRequest {
  seq: number;
  key: string;
  body: QuoteInput;
  sentAt: number;
}

export interface HeldQuote {
  key: string;
  seq: number;
  quote: DepositQuote;
  /**
   * When the hold ends on this browser's clock: the time the request left plus the hold the
   * server granted (validUntil − quotedAt, both server times), so a skewed client clock does
   * not shorten or lengthen it, and network time only makes it end a little early.
   */
  expiresAt: number | null;
}

export type FxProblem =
  /** The server has no usable rate (503 fx_rate_unavailable): the form stays, nothing is sent. */
  | { kind: "unavailable"; from: string; to: string }
  /** The amount was refused (422): the form's own field messages say why. */
  | { kind: "invalid" }
  /** Anything else (network, server): a retry may work. */
  | { kind: "failed" };

export interface FxPreviewState {
  nextSeq: number;
  wanted: QuoteInput | null;
  wantedKey: string | null;
  /** The newest request sent, until its answer (or failure) arrives. */
  inFlight: QuoteRequest | null;
  /** Only ever a quote of `wantedKey`. */
  shown: HeldQuote | null;
  problem: FxProblem | null;
  /** A confirmation was refused (quote expired or no longer matching): the figures shown next are new. */
  reconfirm: boolean;
  /** Answers of requests older than this are dropped (those sent before a refused confirmation). */
  acceptFrom: number;
}

export const initialFxPreview: FxPreviewState = {
  nextSeq: 1,
  wanted: null,
  wantedKey: null,
  inFlight: null,
  shown: null,
  problem: null,
  reconfirm: false,
  acceptFrom: 1,
};

/** The input changed: the quote shown stays only if it is of the same amount, currency and method. */
export function setInput(s: FxPreviewState, input: QuoteInput | null): FxPreviewState {
  const key = input ? quoteKey(input) : null;
  if (key === s.wantedKey) return s;
  return {
    ...s,
    wanted: input,
    wantedKey: key,
    shown: s.shown && s.shown.key === key ? s.shown : null,
    inFlight: s.inFlight && s.inFlight.key === key ? s.inFlight : null,
    problem: null,
  };
}

/** Ask for a quote of the current input now; null when there is no input to quote. */
export function startRequest(
  s: FxPreviewState,
  now: number,
): { state: FxPreviewState; request: QuoteRequest } | null {
  if (!s.wanted || s.wantedKey === null) return null;
  const request: QuoteRequest = { seq: s.nextSeq, key: s.wantedKey, body: s.wanted, sentAt: now };
  return { state: { ...s, nextSeq: s.nextSeq + 1, inFlight: request }, request };
}

/** A quote answered. Kept only if it is of the current input and newer than the one shown. */
export function receive(s: FxPreviewState, request: QuoteRequest, quote: DepositQuote): FxPreviewState {
  if (request.key !== s.wantedKey || request.seq < s.acceptFrom) return s;
  if (s.shown && s.shown.seq > request.seq) return s;
  const expiresAt =
    quote.validUntil === null ? null : request.sentAt + Math.max(0, quote.validUntil - quote.quotedAt);
  return {
    ...s,
    shown: { key: request.key, seq: request.seq, quote, expiresAt },
    inFlight: s.inFlight && s.inFlight.seq <= request.seq ? null : s.inFlight,
    problem: null,
  };
}

/** A quote request was refused or failed; only the newest request of the current input counts. */
export function refuse(
  s: FxPreviewState,
  request: QuoteRequest,
  error: { status: number; code: string },
  accountCurrency: string,
): FxPreviewState {
  if (request.key !== s.wantedKey || s.inFlight?.seq !== request.seq) return s;
  const problem: FxProblem =
    error.code === "fx_rate_unavailable"
      ? { kind: "unavailable", from: request.body.currency, to: accountCurrency }
      : error.status === 422
        ? { kind: "invalid" }
        : { kind: "failed" };
  // A quote of the same amount still held may stay; an unavailable rate ends it.
  const shown = problem.kind === "failed" ? s.shown : null;
  return { ...s, inFlight: null, shown, problem };
}

/** The shown quote's hold has ended (its token would be refused). */
export const isExpired = (s: FxPreviewState, now: number): boolean =>
  s.shown !== null && s.shown.expiresAt !== null && now >= s.shown.expiresAt;

/**
 * Quote again by itself: the held quote ran out and no request for this input is on its way.
 * (A first quote waits for the typing pause instead; a problem waits for the client.)
 */
export const shouldRequote = (s: FxPreviewState, now: number): boolean =>
  s.wantedKey !== null && isExpired(s, now) && s.inFlight === null && s.problem === null;

/** "1:45", "0:05", "1:02:03": what is left of the hold, whole seconds rounded up; "0:00" once over. */
export function countdownText(expiresAt: number, now: number): string {
  const total = Math.max(0, Math.ceil((expiresAt - now) / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = String(total % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

export type SubmitDecision =
  /** Not a converting currency: the deposit is created as today. */
  | { kind: "plain" }
  /** Create with this quote's token: the figures the client sees are the ones locked. */
  | { kind: "send"; token: string | null }
  /** No current quote on screen (loading, ran out, unavailable): nothing is created. */
  | { kind: "wait" };

/**
 * What "Continue" does. A converting currency is created only with the token of a quote that is
 * on screen and still held, never at a rate the client has not seen.
 */
export function submitDecision(
  s: FxPreviewState,
  input: QuoteInput | null,
  converting: boolean,
  now: number,
): SubmitDecision {
  if (!converting) return { kind: "plain" };
  if (!input || s.shown === null || s.shown.key !== quoteKey(input) || isExpired(s, now))
    return { kind: "wait" };
  return { kind: "send", token: s.shown.quote.token };
}

export const QUOTE_CONFLICTS = ["quote_expired", "quote_mismatch"] as const;
export const isQuoteConflict = (code: string): boolean =>
  (QUOTE_CONFLICTS as readonly string[]).includes(code);

/**
 * Creating the deposit was refused because its quote no longer holds (409 quote_expired or
 * quote_mismatch): the quote is dropped, the form asks again at once, and the client confirms
 * the new figures with another click.
 */
export function conflict(s: FxPreviewState): FxPreviewState {
  return { ...s, shown: null, inFlight: null, problem: null, reconfirm: true, acceptFrom: s.nextSeq };
}

/** Creating the deposit was refused for lack of a rate (503 fx_rate_unavailable). */
export function rateUnavailable(s: FxPreviewState, from: string, to: string): FxPreviewState {
  return { ...s, shown: null, inFlight: null, problem: { kind: "unavailable", from, to } };
}

/** A rate as the client reads it: the locale's decimal mark, isolated left-to-right in Arabic text as money() does. */
export function rateText(rate: string): string {
  const text = groupDigits(rate);
  return localeInfo().dir === "rtl" ? `\u2066${text}\u2069` : text;
}

/** The words of a quote: "You pay 100.00 EUR · fee 2.50 EUR · you receive 105.11 USD at 1.0781". */
export function quoteSummary(q: DepositQuote): string {
  return t("portal.fx.summary", {
    pay: money(q.payment.amount, q.payment.currency),
    fee: money(q.payment.fee, q.payment.currency),
    receive: money(q.account.amount, q.account.currency),
    rate: rateText(q.fx?.rate ?? "1"),
  });
}

/** A deposit's locked quote in one line, worded by where the deposit stands. */
export function lockedQuoteLine(
  q: DepositQuoteView,
  credit: string,
  creditCurrency: string,
  stage: "credited" | "open" | "ended",
): string {
  const params = {
    pay: money(q.paymentAmount, q.paymentCurrency),
    credit: money(stage === "credited" ? credit : q.accountAmount, creditCurrency),
    rate: rateText(q.rate),
  };
  if (stage === "credited") return t("portal.fx.paidCredited", params);
  if (stage === "open") return t("portal.fx.payReceive", params);
  return t("portal.fx.quotedLine", params);
}

/** "1 EUR = 1.0781 USD" */
export function rateEquation(from: string, to: string, rate: string): string {
  return t("portal.fx.rateEquation", { from, to, rate: rateText(rate) });
}
