import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { configureLocales, setLocale } from "../i18n/index.js";
import {
  conflict,
  countdownText,
  type FxPreviewState,
  initialFxPreview,
  isExpired,
  isQuoteConflict,
  lockedQuoteLine,
  type QuoteRequest,
  quoteInputOf,
  quoteKey,
  quoteSummary,
  rateUnavailable,
  receive,
  refuse,
  setInput,
  shouldRequote,
  startRequest,
  submitDecision,
} from "./fx-preview-model.js";
import type { DepositQuote, PortalCurrency, QuoteInput } from "./types.js";

const EUR_TO_USD: PortalCurrency = {
  code: "EUR",
  decimals: 2,
  min: "10.00",
  max: "5000.00",
  feePercent: "2.5",
  feeFixed: "0",
  feeMax: null,
  accountCurrency: "USD",
};
const SAME: PortalCurrency = { ...EUR_TO_USD, accountCurrency: null };

const input = (amount: string): QuoteInput => ({ methodId: "m1", currency: "EUR", amount });

/** A quote as the server answers it: held `holdMs` from `quotedAt` (server clock). */
function quoteOf(
  amount: string,
  opts: { quotedAt?: number; holdMs?: number | null; token?: string } = {},
): DepositQuote {
  const quotedAt = opts.quotedAt ?? 1_700_000_000_000;
  const hold = opts.holdMs === undefined ? 120_000 : opts.holdMs;
  return {
    payment: { amount, currency: "EUR", fee: "2.50", net: "97.50" },
    account: { amount: "105.11", currency: "USD" },
    fx: {
      rate: "1.0781",
      sourceRate: "1.0835",
      markupBps: 50,
      markupAmount: "0.53",
      sourceKind: "manual",
      sourceName: "Desk",
      rateTime: quotedAt - 60_000,
    },
    quotedAt,
    validUntil: hold === null ? null : quotedAt + hold,
    token: opts.token ?? `tok-${amount}`,
  };
}

/** Input then a request of it, at `now`. */
function ask(
  s: FxPreviewState,
  amount: string,
  now: number,
): { state: FxPreviewState; request: QuoteRequest } {
  const started = startRequest(setInput(s, input(amount)), now);
  if (!started) throw new Error("no request");
  return started;
}

afterEach(() => setLocale("en"));

describe("which quote to ask for", () => {
  it("asks only for a converting currency and an amount the form accepts, in the currency's decimals", () => {
    expect(quoteInputOf("m1", EUR_TO_USD, "100")).toEqual(input("100.00"));
    expect(quoteInputOf("m1", EUR_TO_USD, "1,000.5", "en")).toEqual(input("1000.50"));
    expect(quoteInputOf("m1", SAME, "100")).toBeNull();
    expect(quoteInputOf("m1", { ...EUR_TO_USD, accountCurrency: "EUR" }, "100")).toBeNull();
    expect(quoteInputOf("m1", undefined, "100")).toBeNull();
    for (const bad of ["", "abc", "5", "6000", "100.001", "-100"]) {
      expect(quoteInputOf("m1", EUR_TO_USD, bad), bad).toBeNull();
    }
  });

  it("writes one amount one way, however the client typed it", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1000, max: 500_000 }), (cents) => {
        const whole = String(Math.floor(cents / 100));
        const plain = `${whole}.${String(cents % 100).padStart(2, "0")}`;
        const spellings = [plain, `${plain}0`, plain.replace(/0$/, "")];
        if (cents % 100 === 0) spellings.push(whole, `${whole}.`);
        for (const typed of spellings)
          expect(quoteInputOf("m1", EUR_TO_USD, typed, "en")?.amount, typed).toBe(plain);
      }),
    );
  });
});

describe("which answer is current", () => {
  it("drops an answer of an older amount and keeps the newest amount's quote", () => {
    const a = ask(initialFxPreview, "100.00", 0);
    const b = ask(a.state, "200.00", 10);
    let s = receive(b.state, b.request, quoteOf("200.00"));
    s = receive(s, a.request, quoteOf("100.00")); // late answer of the earlier amount
    expect(s.shown?.quote.payment.amount).toBe("200.00");
    expect(s.inFlight).toBeNull();
  });

  it("any order of answers leaves the newest amount's newest quote shown, and never another amount's", () => {
    const amounts = fc.constantFrom("10.00", "20.00", "30.00", "40.00");
    fc.assert(
      fc.property(
        fc.array(fc.tuple(amounts, fc.boolean()), { minLength: 1, maxLength: 12 }),
        fc.func(fc.integer()),
        (steps, order) => {
          // Each step: the client types an amount (and perhaps it is asked twice, as a re-quote does).
          let s = initialFxPreview;
          const sent: QuoteRequest[] = [];
          let now = 0;
          for (const [amount, twice] of steps) {
            for (let i = 0; i < (twice ? 2 : 1); i++) {
              now += 100;
              const r = ask(s, amount, now);
              s = r.state;
              sent.push(r.request);
            }
          }
          const arrival = [...sent].sort((x, y) => order(x.seq) - order(y.seq) || x.seq - y.seq);
          for (const r of arrival) {
            s = receive(s, r, quoteOf(r.body.amount, { token: `t${r.seq}` }));
            // At no moment is another amount's quote on screen.
            if (s.shown) expect(s.shown.key).toBe(s.wantedKey);
          }
          const last = sent[sent.length - 1] as QuoteRequest;
          expect(s.shown?.key).toBe(last.key);
          expect(s.shown?.seq).toBe(last.seq);
          expect(s.shown?.quote.token).toBe(`t${last.seq}`);
        },
      ),
    );
  });

  it("clears the quote when the input changes, and keeps it when the same input comes back unchanged", () => {
    const a = ask(initialFxPreview, "100.00", 0);
    const s = receive(a.state, a.request, quoteOf("100.00"));
    expect(setInput(s, input("100.00"))).toBe(s);
    expect(setInput(s, input("150.00")).shown).toBeNull();
    expect(setInput(s, null).shown).toBeNull();
  });

  it("a failure counts only for the newest request of the current input", () => {
    const a = ask(initialFxPreview, "100.00", 0);
    const b = ask(a.state, "100.00", 10);
    const unavailable = { status: 503, code: "fx_rate_unavailable" };
    expect(refuse(b.state, a.request, unavailable, "USD")).toBe(b.state);
    const s = refuse(b.state, b.request, unavailable, "USD");
    expect(s.problem).toEqual({ kind: "unavailable", from: "EUR", to: "USD" });
    expect(s.shown).toBeNull();
    expect(refuse(b.state, b.request, { status: 422, code: "validation_failed" }, "USD").problem).toEqual({
      kind: "invalid",
    });
    expect(refuse(b.state, b.request, { status: 0, code: "network" }, "USD").problem).toEqual({
      kind: "failed",
    });
  });
});

describe("the hold and its countdown", () => {
  it("counts from when the request left, by the hold the server granted, whatever the client's clock says", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10 ** 12 }),
        fc.integer({ min: -(10 ** 9), max: 10 ** 9 }),
        fc.integer({ min: 1000, max: 3_600_000 }),
        (sentAt, skew, holdMs) => {
          const a = ask(initialFxPreview, "100.00", sentAt);
          const s = receive(a.state, a.request, quoteOf("100.00", { quotedAt: sentAt + skew, holdMs }));
          expect(s.shown?.expiresAt).toBe(sentAt + holdMs);
          expect(isExpired(s, sentAt + holdMs - 1)).toBe(false);
          expect(isExpired(s, sentAt + holdMs)).toBe(true);
        },
      ),
    );
  });

  it("writes what is left as m:ss (h:mm:ss past an hour), rounded up, 0:00 once over", () => {
    expect(countdownText(105_000, 0)).toBe("1:45");
    expect(countdownText(104_001, 0)).toBe("1:45");
    expect(countdownText(5_000, 0)).toBe("0:05");
    expect(countdownText(3_723_000, 0)).toBe("1:02:03");
    expect(countdownText(1000, 5000)).toBe("0:00");
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10 ** 8 }),
        fc.integer({ min: 0, max: 10 ** 8 }),
        (left, later) => {
          const text = countdownText(left, 0);
          expect(text).toMatch(/^(\d+:[0-5]\d|\d+:[0-5]\d:[0-5]\d)$/);
          const secs = (x: string) => x.split(":").reduce((acc, p) => acc * 60 + Number(p), 0);
          expect(secs(text)).toBe(Math.ceil(left / 1000));
          expect(secs(countdownText(left, later))).toBeLessThanOrEqual(secs(text));
        },
      ),
    );
  });

  it("quotes again by itself once the hold ends, once, and not for a quote held without a limit", () => {
    const a = ask(initialFxPreview, "100.00", 0);
    const s = receive(a.state, a.request, quoteOf("100.00", { holdMs: 60_000 }));
    expect(shouldRequote(s, 59_999)).toBe(false);
    expect(shouldRequote(s, 60_000)).toBe(true);
    const again = startRequest(s, 60_000);
    expect(again && shouldRequote(again.state, 61_000)).toBe(false); // already on its way
    const renewed = again ? receive(again.state, again.request, quoteOf("100.00", { token: "new" })) : s;
    expect(renewed.shown?.quote.token).toBe("new");
    expect(shouldRequote(renewed, 61_000)).toBe(false);

    const b = ask(initialFxPreview, "100.00", 0);
    const open = receive(b.state, b.request, quoteOf("100.00", { holdMs: null }));
    expect(open.shown?.expiresAt).toBeNull();
    expect(shouldRequote(open, 10 ** 12)).toBe(false);
  });

  it("does not quote again by itself while the rate is unavailable", () => {
    const a = ask(initialFxPreview, "100.00", 0);
    const s = receive(a.state, a.request, quoteOf("100.00", { holdMs: 1000 }));
    const b = startRequest(s, 2000);
    const failed = b ? refuse(b.state, b.request, { status: 0, code: "network" }, "USD") : s;
    expect(failed.problem).toEqual({ kind: "failed" });
    expect(shouldRequote(failed, 3000)).toBe(false);
  });
});

describe("confirming", () => {
  it("creates a same-currency deposit as today, and a converting one only with the quote on screen", () => {
    const a = ask(initialFxPreview, "100.00", 0);
    expect(submitDecision(a.state, null, false, 0)).toEqual({ kind: "plain" });
    expect(submitDecision(a.state, input("100.00"), true, 0)).toEqual({ kind: "wait" }); // still loading
    const s = receive(a.state, a.request, quoteOf("100.00", { holdMs: 60_000, token: "tok" }));
    expect(submitDecision(s, input("100.00"), true, 1000)).toEqual({ kind: "send", token: "tok" });
    expect(submitDecision(s, input("100.00"), true, 60_000)).toEqual({ kind: "wait" }); // ran out
    expect(submitDecision(s, input("150.00"), true, 1000)).toEqual({ kind: "wait" }); // another amount
    expect(submitDecision(s, null, true, 1000)).toEqual({ kind: "wait" });
  });

  it("a 409 drops the quote and asks for the new figures to be confirmed, never sends the old token again", () => {
    expect(isQuoteConflict("quote_expired")).toBe(true);
    expect(isQuoteConflict("quote_mismatch")).toBe(true);
    expect(isQuoteConflict("validation_failed")).toBe(false);
    const a = ask(initialFxPreview, "100.00", 0);
    const held = receive(a.state, a.request, quoteOf("100.00", { token: "old" }));
    const requote = startRequest(held, 500); // a re-quote on its way when the 409 came
    const back = conflict(requote ? requote.state : held);
    expect(back.reconfirm).toBe(true);
    if (requote) expect(receive(back, requote.request, quoteOf("100.00", { token: "mid" })).shown).toBeNull();
    expect(back.shown).toBeNull();
    expect(submitDecision(back, input("100.00"), true, 1000)).toEqual({ kind: "wait" });
    const again = startRequest(back, 1000);
    const renewed = again ? receive(again.state, again.request, quoteOf("100.00", { token: "new" })) : back;
    expect(renewed.reconfirm).toBe(true); // the client still has to press "Confirm the new figures"
    expect(submitDecision(renewed, input("100.00"), true, 2000)).toEqual({ kind: "send", token: "new" });
    // A late answer of the refused quote's request cannot bring it back.
    expect(receive(renewed, a.request, quoteOf("100.00", { token: "old" })).shown?.quote.token).toBe("new");
  });

  it("a 503 on creation keeps the form and says which rate is missing", () => {
    const a = ask(initialFxPreview, "100.00", 0);
    const s = rateUnavailable(receive(a.state, a.request, quoteOf("100.00")), "EUR", "USD");
    expect(s.problem).toEqual({ kind: "unavailable", from: "EUR", to: "USD" });
    expect(s.wanted).toEqual(input("100.00"));
    expect(submitDecision(s, input("100.00"), true, 0)).toEqual({ kind: "wait" });
  });
});

describe("the words", () => {
  it("shows both sides and the rate", () => {
    expect(quoteSummary(quoteOf("100.00"))).toBe(
      "You pay 100.00 EUR · fee 2.50 EUR · you receive 105.11 USD at 1.0781",
    );
    const view = {
      paymentAmount: "100.00",
      paymentCurrency: "EUR",
      fee: "2.50",
      accountAmount: "105.11",
      accountCurrency: "USD",
      rate: "1.0781",
      sourceRate: "1.0835",
      markupBps: 50,
      markupAmount: "0.53",
      sourceKind: "manual" as const,
      sourceName: "Desk",
      rateTime: 0,
      quotedAt: 0,
    };
    expect(lockedQuoteLine(view, "105.11", "USD", "credited")).toBe(
      "Paid 100.00 EUR → credited 105.11 USD at 1.0781",
    );
    expect(lockedQuoteLine(view, "0.00", "USD", "open")).toBe(
      "You pay 100.00 EUR → you receive 105.11 USD at 1.0781",
    );
  });

  it("keeps amounts, codes and the rate left-to-right inside Arabic text", () => {
    configureLocales(["en", "ar"]);
    setLocale("ar");
    const text = quoteSummary(quoteOf("100.00"));
    expect(text).toContain("\u2066100.00 EUR\u2069");
    expect(text).toContain("\u2066105.11 USD\u2069");
    expect(text).toContain("\u20661.0781\u2069");
    expect(text).toMatch(/\p{Script=Arabic}/u);
  });

  it("keys requests by method, currency and amount", () => {
    expect(quoteKey(input("1.00"))).not.toBe(quoteKey({ ...input("1.00"), methodId: "m2" }));
    expect(quoteKey(input("1.00"))).not.toBe(quoteKey({ ...input("1.00"), currency: "GBP" }));
  });
});
