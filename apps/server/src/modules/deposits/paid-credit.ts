import { computeFee, type MethodCurrency } from "../deposit-methods/method-model.js";

/** A fee rule as the order keeps it: its method's, for its currency, when it was created. */
export type OrderFeeRule = Pick<MethodCurrency, "feePercentBps" | "feeFixedMinor" | "feeMaxMinor">;

/** What crediting a paid amount needs of an order (minor units). */
export type OrderAmounts = { amountMinor: bigint; feeMinor: bigint; rule: OrderFeeRule };

/** The order's amounts and stored fee rule from its row (deposits.fee_rule_*, migration 0004). */
export function orderAmounts(row: {
  amount_minor: number | bigint;
  fee_minor: number | bigint;
  fee_rule_bps: number;
  fee_rule_fixed_minor: number | bigint;
  fee_rule_max_minor: number | bigint | null;
}): OrderAmounts {
  return {
    amountMinor: BigInt(row.amount_minor),
    feeMinor: BigInt(row.fee_minor),
    rule: {
      feePercentBps: row.fee_rule_bps,
      feeFixedMinor: BigInt(row.fee_rule_fixed_minor),
      feeMaxMinor: row.fee_rule_max_minor === null ? null : BigInt(row.fee_rule_max_minor),
    },
  };
}

/**
 * What a success reporting `paidMinor` as paid credits, and the fee it keeps (pure). The ordered
 * amount keeps the fee and credit the client was quoted. Another amount (policy `credit_paid`,
 * or an admin crediting a held or late payment) pays the fee the order's own rule gives on the
 * amount actually paid: the rule as it was when the order was created, so a later edit of the
 * method's fee never changes it. The credit is floored at 0, and fee + credit = paid.
 */
export function creditForPaid(
  paidMinor: bigint,
  order: OrderAmounts,
): { feeMinor: bigint; creditMinor: bigint } {
  if (paidMinor === order.amountMinor) {
    return { feeMinor: order.feeMinor, creditMinor: order.amountMinor - order.feeMinor };
  }
  const fee = paidMinor > 0n ? computeFee(paidMinor, order.rule) : 0n;
  const creditMinor = paidMinor > fee ? paidMinor - fee : 0n;
  return { feeMinor: paidMinor - creditMinor, creditMinor };
}
