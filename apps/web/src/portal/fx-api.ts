import { api } from "./api.js";
import type { DepositQuote, QuoteInput } from "./types.js";

/**
 * `POST /api/portal/deposit-quote` through the portal's one client (CSRF, session expiry and
 * client-language errors as every other call). The route is not in the generated schema
 * (lib/api-schema.d.ts) yet, so its path and shapes are typed here (types.ts); once it is,
 * this becomes a plain `api.POST`.
 */
type LoosePost = (path: string, init: { body: unknown }) => Promise<unknown>;

export function requestDepositQuote(body: QuoteInput): Promise<DepositQuote> {
  return (api.POST as unknown as LoosePost)("/api/portal/deposit-quote", { body }) as Promise<DepositQuote>;
}
