import type { SettlementOrder } from "../modules/settlement/settlement-planner.js";

/**
 * The deposit state machine written out pair by pair ("from>to"), not derived from the code
 * under test, so any change to a transition shows up in the tests that use it.
 */
export const ALLOWED_TRANSITIONS: ReadonlySet<string> = new Set([
  "pending>processing",
  "pending>succeeded",
  "pending>failed",
  "pending>expired",
  "pending>cancelled",
  "processing>succeeded",
  "processing>failed",
  "processing>expired",
  "processing>cancelled",
]);

/** An order as the settlement reads it: 100.00 USD at 2.5 % + 0.30, pending, with a wallet. */
export const settlementOrder = (o: Partial<SettlementOrder> = {}): SettlementOrder => ({
  id: "d1",
  order_no: "o1",
  tenant_id: "t1",
  integration_id: "i1",
  client_id: "c1",
  status: "pending",
  currency: "USD",
  decimals: 2,
  amount_minor: 10_000,
  fee_minor: 280,
  credit_minor: 9_720,
  paid_amount_minor: null,
  fee_rule_bps: 250,
  fee_rule_fixed_minor: 30,
  fee_rule_max_minor: null,
  live_method_id: "m1",
  transaction_id: null,
  failure_reason: null,
  account_currency: null,
  account_decimals: null,
  fx_rate: null,
  fx_markup_bps: null,
  wallet_id: "w1",
  ...o,
});
