import { createHmac, timingSafeEqual } from "node:crypto";
import type { SecretBox } from "../../infra/crypto/secret-box.js";
import type { LockedQuote } from "./quote-model.js";

/**
 * A quote token: the quote, signed, so that the order can lock exactly what the client was shown
 * without storing every quote (docs/exchange-rates.md#the-token). base64url(payload) "."
 * base64url(HMAC-SHA256(payload)), the key derived from the encryption key (SecretBox.deriveKey),
 * so every process of a deployment signs and verifies alike. The payload is the quote as JSON in
 * one fixed field order (its canonical form).
 */

const PURPOSE = "fx-quote-token";

type Payload = {
  v: 1;
  tenant: string;
  client: string;
  method: string;
  currency: string;
  decimals: number;
  amountMinor: string;
  feeMinor: string;
  accountCurrency: string;
  accountDecimals: number;
  accountMinor: string;
  markupMinor: string;
  rate: string;
  markupBps: number;
  sourceKind: string;
  sourceId: string;
  sourceName: string;
  rateTime: number;
  quotedAt: number;
  validUntil: number;
};

const canonical = (q: LockedQuote): Payload => ({
  v: 1,
  tenant: q.tenantId,
  client: q.clientId,
  method: q.methodId,
  currency: q.currency,
  decimals: q.decimals,
  amountMinor: q.amountMinor.toString(),
  feeMinor: q.feeMinor.toString(),
  accountCurrency: q.accountCurrency,
  accountDecimals: q.accountDecimals,
  accountMinor: q.accountMinor.toString(),
  markupMinor: q.markupMinor.toString(),
  rate: q.rate,
  markupBps: q.markupBps,
  sourceKind: q.sourceKind,
  sourceId: q.sourceId,
  sourceName: q.sourceName,
  rateTime: q.rateTime,
  quotedAt: q.quotedAt,
  validUntil: q.validUntil,
});

const mac = (key: Buffer, payload: string) => createHmac("sha256", key).update(payload).digest();

export function signQuote(box: SecretBox, q: LockedQuote): string {
  const payload = Buffer.from(JSON.stringify(canonical(q))).toString("base64url");
  return `${payload}.${mac(box.deriveKey(PURPOSE), payload).toString("base64url")}`;
}

/** The quote a token carries, or null when it was not signed here or was altered. */
export function openQuoteToken(box: SecretBox, token: string): LockedQuote | null {
  const parts = token.split(".");
  if (parts.length !== 2) return null;
  const [payload = "", sig = ""] = parts;
  const given = Buffer.from(sig, "base64url");
  // Only the canonical text: a changed last character whose bits decoding drops is still altered.
  if (given.toString("base64url") !== sig) return null;
  const expected = mac(box.deriveKey(PURPOSE), payload);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  let p: Payload;
  try {
    p = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Payload;
  } catch {
    return null;
  }
  if (p.v !== 1) return null;
  return {
    tenantId: p.tenant,
    clientId: p.client,
    methodId: p.method,
    currency: p.currency,
    decimals: p.decimals,
    amountMinor: BigInt(p.amountMinor),
    feeMinor: BigInt(p.feeMinor),
    accountCurrency: p.accountCurrency,
    accountDecimals: p.accountDecimals,
    accountMinor: BigInt(p.accountMinor),
    markupMinor: BigInt(p.markupMinor),
    rate: p.rate,
    markupBps: p.markupBps,
    sourceKind: p.sourceKind as LockedQuote["sourceKind"],
    sourceId: p.sourceId,
    sourceName: p.sourceName,
    rateTime: p.rateTime,
    quotedAt: p.quotedAt,
    validUntil: p.validUntil,
  };
}
