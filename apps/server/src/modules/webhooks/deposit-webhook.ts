import { formatAmount } from "@psphub/protocol";
import type { DepositStatus } from "../../infra/db/schema.js";
import type { SettlementOrder } from "../settlement/settlement-planner.js";
import type { NewWebhookEvent } from "./outbox-repo.js";
import type { WebhookEventType } from "./webhook-event-types.js";

/** What a deposit event says of its order (a settlement's read of it, or a new order). */
export type DepositFacts = Pick<
  SettlementOrder,
  | "id"
  | "order_no"
  | "tenant_id"
  | "client_id"
  | "integration_id"
  | "status"
  | "currency"
  | "decimals"
  | "amount_minor"
  | "fee_minor"
  | "credit_minor"
  | "paid_amount_minor"
  | "account_currency"
  | "account_decimals"
  | "fx_rate"
  | "fx_markup_bps"
  | "transaction_id"
  | "failure_reason"
>;

export type DepositChange = {
  type: Exclude<WebhookEventType, "alert.opened" | "alert.resolved" | "endpoint.disabled" | "webhook.test">;
  /** The status before the change; null for `deposit.created`. */
  previousStatus: DepositStatus | null;
  cause: string;
  now: number;
  review?: { itemId: string; reason: string };
  credit?: { walletId: string; ledgerEntryId: string; amountMinor: bigint };
};

/** The type of the event a status change reports. */
export const STATUS_EVENT: Record<DepositStatus, DepositChange["type"] | null> = {
  pending: null,
  processing: "deposit.processing",
  succeeded: "deposit.succeeded",
  failed: "deposit.failed",
  expired: "deposit.expired",
  cancelled: "deposit.cancelled",
};

/**
 * A deposit event (pure): the order's both sides as decimal text (docs/webhooks.md), its status
 * and the one before, and a `sequence` placeholder that the outbox numbers.
 */
export function depositWebhook(d: DepositFacts, c: DepositChange): NewWebhookEvent {
  const creditCurrency = d.account_currency ?? d.currency;
  const creditDecimals = d.account_decimals ?? d.decimals;
  const creditMinor = c.credit ? c.credit.amountMinor : BigInt(d.credit_minor);
  const data: Record<string, unknown> = {
    depositId: d.id,
    orderNo: d.order_no,
    clientId: d.client_id,
    integrationId: d.integration_id,
    status: d.status,
    previousStatus: c.previousStatus,
    sequence: null,
    amount: formatAmount(BigInt(d.amount_minor), d.decimals),
    currency: d.currency,
    fee: formatAmount(BigInt(d.fee_minor), d.decimals),
    creditAmount: formatAmount(creditMinor, creditDecimals),
    creditCurrency,
    paidAmount: d.paid_amount_minor === null ? null : formatAmount(BigInt(d.paid_amount_minor), d.decimals),
    transactionId: d.transaction_id,
    quote: d.fx_rate === null ? null : { rate: d.fx_rate, markupBps: d.fx_markup_bps ?? 0 },
    cause: c.cause,
    failureReason: d.status === "failed" ? d.failure_reason : null,
    review: c.review ?? null,
  };
  if (c.credit) {
    data.walletId = c.credit.walletId;
    data.ledgerEntryId = c.credit.ledgerEntryId;
  }
  return { tenantId: d.tenant_id, type: c.type, depositId: d.id, orderNo: d.order_no, data, now: c.now };
}
