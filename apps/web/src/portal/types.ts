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

/** `POST /api/portal/deposit-quote`: what is paid, the fee, what the wallet gets, at which rate. */
export type QuoteInput = ApiBody<"/api/portal/deposit-quote", "post">;
export type DepositQuote = ApiData<"/api/portal/deposit-quote", "post">;
/** The quote locked on an order, as deposit views carry it (null: it credits its own currency). */
export type DepositQuoteView = NonNullable<PortalDeposit["quote"]>;

export type Wallet = ApiData<"/api/portal/wallets", "get">["items"][number];
export type PortalWithdrawalMethod = ApiData<"/api/portal/withdrawal-methods", "get">["items"][number];
export type PortalWithdrawal = ApiData<"/api/portal/withdrawals/{id}", "get">;
