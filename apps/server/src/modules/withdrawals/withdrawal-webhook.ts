import { formatAmount } from "@psphub/protocol";
import type { NewWebhookEvent } from "../webhooks/outbox-repo.js";
import type { WithdrawalRow } from "./withdrawal-repo.js";

/**
 * A withdrawal event (pure, docs/webhooks.md#withdrawal-events): the request's figures as
 * decimal text, its status, and the approval progress. Written by the transaction of the change
 * it reports, like every outbox event.
 */
export function withdrawalWebhook(
  type:
    | "withdrawal.requested"
    | "withdrawal.approved"
    | "withdrawal.rejected"
    | "withdrawal.cancelled"
    | "withdrawal.paid"
    | "withdrawal.failed",
  w: WithdrawalRow,
  now: number,
  extra: { level?: number; reference?: string } = {},
): NewWebhookEvent {
  const money = (minor: number) => formatAmount(BigInt(minor), w.decimals);
  return {
    tenantId: w.tenant_id,
    type,
    data: {
      withdrawalId: w.id,
      payoutNo: w.payout_no,
      clientId: w.client_id,
      methodId: w.method_id,
      status: w.status,
      amount: money(w.amount_minor),
      fee: money(w.fee_minor),
      payoutAmount: money(w.payout_minor),
      currency: w.currency,
      level: extra.level ?? null,
      levelsRequired: w.levels_required,
      clientReason: w.client_reason,
      reference: extra.reference ?? null,
    },
    now,
  };
}
