import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SecretBox } from "../../infra/crypto/secret-box.js";
import type { LockedQuote } from "./quote-model.js";
import { openQuoteToken, signQuote } from "./quote-token.js";

const quote: LockedQuote = {
  tenantId: "t1",
  clientId: "c1",
  methodId: "m1",
  currency: "EUR",
  decimals: 2,
  amountMinor: 10_000n,
  feeMinor: 250n,
  accountCurrency: "USD",
  accountDecimals: 2,
  accountMinor: 10_459n,
  markupMinor: 52n,
  rate: "1.0781",
  markupBps: 50,
  sourceKind: "manual",
  sourceId: "s1",
  sourceName: "House rates",
  rateTime: 1_000,
  quotedAt: 2_000,
  validUntil: 122_000,
};

describe("quote tokens", () => {
  const key = randomBytes(32);
  const box = new SecretBox(key);

  it("open to exactly the quote signed, in another process with the same key", () => {
    const token = signQuote(box, quote);
    expect(openQuoteToken(new SecretBox(Buffer.from(key)), token)).toEqual(quote);
  });

  it("do not open with another key, nor once any character is changed", () => {
    const token = signQuote(box, quote);
    expect(openQuoteToken(new SecretBox(randomBytes(32)), token)).toBeNull();
    fc.assert(
      fc.property(fc.nat({ max: token.length - 1 }), fc.constantFrom("A", "b", "_", "-", "."), (i, c) => {
        fc.pre(token[i] !== c);
        const altered = token.slice(0, i) + c + token.slice(i + 1);
        expect(openQuoteToken(box, altered)).toBeNull();
      }),
    );
  });

  it("refuse a payload re-signed with nothing or swapped from another quote", () => {
    const [payload] = signQuote(box, quote).split(".");
    const other = signQuote(box, { ...quote, amountMinor: 1n });
    expect(openQuoteToken(box, `${payload}.${other.split(".")[1]}`)).toBeNull();
    expect(openQuoteToken(box, `${payload}.`)).toBeNull();
    expect(openQuoteToken(box, "garbage")).toBeNull();
  });

  it("derive one key per purpose from the encryption key", () => {
    expect(box.deriveKey("a").equals(new SecretBox(Buffer.from(key)).deriveKey("a"))).toBe(true);
    expect(box.deriveKey("a").equals(box.deriveKey("b"))).toBe(false);
    expect(box.deriveKey("a")).toHaveLength(32);
  });
});
