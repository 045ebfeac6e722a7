import { describe, expect, it } from "vitest";
import { settlementOrder } from "../../test/settlement-fixtures.js";
import { depositWebhook } from "./deposit-webhook.js";
import { webhookBody } from "./webhook-body.js";
import { eventTypesColumn, eventTypesOf } from "./webhook-event-types.js";

const NOW = Date.UTC(2026, 11, 5, 12);

describe("a deposit's webhook event", () => {
  it("carries both sides of a converting order as decimal text: the payment and the wallet credit", () => {
    const order = settlementOrder({
      status: "succeeded",
      currency: "EUR",
      decimals: 2,
      amount_minor: 10_000,
      fee_minor: 150,
      credit_minor: 10_620,
      paid_amount_minor: 10_000,
      account_currency: "USD",
      account_decimals: 2,
      fx_rate: "1.0781",
      fx_markup_bps: 150,
      transaction_id: "tx-1",
    });
    const e = depositWebhook(order, {
      type: "deposit.succeeded",
      previousStatus: "processing",
      cause: "callback",
      now: NOW,
    });
    expect(e).toMatchObject({
      type: "deposit.succeeded",
      depositId: order.id,
      orderNo: order.order_no,
      now: NOW,
    });
    expect(e.data).toEqual({
      depositId: order.id,
      orderNo: order.order_no,
      clientId: order.client_id,
      integrationId: order.integration_id,
      status: "succeeded",
      previousStatus: "processing",
      sequence: null,
      amount: "100.00",
      currency: "EUR",
      fee: "1.50",
      creditAmount: "106.20",
      creditCurrency: "USD",
      paidAmount: "100.00",
      transactionId: "tx-1",
      quote: { rate: "1.0781", markupBps: 150 },
      cause: "callback",
      failureReason: null,
      review: null,
    });
  });

  it("a credit names its wallet and entry and the amount credited; a failure its reason", () => {
    const order = settlementOrder({
      status: "succeeded",
      currency: "JPY",
      decimals: 0,
      amount_minor: 5000,
      credit_minor: 4900,
    });
    const credited = depositWebhook(order, {
      type: "wallet.credited",
      previousStatus: "pending",
      cause: "manual",
      now: NOW,
      credit: { walletId: "w9", ledgerEntryId: "le9", amountMinor: 4800n },
    });
    expect(credited.data).toMatchObject({
      creditAmount: "4800",
      creditCurrency: "JPY",
      walletId: "w9",
      ledgerEntryId: "le9",
    });
    const failed = depositWebhook(
      settlementOrder({ status: "failed", failure_reason: "provider_declined" }),
      {
        type: "deposit.failed",
        previousStatus: "pending",
        cause: "callback",
        now: NOW,
      },
    );
    expect(failed.data.failureReason).toBe("provider_declined");
  });
});

describe("the body sent", () => {
  it("is rendered from the stored row: the same bytes every time, the order's number in place", () => {
    const row = {
      type: "deposit.created",
      data: JSON.stringify({ orderNo: "n1", status: "pending", sequence: null, amount: "1.00" }),
      seq: 7,
      created_at: NOW,
    };
    const body = webhookBody(row);
    expect(body).toBe(
      `{"type":"deposit.created","timestamp":"${new Date(NOW).toISOString()}","data":{"orderNo":"n1","status":"pending","sequence":7,"amount":"1.00"}}`,
    );
    expect(webhookBody(row)).toBe(body);
    // An event of no order has no sequence at all.
    expect(JSON.parse(webhookBody({ ...row, data: '{"alertId":"a"}', seq: null })).data).toEqual({
      alertId: "a",
    });
  });
});

describe("an endpoint's subscription as stored", () => {
  it("is * for every type, else ,a,b, (sorted, once each), and reads back", () => {
    expect(eventTypesColumn(["*"])).toBe("*");
    expect(eventTypesColumn([])).toBe("*");
    expect(eventTypesColumn(["wallet.credited", "deposit.failed", "wallet.credited"])).toBe(
      ",deposit.failed,wallet.credited,",
    );
    expect(eventTypesOf(",deposit.failed,wallet.credited,")).toEqual(["deposit.failed", "wallet.credited"]);
    expect(eventTypesOf("*")).toEqual(["*"]);
  });
});
