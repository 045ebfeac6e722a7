import { verify } from "@psphub/protocol";
import { defaultApi1ParamConfig } from "@psphub/protocol/admin";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { GuardedResponse } from "../../infra/http-out/guarded-client.js";
import { NO_QUOTE } from "../fx-quotes/locked-quote.js";
import {
  type Api1Order,
  api1Url,
  buildApi1Request,
  interpretApi1Answer,
  PROVIDER_UNAVAILABLE_MESSAGE,
  truncateBody,
} from "./api1-request.js";
import {
  clientFailureOf,
  createDepositHttpStatus,
  createDepositView,
  portalDepositView,
} from "./deposit-view.js";

const TOKEN = "tok-ABC_123";
const order: Api1Order = {
  merchantId: "0123456789abcdef0123456789abcdef",
  orderNo: "abcdef123456",
  amountMinor: 10_010n,
  decimals: 2,
  currency: "usd",
  userId: "u1234567",
  userName: "Jane Client",
  email: "jane@example.com",
  phone: null,
  nationality: "US",
  language: "EN-US",
  device: "pc",
  custom: { custom_1: "abc", custom_2: "" },
};

describe("api1Url", () => {
  it.each([
    ["https://psp.example.com", "https://psp.example.com/pay/url"],
    ["https://psp.example.com/", "https://psp.example.com/pay/url"],
    ["https://psp.example.com/api", "https://psp.example.com/api/pay/url"],
    ["https://psp.example.com/api//", "https://psp.example.com/api/pay/url"],
    ["http://127.0.0.1:8080", "http://127.0.0.1:8080/pay/url"],
  ])("%s → %s", (base, url) => {
    expect(api1Url(base)).toBe(url);
  });

  it("answers every APP_URL on its own, call after call (the results are kept per text)", () => {
    const bases = ["https://a.example/x", "https://a.example/x/", "https://a.example/y", "https://b.example"];
    for (let round = 0; round < 3; round++) {
      expect(bases.map(api1Url)).toEqual([
        "https://a.example/x/pay/url",
        "https://a.example/x/pay/url",
        "https://a.example/y/pay/url",
        "https://b.example/pay/url",
      ]);
    }
    expect(() => api1Url("not a url")).toThrow();
    expect(() => api1Url("not a url")).toThrow();
  });
});

describe("buildApi1Request", () => {
  it("writes the amount as its exact JSON number literal and signs exactly what it sends", () => {
    const r = buildApi1Request(order, defaultApi1ParamConfig(), TOKEN);
    expect(r.bodyText).toContain('"amount":100.1');
    expect(r.bodyText).not.toContain('"amount":"');
    const body = JSON.parse(r.bodyText);
    expect(body).toEqual({
      merchant_id: order.merchantId,
      order_no: order.orderNo,
      amount: 100.1,
      currency: "USD",
      user_id: "u1234567",
      user_name: "Jane Client",
      email: "jane@example.com",
      nationality: "us",
      language: "en-us",
      device: "pc",
      custom_1: "abc",
      sign: expect.stringMatching(/^[0-9A-F]{40}$/),
    });
    expect(r.sent).toEqual(body);
    expect(verify(r.bodyText, TOKEN)).toBe(true);
    expect(verify(r.bodyText, "other-token")).toBe(false);
    expect(r.bodyText).not.toContain(TOKEN);
  });

  it("uses renamed keys and leaves disabled parameters out", () => {
    const config = defaultApi1ParamConfig();
    config.amount = { key: "amt", enabled: true };
    config.order_no = { key: "orderId", enabled: true };
    config.email = { key: "email", enabled: false };
    config.device = { key: "device", enabled: false };
    const r = buildApi1Request({ ...order, amountMinor: 10_000n }, config, TOKEN);
    const body = JSON.parse(r.bodyText);
    expect(body.amt).toBe(100);
    expect(r.bodyText).toContain('"amt":100,');
    expect(body.orderId).toBe(order.orderNo);
    expect(body).not.toHaveProperty("amount");
    expect(body).not.toHaveProperty("email");
    expect(body).not.toHaveProperty("device");
    expect(verify(r.bodyText, TOKEN)).toBe(true);
  });

  it("prints amounts of other exponents exactly", () => {
    const cfg = defaultApi1ParamConfig();
    expect(buildApi1Request({ ...order, amountMinor: 5n, decimals: 0 }, cfg, TOKEN).bodyText).toContain(
      '"amount":5,',
    );
    expect(
      buildApi1Request({ ...order, amountMinor: 123_456_789n, decimals: 8 }, cfg, TOKEN).bodyText,
    ).toContain('"amount":1.23456789,');
    expect(buildApi1Request({ ...order, amountMinor: 1n, decimals: 8 }, cfg, TOKEN).bodyText).toContain(
      '"amount":1e-8,',
    );
  });

  it("refuses a configuration that puts two values on one key", () => {
    const config = defaultApi1ParamConfig();
    config.user_name = { key: "custom_1", enabled: true };
    expect(() => buildApi1Request(order, config, TOKEN)).toThrow(/custom_1/);
  });
});

const ok = (status: number, bodyText: string): GuardedResponse => ({
  ok: true,
  status,
  headers: {},
  bodyText,
  latencyMs: 5,
});

describe("interpretApi1Answer", () => {
  const strict = { allowHttp: false };
  it("accepts a https URL", () => {
    expect(
      interpretApi1Answer(
        ok(200, '{"data":{"url":"https://pay.example.com/p/1"},"result":true,"msg":""}'),
        strict,
      ),
    ).toEqual({ ok: true, paymentUrl: "https://pay.example.com/p/1" });
  });
  it.each([
    [{ ok: false, reason: "timeout", detail: "x", latencyMs: 1000 } as GuardedResponse, "timeout", false],
    [ok(500, "oops"), "http_status_500", false],
    [ok(302, ""), "http_status_302", false],
    [ok(200, "<html>"), "bad_json", false],
    [ok(200, "[1]"), "bad_json: not an object", false],
    [ok(200, '{"result":false,"msg":"Card not supported"}'), "result_false: Card not supported", true],
    [ok(200, '{"result":false}'), "result_false", false],
    [ok(200, '{"result":"true","data":{"url":"https://x.example"}}'), "result_false", false],
    [ok(200, '{"result":true,"data":{}}'), "missing_url", false],
    [ok(200, '{"result":true,"data":{"url":"javascript:alert(1)"}}'), "bad_url", false],
    [ok(200, '{"result":true,"data":{"url":"data:text/html,hi"}}'), "bad_url", false],
    [ok(200, '{"result":true,"data":{"url":"http://pay.example.com"}}'), "insecure_url", false],
    // docs/failure-modes.md#failure-mode-15: every spelling of a script URL the browser would still run, and URLs the
    // portal cannot open safely.
    [ok(200, '{"result":true,"data":{"url":"JAVASCRIPT:alert(1)"}}'), "bad_url", false],
    [ok(200, '{"result":true,"data":{"url":" javascript:alert(1)"}}'), "bad_url", false],
    [ok(200, '{"result":true,"data":{"url":"java\\tscript:alert(1)"}}'), "bad_url", false],
    [ok(200, '{"result":true,"data":{"url":"\\u0001javascript:alert(1)"}}'), "bad_url", false],
    [ok(200, '{"result":true,"data":{"url":"vbscript:msgbox(1)"}}'), "bad_url", false],
    [ok(200, '{"result":true,"data":{"url":"blob:https://pay.example.com/1"}}'), "bad_url", false],
    [ok(200, '{"result":true,"data":{"url":"//pay.example.com/p/1"}}'), "bad_url", false],
    [ok(200, '{"result":true,"data":{"url":"/p/1"}}'), "bad_url", false],
    [ok(200, '{"result":true,"data":{"url":"https://user:pw@pay.example.com/p/1"}}'), "bad_url", false],
    [ok(200, '{"result":true,"data":{"url":"   "}}'), "missing_url", false],
    [ok(200, '{"result":true,"data":{"url":42}}'), "missing_url", false],
    [ok(200, '{"result":true,"data":"https://pay.example.com/p/1"}'), "missing_url", false],
  ])("%#: fails with %s", (res, reason, declined) => {
    const r = interpretApi1Answer(res, strict);
    expect(r).toMatchObject({ ok: false, reason, declined });
    if (!r.ok && !declined) expect(r.clientMessage).toBe(PROVIDER_UNAVAILABLE_MESSAGE);
  });
  it("keeps a non-2xx answer's msg for admins and never gives it to the client", () => {
    expect(interpretApi1Answer(ok(401, '{"result":false,"msg":"invalid crm-pay-token"}'), strict)).toEqual({
      ok: false,
      reason: "http_status_401: invalid crm-pay-token",
      clientMessage: PROVIDER_UNAVAILABLE_MESSAGE,
      declined: false,
    });
  });
  it("gives the client the msg of a proper refusal (2xx, result false) only", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 100, max: 599 }),
        fc.string({ minLength: 1, maxLength: 30 }).filter((m) => m.trim() !== "" && /^[\x20-\x7e]+$/.test(m)),
        (status, msg) => {
          const r = interpretApi1Answer(ok(status, JSON.stringify({ result: false, msg })), strict);
          const proper = status >= 200 && status <= 299;
          expect(r).toMatchObject({ ok: false, declined: proper });
          if (!r.ok) expect(r.clientMessage === msg.trim()).toBe(proper);
        },
      ),
    );
  });
  it("keeps transport details for admins", () => {
    expect(
      interpretApi1Answer(
        { ok: false, reason: "blocked_address", detail: "127.0.0.1 (loopback)", latencyMs: 0 },
        strict,
      ),
    ).toMatchObject({ reason: "blocked_address: 127.0.0.1 (loopback)" });
  });
  it("allows http only where the deployment does", () => {
    expect(
      interpretApi1Answer(ok(200, '{"result":true,"data":{"url":"http://pay.example.com/"}}'), {
        allowHttp: true,
      }),
    ).toEqual({ ok: true, paymentUrl: "http://pay.example.com/" });
  });
  it("truncates long response bodies", () => {
    expect(truncateBody("x".repeat(5000))).toHaveLength(4096 + "…[truncated 904 chars]".length);
    expect(truncateBody("short")).toBe("short");
  });
});

describe("deposit views", () => {
  const row = {
    id: "d1",
    tenant_id: "t",
    order_no: "o1",
    client_id: "c",
    method_id: "m",
    integration_id: "i",
    currency: "USD",
    decimals: 2,
    amount_minor: 10_010,
    fee_minor: 280,
    credit_minor: 9_730,
    fee_rule_bps: 250,
    fee_rule_fixed_minor: 30,
    fee_rule_max_minor: 2_000,
    paid_amount_minor: null,
    status: "failed" as const,
    fields: "{}",
    device: null,
    language: null,
    idempotency_key: null,
    request_hash: null,
    payment_url: "https://pay.example.com/x",
    failure_reason: "result_false: Card declined",
    failure_message: "Card declined",
    transaction_id: null,
    psp_time: null,
    created_by: null,
    expires_at: 0,
    created_at: 0,
    updated_at: 0,
    finalized_at: 0,
    status_query_due_at: null,
    status_query_step: 0,
    ...NO_QUOTE,
  };
  it("shows clients the message, never the admin reason, and no URL once final", () => {
    const v = portalDepositView(row, "Card", false);
    expect(v).toMatchObject({
      amount: "100.10",
      fee: "2.80",
      credit: "97.30",
      failure: { reason: "api1_declined", message: "Card declined" },
      underReview: false,
    });
    expect(v.paymentUrl).toBeNull();
    expect(JSON.stringify(v)).not.toContain("result_false");
  });
  it("answers 502 for API-1 failures, 201/200 otherwise", () => {
    expect(clientFailureOf(row)).toEqual({
      code: "payment_provider_failed",
      reason: "api1_declined",
      message: "Card declined",
    });
    expect(createDepositHttpStatus(createDepositView(row, false))).toBe(502);
    const timeout = { ...row, failure_reason: "timeout", failure_message: PROVIDER_UNAVAILABLE_MESSAGE };
    expect(clientFailureOf(timeout)).toEqual({
      code: "payment_provider_failed",
      reason: "api1_unavailable",
      message: null,
    });
    // Stored before non-2xx answers lost their say: the backend's own error text stays hidden.
    const old401 = { ...row, failure_reason: "http_status_401", failure_message: "invalid crm-pay-token" };
    expect(clientFailureOf(old401)).toEqual({
      code: "payment_provider_failed",
      reason: "api1_unavailable",
      message: null,
    });
    const pending = { ...row, status: "pending" as const, failure_reason: null, failure_message: null };
    expect(createDepositHttpStatus(createDepositView(pending, false))).toBe(201);
    expect(createDepositHttpStatus(createDepositView(pending, true))).toBe(200);
    const byCallback = { ...row, failure_reason: "psp_reported_failure", failure_message: null };
    expect(clientFailureOf(byCallback)).toEqual({
      code: "payment_failed",
      reason: "payment_failed",
      message: null,
    });
    expect(createDepositHttpStatus(createDepositView(byCallback, true))).toBe(200);
  });
});
