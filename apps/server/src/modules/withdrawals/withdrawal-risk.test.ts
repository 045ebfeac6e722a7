import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { riskFlags, SOON_AFTER_DEPOSIT_MS, sameDestination } from "./withdrawal-risk.js";

// The risk flags beside a withdrawal in the approval queue (docs/withdrawals.md#risk-flags).
const NOW = Date.UTC(2026, 11, 5, 12);
const base = {
  amountMinor: 10_000n,
  requestedAt: NOW,
  destination: "DE89 3704 0044 0532 0130 00",
  deposits: [{ at: NOW - 3 * SOON_AFTER_DEPOSIT_MS, creditMinor: 50_000n }],
  paidDestinations: ["de89370400440532013000"],
};

describe("riskFlags", () => {
  it("raises nothing for a known destination, an old deposit and less than deposited", () => {
    expect(riskFlags(base)).toEqual([]);
  });

  it("flags a withdrawal within a day of a deposit", () => {
    expect(
      riskFlags({ ...base, deposits: [...base.deposits, { at: NOW - 3_600_000, creditMinor: 1n }] }),
    ).toEqual(["soon_after_deposit"]);
    expect(
      riskFlags({ ...base, deposits: [{ at: NOW - SOON_AFTER_DEPOSIT_MS, creditMinor: 50_000n }] }),
    ).toEqual([]);
  });

  it("flags a destination never paid to before, but not the same one written differently", () => {
    expect(riskFlags({ ...base, destination: "GB29 NWBK 6016 1331 9268 19" })).toEqual(["new_destination"]);
    expect(riskFlags({ ...base, paidDestinations: [] })).toEqual(["new_destination"]);
    expect(riskFlags({ ...base, destination: null, paidDestinations: [] })).toEqual([]);
    expect(sameDestination("de89-3704 0044", "DE8937040044")).toBe(true);
  });

  it("flags more than the client ever deposited in the currency", () => {
    expect(riskFlags({ ...base, amountMinor: 50_001n })).toEqual(["more_than_deposited"]);
    expect(riskFlags({ ...base, amountMinor: 50_000n })).toEqual([]);
    expect(riskFlags({ ...base, deposits: [] })).toEqual(["more_than_deposited"]);
  });

  it("flags more_than_deposited exactly when the amount exceeds the sum of the credits", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        fc.array(fc.bigInt({ min: 0n, max: 10n ** 10n }), { maxLength: 20 }),
        (amount, credits) => {
          const flags = riskFlags({
            ...base,
            amountMinor: amount,
            deposits: credits.map((c) => ({ at: NOW - 5 * SOON_AFTER_DEPOSIT_MS, creditMinor: c })),
          });
          expect(flags.includes("more_than_deposited")).toBe(amount > credits.reduce((s, c) => s + c, 0n));
        },
      ),
    );
  });
});
