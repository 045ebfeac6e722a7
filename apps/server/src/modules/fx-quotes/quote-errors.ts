import { ConflictError, ServiceBusyError } from "../../common/errors.js";

export const FX_RATE_UNAVAILABLE = "fx_rate_unavailable";

/** 503: the rate a deposit needs cannot be used now (stale, missing, source down): nothing was created. */
export const fxRateUnavailable = (from: string, to: string) =>
  new ServiceBusyError(
    FX_RATE_UNAVAILABLE,
    `The ${from} → ${to} exchange rate is not available right now. Try again in a few minutes.`,
    60,
  );

/** 409: the quote token's validity ended; ask for a new quote. */
export const quoteExpired = () =>
  new ConflictError("This quote has expired: ask for a new one", "quote_expired");

/** 409: the token is not this tenant's, client's, method's, currency's or amount's quote, or was altered. */
export const quoteMismatch = () =>
  new ConflictError("This quote does not match the deposit request", "quote_mismatch");
