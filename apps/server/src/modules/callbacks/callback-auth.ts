import { type VerifyResult, verifyDetailed } from "@psphub/protocol";
import type { AppContext } from "../../app-context.js";
import { safeEqual } from "../../infra/crypto/hashing.js";
import { type CallbackIntegration, callbackTokens } from "../psp-integrations/integration-repo.js";
import type { ReadBody } from "./callback-body.js";
import { integrationNotFound, type Refusal, signRefused, tokenRefused } from "./callback-detail.js";

/**
 * Checks 2–4 of every signed body the tenant backend sends (docs/psp-open-api.md#api-2-checks),
 * API-2 and API-5 alike: the enabled integration of `merchant_id`, a header token it accepts now,
 * and the sign over the raw body with that token. They read nothing but the cached integration.
 */

type Deps = Pick<AppContext, "callbackIntegrations" | "logger">;

export type IntegrationMatch =
  | { ok: true; integ: CallbackIntegration; token: string }
  | {
      ok: false;
      type: "psp_setting_not_found" | "psp_token_invalid";
      why: Refusal;
      integ?: CallbackIntegration;
    };

/** Checks 2 and 3. Every candidate token is compared in constant time; none short-circuits another. */
export async function matchIntegration(
  deps: Deps,
  merchantId: string,
  header: string | string[] | undefined,
  now: number,
): Promise<IntegrationMatch> {
  const integ = await deps.callbackIntegrations.find(merchantId, now);
  if (!integ?.enabled) return { ok: false, type: "psp_setting_not_found", why: integrationNotFound() };
  let token: string | undefined;
  for (const candidate of callbackTokens(integ, now)) {
    if (typeof header === "string" && safeEqual(header, candidate)) token ??= candidate;
  }
  if (token === undefined) return { ok: false, type: "psp_token_invalid", why: tokenRefused(header), integ };
  return { ok: true, integ, token };
}

/**
 * Check 4: the sign over the raw body (its parameters as parsed from the raw text, numbers with
 * their literal text) with the token that matched. A failure logs the canonical string, which
 * holds the signed values but never the token (docs/failure-modes.md#failure-mode-10).
 */
export function checkSign(
  deps: Deps,
  read: ReadBody,
  token: string,
  what: { api: "API-2" | "API-5"; merchantId: string; number: string },
): Refusal | null {
  const v = verifyDetailed(read.params, token, read.callback.sign, { literals: read.literals });
  if (v.valid) return null;
  deps.logger.info(
    { merchantId: what.merchantId, number: what.number, reason: v.reason, stringA: v.stringA },
    `${what.api} callback signature does not verify`,
  );
  return signRefused(v);
}

/**
 * The sign of a body that came with no header token (an API-3 or payout status answer): verified
 * with every token the integration accepts now, each tried in full, none short-circuiting
 * another. Returns the current token's result to explain a failure.
 */
export function verifyWithAnyToken(
  read: ReadBody,
  integ: CallbackIntegration,
  now: number,
): { valid: boolean; first: VerifyResult } {
  const verifyWith = (token: string) =>
    verifyDetailed(read.params, token, read.callback.sign, { literals: read.literals });
  // callbackTokens lists the current token first, then the previous one in its grace period.
  const [current, ...others] = callbackTokens(integ, now);
  const first = verifyWith(current ?? integ.token);
  let valid = first.valid;
  for (const token of others) valid = verifyWith(token).valid || valid;
  return { valid, first };
}
