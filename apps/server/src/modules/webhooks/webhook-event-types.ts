/** Every event type an endpoint can subscribe to (docs/webhooks.md#event-types). */
export const WEBHOOK_EVENT_TYPES = [
  { type: "deposit.created", description: "A deposit order was created (by the client or by staff)" },
  { type: "deposit.processing", description: "The PSP reported the payment as processing" },
  { type: "deposit.succeeded", description: "The deposit succeeded" },
  { type: "deposit.failed", description: "The deposit failed" },
  { type: "deposit.expired", description: "The order expired unpaid" },
  { type: "deposit.cancelled", description: "The order was cancelled" },
  {
    type: "deposit.review_required",
    description: "A result needs a person: the deposit is in the review queue",
  },
  { type: "deposit.needs_assistance", description: "Status queries left the order unresolved" },
  { type: "wallet.credited", description: "A deposit credited the client's wallet" },
  { type: "withdrawal.requested", description: "A client asked to withdraw: the amount is held" },
  { type: "withdrawal.approved", description: "One approval level of a withdrawal was approved" },
  { type: "withdrawal.rejected", description: "A withdrawal was rejected: the hold is released" },
  { type: "withdrawal.cancelled", description: "The client cancelled a withdrawal: the hold is released" },
  { type: "withdrawal.paid", description: "A withdrawal was paid out: the held amount left the wallet" },
  { type: "withdrawal.failed", description: "A payout failed: the hold is released" },
  { type: "alert.opened", description: "An operations alert opened" },
  { type: "alert.resolved", description: "An operations alert resolved" },
  { type: "endpoint.disabled", description: "Another webhook endpoint of the tenant was disabled" },
  { type: "webhook.test", description: "A test event sent from the back office" },
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number]["type"];

/**
 * An endpoint's subscription as stored: `*` for every type, else `,a,b,`, so that SQL tests
 * membership with one substring search of `,type,`.
 */
export function eventTypesColumn(types: readonly string[]): string {
  if (types.length === 0 || types.includes("*")) return "*";
  return `,${[...new Set(types)].sort().join(",")},`;
}

/** The stored subscription as a list (`["*"]` for every type). */
export function eventTypesOf(column: string): string[] {
  return column === "*" ? ["*"] : column.split(",").filter((t) => t !== "");
}
