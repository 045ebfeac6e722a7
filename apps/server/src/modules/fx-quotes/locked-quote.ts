import type { DepositsTable } from "../../infra/db/schema.js";

/** The quote columns of a deposit (migration 0014). */
export type QuoteColumns = Pick<
  DepositsTable,
  | "account_currency"
  | "account_decimals"
  | "fx_rate"
  | "fx_markup_bps"
  | "fx_markup_minor"
  | "fx_source_kind"
  | "fx_source_id"
  | "fx_source_name"
  | "fx_rate_time"
  | "fx_quoted_at"
>;

/** An order without a quote: credited in its own currency, as every order before quotes. */
export const NO_QUOTE: QuoteColumns = {
  account_currency: null,
  account_decimals: null,
  fx_rate: null,
  fx_markup_bps: null,
  fx_markup_minor: null,
  fx_source_kind: null,
  fx_source_id: null,
  fx_source_name: null,
  fx_rate_time: null,
  fx_quoted_at: null,
};
