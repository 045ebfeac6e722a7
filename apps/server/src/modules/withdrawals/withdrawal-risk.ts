/**
 * The risk flags a withdrawal shows its approvers (pure, docs/withdrawals.md#risk-flags), from
 * the client's history in the withdrawal's currency. They inform a person; they decide nothing.
 */

export type RiskFlag = "soon_after_deposit" | "new_destination" | "more_than_deposited";

export type RiskFacts = {
  amountMinor: bigint;
  requestedAt: number;
  /** Where the money goes (an IBAN, a wallet address), as the client typed it; null if the method has none. */
  destination: string | null;
  /** The client's credited deposits in this currency: when, and what reached the wallet. */
  deposits: ReadonlyArray<{ at: number; creditMinor: bigint }>;
  /** The client's earlier paid withdrawals: where they went. */
  paidDestinations: ReadonlyArray<string | null>;
};

/** A deposit this recent makes a withdrawal "soon after a deposit". */
export const SOON_AFTER_DEPOSIT_MS = 24 * 3_600_000;

/** Destinations compare without spaces, dashes or case: `de89 3704…` is `DE893704…`. */
export const sameDestination = (a: string, b: string): boolean => normal(a) === normal(b);
const normal = (s: string) => s.replace(/[\s-]/g, "").toUpperCase();

export function riskFlags(f: RiskFacts): RiskFlag[] {
  const flags: RiskFlag[] = [];
  if (f.deposits.some((d) => d.at <= f.requestedAt && f.requestedAt - d.at < SOON_AFTER_DEPOSIT_MS))
    flags.push("soon_after_deposit");
  const to = f.destination;
  if (
    to !== null &&
    to.trim() !== "" &&
    !f.paidDestinations.some((p) => p !== null && sameDestination(p, to))
  )
    flags.push("new_destination");
  const deposited = f.deposits.reduce((sum, d) => sum + d.creditMinor, 0n);
  if (f.amountMinor > deposited) flags.push("more_than_deposited");
  return flags;
}
