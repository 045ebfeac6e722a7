import { formatAmount, tryParseAmount } from "@psphub/protocol";

/**
 * The net of a locked quote (payment amount − fee, in the payment currency), from its decimal
 * texts: both carry the payment currency's decimals, the exponent is read from them, and the
 * subtraction runs on minor units. null when either is not an amount.
 */
export function quoteNet(q: { paymentAmount: string; fee: string }): string | null {
  const places = (s: string) => s.split(".")[1]?.length ?? 0;
  const exponent = Math.max(places(q.paymentAmount), places(q.fee));
  if (exponent > 8) return null;
  const amount = tryParseAmount(q.paymentAmount, exponent);
  const fee = tryParseAmount(q.fee, exponent);
  if (!amount.ok || !fee.ok) return null;
  return formatAmount(amount.minor - fee.minor, exponent);
}
