import { type Conversion, convertNet } from "@psphub/protocol";
import { computeFee, type MethodCurrency } from "../deposit-methods/method-model.js";
import { conversionOf } from "../fx-quotes/quote-model.js";

/** A fee rule as the order keeps it: its method's, for its currency, when it was created. */
export type OrderFeeRule = Pick<MethodCurrency, "feePercentBps" | "feeFixedMinor" | "feeMaxMinor">;

/**
 * What crediting a paid amount needs of an order (minor units of the payment currency), and the
 * conversion its quote locked (null: credited in the payment currency).
 */
export type OrderAmounts = {
  amountMinor: bigint;
  feeMinor: bigint;
  rule: OrderFeeRule;
  conversion: Conversion | null;
};

/** The order's amounts and stored fee rule from its row (deposits.fee_rule_*, migration 0004). */
export function orderAmounts(row: {
  amount_minor: number | bigint;
  fee_minor: number | bigint;
  fee_rule_bps: number;
  fee_rule_fixed_minor: number | bigint;
  fee_rule_max_minor: number | bigint | null;
  decimals: number;
  account_decimals: number | null;
  fx_rate: string | null;
  fx_markup_bps: number | null;
}): OrderAmounts {
  return {
    amountMinor: BigInt(row.amount_minor),
    feeMinor: BigInt(row.fee_minor),
    rule: {
      feePercentBps: row.fee_rule_bps,
      feeFixedMinor: BigInt(row.fee_rule_fixed_minor),
      feeMaxMinor: row.fee_rule_max_minor === null ? null : BigInt(row.fee_rule_max_minor),
    },
    conversion: conversionOf(row),
  };
}

/**
 * What a success reporting `paidMinor` as paid credits, and the fee it keeps (pure). The ordered
 * amount keeps the fee and credit the client was quoted. Another amount (policy `credit_paid`,
 * or an admin crediting a held or late payment) pays the fee the order's own rule gives on the
 * amount actually paid: the rule as it was when the order was created, so a later edit of the
 * method's fee never changes it. The net is floored at 0, and fee + net = paid.
 *
 * With a quote the net converts at the LOCKED rate and markup (convertNet): `creditMinor` is in
 * the account currency, `markupMinor` what the markup kept of it; the ordered amount gives the
 * quote's account amount exactly (the quote did the same two steps). Without one, the credit is
 * the net and the markup 0.
 */
export function creditForPaid(
  paidMinor: bigint,
  order: OrderAmounts,
): { feeMinor: bigint; creditMinor: bigint; markupMinor: bigint } {
  let feeMinor: bigint;
  let netMinor: bigint;
  if (paidMinor === order.amountMinor) {
    feeMinor = order.feeMinor;
    netMinor = order.amountMinor - order.feeMinor;
  } else {
    const fee = paidMinor > 0n ? computeFee(paidMinor, order.rule) : 0n;
    netMinor = paidMinor > fee ? paidMinor - fee : 0n;
    feeMinor = paidMinor - netMinor;
  }
  const converted = convertNet(netMinor, order.conversion);
  return { feeMinor, creditMinor: converted.accountMinor, markupMinor: converted.markupMinor };
}
