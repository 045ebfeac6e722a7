import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { withdrawalWebhook } from "../withdrawals/withdrawal-webhook.js";
import { type DepositFacts, depositWebhook } from "./deposit-webhook.js";
import { RETRY_DELAYS_MS } from "./retry-policy.js";
import { webhookBody } from "./webhook-body.js";
import { WEBHOOK_EVENT_TYPES } from "./webhook-event-types.js";

const doc = readFileSync(new URL("../../../../../docs/webhooks.md", import.meta.url), "utf8");

describe("docs/webhooks.md", () => {
  it("lists every event type the server sends", () => {
    const table = doc.slice(doc.indexOf("## Event types"), doc.indexOf("## Delivery"));
    for (const { type } of WEBHOOK_EVENT_TYPES) expect(table).toContain(`\`${type}\``);
  });

  it("shows the withdrawal payload with exactly the fields the server writes, and its figures", () => {
    const example = [...doc.matchAll(/```json\n([\s\S]*?)```/g)]
      .map((m) => m[1]!)
      .filter((text) => text.startsWith("{\n"))
      .map((text) => JSON.parse(text) as { type: string; data: Record<string, unknown> })
      .find((e) => e.type === "withdrawal.paid");
    const d = example!.data;
    const written = withdrawalWebhook(
      "withdrawal.paid",
      {
        id: String(d.withdrawalId),
        tenant_id: "t1",
        payout_no: String(d.payoutNo),
        client_id: String(d.clientId),
        wallet_id: "w1",
        method_id: String(d.methodId),
        currency: "USD",
        decimals: 2,
        amount_minor: 120_000,
        fee_minor: 1_250,
        payout_minor: 118_750,
        fields: "{}",
        status: "paid",
        levels_required: 2,
        levels_done: 2,
        requested_by_staff_id: null,
        idempotency_key: null,
        client_reason: null,
        payout_reference: "SEPA-7",
        created_at: 0,
        updated_at: 0,
        integration_id: null,
        transaction_id: null,
        payout_due: null,
        payout_step: 0,
        needs_assistance: null,
      },
      0,
      { reference: "SEPA-7" },
    );
    expect(written.data).toEqual(d);
  });

  it("gives the retry schedule the worker follows", () => {
    const human = (ms: number) =>
      ms < 60_000 ? `${ms / 1000} s` : ms < 3600_000 ? `${ms / 60_000} min` : `${ms / 3600_000} h`;
    expect(doc).toContain(`| next attempt in | ${RETRY_DELAYS_MS.map(human).join(" | ")} |`);
  });

  it("shows deposit payloads with exactly the fields the server writes, and the figures it would write", () => {
    const examples = [...doc.matchAll(/```json\n([\s\S]*?)```/g)]
      .flatMap((m) => (m[1]!.startsWith("{\n") ? [m[1]!] : m[1]!.trim().split("\n")))
      .map((text) => JSON.parse(text) as { type: string; data: Record<string, unknown> })
      .filter((e) => e.type.startsWith("deposit.") || e.type === "wallet.credited");
    expect(examples.map((e) => e.type)).toContain("wallet.credited");
    // The doc's order: 100.00 EUR, fee 1.50, a locked EUR → USD quote crediting 104.60 USD.
    const facts: DepositFacts = {
      id: "01a24613-4630-7f12-8d3a-5c7e9b1f2a04",
      order_no: "n15nddgzbdgu",
      tenant_id: "t1",
      client_id: "01a230d5-12a4-7c51-8b2e-3d9f0a6c7e42",
      integration_id: "01a230d5-1280-7a3c-9e41-6f2b8c0d4e15",
      status: "succeeded",
      currency: "EUR",
      decimals: 2,
      amount_minor: 10_000,
      fee_minor: 150,
      credit_minor: 10_460,
      paid_amount_minor: 10_000,
      account_currency: "USD",
      account_decimals: 2,
      fx_rate: "1.0781",
      fx_markup_bps: 150,
      transaction_id: "TX-88213",
      failure_reason: null,
    };
    for (const example of examples) {
      const credit =
        example.type === "wallet.credited"
          ? {
              walletId: example.data.walletId as string,
              ledgerEntryId: example.data.ledgerEntryId as string,
              amountMinor: 10_460n,
            }
          : undefined;
      const event = depositWebhook(facts, {
        type: example.type as "deposit.succeeded",
        previousStatus: "processing",
        cause: "callback",
        now: 0,
        ...(credit ? { credit } : {}),
      });
      expect(Object.keys(example.data), example.type).toEqual(Object.keys(event.data));
      if (example.type === "deposit.succeeded" || example.type === "wallet.credited") {
        const sent = webhookBody({
          type: example.type,
          data: JSON.stringify(event.data),
          seq: example.data.sequence as number,
          created_at: Date.parse("2026-12-05T12:00:03.000Z"),
        });
        expect(JSON.parse(sent), example.type).toEqual(example);
      }
    }
  });
});
