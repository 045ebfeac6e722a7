import { sign, stringA } from "@psphub/protocol";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  callbackFields,
  callbackJson,
  insertDeposit,
  type SendOptions,
  sendCallback,
  sendSignedCallback,
  type TestDeposit,
} from "../../test/callback-client.js";
import { insertMethod, insertPaymentSetup, type PaymentFixture } from "../../test/payment-fixtures.js";
import { createTestApp, createTestTenant, type TestApp } from "../../test/test-app.js";

// Every refusal explains itself (docs/psp-open-api.md#api-2-answers): the answer's `detail` for
// each check, the same reason and a diagnosis in the callback log, and never a secret in either.
let t: TestApp;
let fx: PaymentFixture;
let foreign: PaymentFixture;

beforeAll(async () => {
  t = await createTestApp();
  fx = await insertPaymentSetup(t.ctx, (await createTestTenant(t.ctx, "cb-detail-a")).tenantId);
  foreign = await insertPaymentSetup(t.ctx, (await createTestTenant(t.ctx, "cb-detail-b")).tenantId);
});
afterAll(async () => t?.close());

type Case = {
  name: string;
  build: (
    dep: TestDeposit,
  ) => Promise<{ body: string; opts: SendOptions }> | { body: string; opts: SendOptions };
  type: string;
  detail: string | RegExp;
  check: string;
  diagnosis?: Record<string, unknown>;
};

const signed = (dep: TestDeposit, overrides = {}, f: PaymentFixture = fx) => ({
  body: callbackJson(callbackFields(f, dep, overrides), f.token),
  opts: { token: f.token },
});

const CASES: Case[] = [
  {
    name: "bad JSON",
    build: () => ({ body: '{"merchant_id":', opts: { token: fx.token } }),
    type: "request_malformed",
    detail: /offset/,
    check: "body",
  },
  {
    name: "a duplicate key",
    build: (dep) => ({
      body: callbackJson(callbackFields(fx, dep), fx.token).replace("{", `{"order_no":"x",`),
      opts: { token: fx.token },
    }),
    type: "request_malformed",
    detail: 'the key "order_no" appears more than once',
    check: "body",
  },
  {
    name: "an amount sent as a string",
    build: (dep) => signed(dep, { amount: "100.00" }),
    type: "request_malformed",
    detail: "`amount` must be a JSON number, not a string",
    check: "body",
  },
  {
    name: "a missing time",
    build: (dep) => signed(dep, { time: null }),
    type: "request_malformed",
    detail: "`time` is missing",
    check: "body",
  },
  {
    name: "time in seconds with a fraction",
    build: (dep) => signed(dep, { time: { literal: "1767225600.5" } }),
    type: "request_malformed",
    detail: "`time` must be Unix milliseconds (a non-negative integer)",
    check: "body",
  },
  {
    name: "an unknown merchant_id",
    build: (dep) => signed(dep, { merchant_id: "f".repeat(32) }),
    type: "psp_setting_not_found",
    detail: "`merchant_id` matches no enabled integration",
    check: "merchant_id",
  },
  {
    name: "no crm-pay-token header",
    build: (dep) => ({ ...signed(dep), opts: { token: null } }),
    type: "psp_token_invalid",
    detail: "header crm-pay-token is missing",
    check: "header_token",
  },
  {
    name: "a wrong crm-pay-token header",
    build: (dep) => ({ ...signed(dep), opts: { token: foreign.token } }),
    type: "psp_token_invalid",
    detail: "header crm-pay-token is not this integration's token",
    check: "header_token",
  },
  {
    name: "a sign over other values",
    build: (dep) => ({
      body: callbackJson(callbackFields(fx, dep), fx.token, { signature: "A".repeat(40) }),
      opts: { token: fx.token },
    }),
    type: "psp_token_invalid",
    detail: /^sign does not verify \(StringA begins `amount=[0-9.]+&currency=USD&merchant_id=\w+…`\)$/,
    check: "sign",
  },
  {
    name: "a sign that is not 40 hex digits",
    build: (dep) => ({
      body: callbackJson(callbackFields(fx, dep), fx.token, { signature: "not-a-sha1" }),
      opts: { token: fx.token },
    }),
    type: "psp_token_invalid",
    detail: "`sign` must be 40 hexadecimal digits (SHA-1)",
    check: "sign",
  },
  {
    name: "an unknown order",
    build: (dep) => signed(dep, { order_no: "nosuchorder1" }),
    type: "payment_not_found",
    detail: "no order `nosuchorder1` under this integration",
    check: "order",
  },
  {
    name: "another tenant's order, signed by that tenant's integration",
    build: (dep) => signed(dep, { merchant_id: foreign.merchantId }, foreign),
    type: "payment_not_found",
    detail: /^no order `\w+` under this integration$/,
    check: "order",
  },
  {
    name: "a deleted deposit method",
    build: async () => {
      const methodId = await insertMethod(t.ctx, fx.tenantId, fx.integrationId);
      const dep = await insertDeposit(t.ctx, { ...fx, methodId });
      await t.ctx.db
        .updateTable("deposit_methods")
        .set({ deleted_at: 1 })
        .where("id", "=", methodId)
        .execute();
      return signed(dep);
    },
    type: "deposit_method_not_found",
    detail: "the order's deposit method no longer exists",
    check: "method",
  },
  {
    name: "another currency",
    build: (dep) => signed(dep, { currency: "EUR" }),
    type: "payment_currency_not_allowed",
    detail: "`currency` is `EUR`, the order's is `USD`",
    check: "currency",
    diagnosis: { orderCurrency: "USD" },
  },
  {
    name: "too many decimals",
    build: (dep) => signed(dep, { amount: { literal: "100.001" } }),
    type: "payment_amount_not_allowed",
    detail: "`amount` `100.001` is not an amount with at most 2 decimals",
    check: "amount",
    diagnosis: { paidAmount: "100.001", orderedAmount: "100.00" },
  },
  {
    name: "another amount (policy exact)",
    build: (dep) => signed(dep, { amount: { literal: "99.5" } }),
    type: "payment_amount_not_allowed",
    detail: "`amount` `99.5` differs from the order's 100.00",
    check: "amount",
    diagnosis: { paidAmount: "99.5", orderedAmount: "100.00" },
  },
  {
    name: "status 7",
    build: (dep) => signed(dep, { status: 7 }),
    type: "payment_status_not_allowed",
    detail: "`status` 7 is not 0 (failed), 1 (succeeded) or 2 (processing)",
    check: "status",
  },
  {
    name: "a failure after a success",
    build: async (dep) => {
      expect((await sendSignedCallback(t.app, fx, dep)).statusCode).toBe(204);
      return signed(dep, { status: 0 });
    },
    type: "payment_status_not_pending",
    detail: "the order is already `succeeded`: `status` 0 (failed) cannot change it",
    check: "status",
    diagnosis: { orderStatus: "succeeded" },
  },
  {
    name: "processing after a failure",
    build: async (dep) => {
      expect((await sendSignedCallback(t.app, fx, dep, { status: 0 })).statusCode).toBe(204);
      return signed(dep, { status: 2 });
    },
    type: "payment_status_not_allowed",
    detail: "`status` 2 (processing) cannot follow the order's final status `failed`",
    check: "status",
    diagnosis: { orderStatus: "failed" },
  },
  {
    name: "a second success for another amount",
    build: async (dep) => {
      expect((await sendSignedCallback(t.app, fx, dep)).statusCode).toBe(204);
      return signed(dep, { amount: { literal: "90" } });
    },
    type: "payment_amount_not_allowed",
    detail: "the order already succeeded with 100.00: a success for `90` is kept for review",
    check: "amount",
    diagnosis: { orderedAmount: "100.00", paidAmount: "90", orderStatus: "succeeded" },
  },
];

async function lastLogRow() {
  return t.ctx.db
    .selectFrom("callback_logs")
    .selectAll()
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .executeTakeFirstOrThrow();
}

describe("API-2 refusals explain themselves", () => {
  it.each(CASES)("$name: $type, with its detail in the answer and the log", async (c) => {
    const dep = await insertDeposit(t.ctx, fx, { amount_minor: 10_000 });
    const { body, opts } = await c.build(dep);
    const res = await sendCallback(t.app, body, opts);
    const answer = res.json();
    expect(answer).toEqual({ error: true, code: 400, type: c.type, detail: expect.any(String) });
    if (typeof c.detail === "string") expect(answer.detail).toBe(c.detail);
    else expect(answer.detail).toMatch(c.detail);

    const row = await lastLogRow();
    expect(row.error_type).toBe(c.type);
    expect(row.error_detail).toBe(answer.detail);
    const diagnosis = JSON.parse(row.diagnosis ?? "null");
    expect(diagnosis).toMatchObject({ check: c.check, ...c.diagnosis });
    // Nothing secret: neither token, nor the sign the body should have carried.
    for (const text of [res.body, row.error_detail ?? "", row.diagnosis ?? ""]) {
      expect(text).not.toContain(fx.token);
      expect(text).not.toContain(foreign.token);
    }
  });

  it("keeps both StringA forms of a sign failure in the log, and quotes only the start in the answer", async () => {
    const dep = await insertDeposit(t.ctx, fx, { amount_minor: 10_000 });
    const fields = callbackFields(fx, dep, { amount: { literal: "100.00" } });
    const res = await sendCallback(t.app, callbackJson(fields, fx.token, { signature: "B".repeat(40) }), {
      token: fx.token,
    });
    const row = await lastLogRow();
    const diagnosis = JSON.parse(row.diagnosis ?? "null");
    const params = { ...fields, amount: 100 } as Record<string, string | number>;
    expect(diagnosis.stringA).toBe(
      stringA(params, { literals: { amount: "100.00", time: "1767225600000" } }),
    );
    expect(diagnosis.stringA).toContain("amount=100.00&");
    expect(diagnosis.stringAParsed).toContain("amount=100&");
    expect(res.json().detail).toBe(
      `sign does not verify (StringA begins \`${diagnosis.stringA.slice(0, 40)}…\`)`,
    );
    expect(res.body).not.toContain(sign(params, fx.token));
  });

  it("names the check only, and never the token, for any header sent", async () => {
    const dep = await insertDeposit(t.ctx, fx);
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 80 }), async (header) => {
        fc.pre(header !== fx.token && /^[\x21-\x7e]+$/.test(header));
        const res = await sendCallback(t.app, callbackJson(callbackFields(fx, dep), fx.token), {
          token: header,
        });
        expect(res.json()).toMatchObject({
          type: "psp_token_invalid",
          detail: "header crm-pay-token is not this integration's token",
        });
      }),
      { numRuns: 25 },
    );
  });

  it("explains a body over the limit and gives 204 answers no detail", async () => {
    const dep = await insertDeposit(t.ctx, fx);
    const ok = await sendSignedCallback(t.app, fx, dep);
    expect(ok.statusCode).toBe(204);
    expect(ok.body).toBe("");
    const big = await sendCallback(t.app, `{"pad":"${"x".repeat(t.ctx.config.callbackBodyLimit)}"}`, {
      token: fx.token,
    });
    expect(big.statusCode).toBe(413);
    expect(big.json()).toEqual({
      error: true,
      code: 413,
      type: "request_too_large",
      detail: `the body is larger than ${t.ctx.config.callbackBodyLimit} bytes`,
    });
    const row = await lastLogRow();
    expect(row.error_detail).toBe(big.json().detail);
  });
});
