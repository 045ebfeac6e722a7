import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ExponentInUse, exponentIssues, findMixedExponents } from "./currency-exponents.js";

const code = fc.constantFrom("USDT", "BTC", "USD");
const decimals = fc.integer({ min: 0, max: 8 });
const use: fc.Arbitrary<ExponentInUse> = fc.oneof(
  fc.record({ code, decimals, kind: fc.constant("method" as const), name: fc.string({ maxLength: 8 }) }),
  fc.record({ code, decimals, kind: fc.constant("orders" as const), count: fc.integer({ min: 1, max: 9 }) }),
  fc.record({ code, decimals, kind: fc.constant("wallets" as const), count: fc.integer({ min: 1, max: 9 }) }),
);

describe("exponentIssues", () => {
  it("names the currency, every other exponent in use and where, at the input's index", () => {
    const issues = exponentIssues(
      [{ code: "USD" }, { code: "USDT" }],
      [
        { code: "USD", decimals: 2 },
        { code: "USDT", decimals: 6 },
      ],
      [
        { code: "USDT", decimals: 2, kind: "method", name: "Tether" },
        { code: "USDT", decimals: 2, kind: "orders", count: 3 },
        { code: "USDT", decimals: 0, kind: "wallets", count: 1 },
        { code: "USDT", decimals: 6, kind: "method", name: "Same" },
        { code: "BTC", decimals: 2, kind: "orders", count: 1 },
      ],
    );
    expect(issues).toEqual([
      {
        path: "currencies.1.decimals",
        message:
          'USDT already has 0 decimals (1 wallet) and 2 decimals (method "Tether", 3 orders): ' +
          "a currency keeps the same decimals in every method, and while orders or wallets hold it",
      },
    ]);
  });

  it("on an update, keeping a currency's decimals is no change: orders and wallets do not refuse it, other methods do", () => {
    const inUse: ExponentInUse[] = [
      { code: "USDT", decimals: 2, kind: "orders", count: 3 },
      { code: "USDT", decimals: 2, kind: "wallets", count: 1 },
    ];
    const usdt6 = [{ code: "USDT", decimals: 6 }];
    expect(exponentIssues(usdt6, usdt6, inUse, usdt6)).toEqual([]);
    expect(exponentIssues(usdt6, usdt6, inUse, [{ code: "USDT", decimals: 2 }])).toHaveLength(1);
    const withMethod: ExponentInUse[] = [...inUse, { code: "USDT", decimals: 2, kind: "method", name: "A" }];
    expect(exponentIssues(usdt6, usdt6, withMethod, usdt6)).toEqual([
      {
        path: "currencies.0.decimals",
        message: expect.stringMatching(/^USDT already has 2 decimals \(method "A"\):/),
      },
    ]);
  });

  it("refuses a currency exactly when something uses it with other decimals", () => {
    fc.assert(
      fc.property(code, decimals, fc.array(use, { maxLength: 6 }), (c, d, inUse) => {
        const issues = exponentIssues([{ code: c }], [{ code: c, decimals: d }], inUse);
        const disagrees = inUse.some((u) => u.code === c && u.decimals !== d);
        expect(issues.length).toBe(disagrees ? 1 : 0);
        for (const i of issues) expect(i.message.startsWith(`${c} already has`)).toBe(true);
      }),
    );
  });
});

describe("findMixedExponents", () => {
  it("reports what differs from the tenant's exponent, and only that", () => {
    const walletEntry = fc.record({
      walletId: fc.constantFrom("w1", "w2"),
      clientId: fc.constant("c1"),
      currency: code,
      decimals,
      count: fc.integer({ min: 1, max: 5 }),
    });
    const order = fc.record({ currency: code, decimals, count: fc.integer({ min: 1, max: 5 }) });
    const exponents = fc.record({ USDT: decimals, BTC: decimals, USD: fc.constant(2) });
    fc.assert(
      fc.property(
        fc.array(order, { maxLength: 5 }),
        fc.array(walletEntry, { maxLength: 5 }),
        exponents,
        (orders, entries, exp) => {
          // Each wallet holds one currency.
          const walletEntries = entries.map((e) => ({
            ...e,
            currency: e.walletId === "w1" ? "USDT" : "BTC",
          }));
          const of = (c: string) => exp[c as keyof typeof exp];
          const p = findMixedExponents({ methods: [], orders, walletEntries }, of);
          expect(p.orders).toEqual(
            expect.arrayContaining(
              orders
                .filter((o) => o.decimals !== of(o.currency))
                .map((o) => ({ ...o, expected: of(o.currency) })),
            ),
          );
          expect(p.orders.every((o) => o.decimals !== o.expected)).toBe(true);
          const badWallets = new Set(
            walletEntries.filter((e) => e.decimals !== of(e.currency)).map((e) => e.walletId),
          );
          expect(new Set(p.wallets.map((w) => w.walletId))).toEqual(badWallets);
          for (const w of p.wallets) {
            expect(w.decimals).toBe(of(w.currency));
            expect(w.entries.every((e) => e.decimals !== w.decimals)).toBe(true);
          }
        },
      ),
    );
  });

  it("reports live methods that disagree on a currency, by decimals", () => {
    const p = findMixedExponents(
      {
        methods: [
          { name: "A", currencies: [{ code: "USDT", decimals: 6 }] },
          {
            name: "B",
            currencies: [
              { code: "USDT", decimals: 2 },
              { code: "USD", decimals: 2 },
            ],
          },
          {
            name: "C",
            currencies: [
              { code: "USDT", decimals: 6 },
              { code: "USD", decimals: 2 },
            ],
          },
        ],
        orders: [],
        walletEntries: [],
      },
      () => 6,
    );
    expect(p.methods).toEqual([
      {
        currency: "USDT",
        uses: [
          { decimals: 2, methods: ["B"] },
          { decimals: 6, methods: ["A", "C"] },
        ],
      },
    ]);
  });
});
