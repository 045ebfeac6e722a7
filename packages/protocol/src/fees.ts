/**
 * A deposit method's fee rule for one currency: a percentage in basis points (2.5 % = 250),
 * a fixed part and an optional cap, both in minor units of the currency.
 */
export interface FeeRule {
  feePercentBps: number | bigint;
  feeFixedMinor: bigint;
  /** null: no cap. */
  feeMaxMinor: bigint | null;
}

/**
 * The fee of a deposit: percentage (rounded half up to the minor unit) plus the fixed part,
 * capped at the maximum. Integer arithmetic only. The server charges it and the web previews
 * it, so both import this one function.
 */
export function computeFee(amountMinor: bigint, rule: FeeRule): bigint {
  const pct = (amountMinor * BigInt(rule.feePercentBps) + 5_000n) / 10_000n;
  const fee = pct + rule.feeFixedMinor;
  return rule.feeMaxMinor !== null && fee > rule.feeMaxMinor ? rule.feeMaxMinor : fee;
}
