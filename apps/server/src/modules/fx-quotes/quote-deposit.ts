import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { ConflictError, NotFoundError } from "../../common/errors.js";
import { plainDecimal } from "../../common/plain-decimal.js";
import { parseInput } from "../../common/validation.js";
import { validateAmountRequest } from "../deposits/deposit-validation.js";
import type { RateLookup } from "../fx-rates/rate-lookup.js";
import { fxRateUnavailable, quoteExpired, quoteMismatch } from "./quote-errors.js";
import {
  buildQuote,
  type LockedQuote,
  type QuoteRequest,
  type QuoteView,
  quoteView,
  rateRequestOf,
  sameCurrencyQuoteView,
} from "./quote-model.js";
import { openQuoteToken, signQuote } from "./quote-token.js";

/** What quoting needs; `fxRates` is explicit so that tests give a lookup of their own. */
export type QuoteDeps = Pick<AppContext, "clock" | "config" | "secretBox"> & { fxRates: RateLookup };

/**
 * The quote an order locks (docs/exchange-rates.md#the-quote): null for a currency that credits
 * itself. With a token, exactly the quote it carries, once checked: signed here (else
 * `quote_mismatch`), for this tenant, client, method, currency, amount and the method's account
 * side now (else `quote_mismatch`), still valid (else `quote_expired`). Without one, a fresh
 * quote at the rate the lookup gives now; a refused rate answers 503 `fx_rate_unavailable`.
 */
export async function lockQuote(
  deps: QuoteDeps,
  req: QuoteRequest,
  token: string | null | undefined,
): Promise<LockedQuote | null> {
  const conversion = req.currency.conversion;
  if (!conversion) {
    if (token) throw quoteMismatch();
    return null;
  }
  const now = deps.clock.now();
  if (token) {
    const q = openQuoteToken(deps.secretBox, token);
    if (
      q === null ||
      q.tenantId !== req.tenantId ||
      q.clientId !== req.clientId ||
      q.methodId !== req.methodId ||
      q.currency !== req.currency.code ||
      q.decimals !== req.currency.decimals ||
      q.amountMinor !== req.amountMinor ||
      q.accountCurrency !== conversion.account ||
      q.accountDecimals !== conversion.accountDecimals
    )
      throw quoteMismatch();
    if (now > q.validUntil) throw quoteExpired();
    return q;
  }
  const plan = rateRequestOf(req);
  if (!plan) throw fxRateUnavailable(req.currency.code, conversion.account);
  const answer = await deps.fxRates.rateFor(plan.request, now);
  const quote = answer.ok ? buildQuote(req, answer, now, deps.config.fxQuoteValidityMs) : null;
  if (!quote) throw fxRateUnavailable(req.currency.code, conversion.account);
  return quote;
}

export const quoteInput = z.object({
  methodId: z.string().min(1).max(64),
  currency: z.string().min(1).max(12),
  amount: plainDecimal,
});
export type QuoteInput = z.input<typeof quoteInput>;

/**
 * A deposit's quote before it is made (the portal's preview, the admin's): both sides, the rate
 * and its validity, and a token the order may lock it with. Same method and amount rules as
 * creating the deposit (deposit-validation.ts).
 */
export async function quoteDeposit(
  deps: QuoteDeps & Pick<AppContext, "depositWriter">,
  actor: { tenantId: string; clientId: string },
  input: QuoteInput,
): Promise<QuoteView> {
  const data = parseInput(quoteInput, input);
  const found = await deps.depositWriter.findContext({
    tenantId: actor.tenantId,
    clientId: actor.clientId,
    methodId: data.methodId,
  });
  if (!found) throw new NotFoundError("Client");
  if (found.client.disabled === 1) throw new ConflictError("The client is disabled", "client_disabled");
  const v = validateAmountRequest(found.methodWithIntegration, found.client.client_group, data);
  const req: QuoteRequest = {
    tenantId: actor.tenantId,
    clientId: actor.clientId,
    methodId: data.methodId,
    clientGroup: found.client.client_group,
    currency: v.currency,
    amountMinor: v.amountMinor,
    feeMinor: v.feeMinor,
  };
  const q = await lockQuote(deps, req, null);
  if (!q) return sameCurrencyQuoteView(v.currency, v.amountMinor, v.feeMinor, deps.clock.now());
  return quoteView(q, signQuote(deps.secretBox, q));
}
