import type { ApiBody, ApiData } from "../lib/api.js";

/**
 * Names for the portal API's answers, taken from the generated schema (lib/api-schema.d.ts):
 * the server's response schemas are the one definition, nothing here is written by hand.
 */

export type ClientMe = ApiData<"/api/portal/auth/me", "get">["me"];
export type ClientLogin = ApiBody<"/api/portal/auth/login", "post">;
export type PortalMethod = ApiData<"/api/portal/deposit-methods", "get">["items"][number];
export type PortalCurrency = PortalMethod["currencies"][number];
export type PortalField = PortalMethod["fields"][number];
export type PortalDeposit = ApiData<"/api/portal/deposits/{orderNo}", "get">;
export type DepositStatus = PortalDeposit["status"];

export const isFinal = (s: DepositStatus) => s !== "pending" && s !== "processing";

/*
 * Exchange rates. Until the server's routes for them are in the generated schema, the shapes
 * below are written by hand from the HTTP contract (money and rates as decimal text); the
 * fields the server adds to existing answers are optional here, so answers without them (an
 * older server, an order without a quote) read as same-currency.
 */

/** A method's currency, with the account currency it credits (null or absent: itself). */
export type PortalCurrencyFx = PortalCurrency & { accountCurrency?: string | null };

/** `POST /api/portal/deposit-quote` body. */
export interface QuoteInput {
  methodId: string;
  currency: string;
  /** Plain decimal text, as the deposit takes it. */
  amount: string;
}

/** The figures a quote locks: both sides, the rate, its source and how long it is held. */
export interface DepositQuote {
  payment: { amount: string; currency: string; fee: string; net: string };
  account: { amount: string; currency: string };
  fx: null | {
    /** Effective rate, after the markup. */
    rate: string;
    sourceRate: string;
    markupBps: number;
    markupAmount: string;
    sourceKind: "manual" | "external";
    sourceName: string;
    rateTime: number;
  };
  quotedAt: number;
  /** Server time (ms) after which the token is refused; null: held without a limit. */
  validUntil: number | null;
  token: string | null;
}

/** The quote locked on an order, as deposit views carry it. */
export interface DepositQuoteView {
  paymentAmount: string;
  paymentCurrency: string;
  fee: string;
  accountAmount: string;
  accountCurrency: string;
  rate: string;
  sourceRate: string;
  markupBps: number;
  markupAmount: string;
  sourceKind: "manual" | "external";
  sourceName: string;
  rateTime: number;
  quotedAt: number;
}

/** A deposit view with its account side: `credit` is in `creditCurrency`. */
export type PortalDepositFx = PortalDeposit & { creditCurrency?: string; quote?: DepositQuoteView | null };

/** The currency a deposit's `credit` is in: the account currency, else the payment currency. */
export const creditCurrencyOf = (d: PortalDepositFx): string =>
  d.creditCurrency ?? d.quote?.accountCurrency ?? d.currency;
