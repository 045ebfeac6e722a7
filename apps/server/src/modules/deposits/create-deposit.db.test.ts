import { type Api1ParamConfig, defaultApi1ParamConfig } from "@psphub/protocol/admin";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PLAIN_DECIMAL_MESSAGE } from "../../common/plain-decimal.js";
import { createGuardedClient } from "../../infra/http-out/guarded-client.js";
import {
  type Api1Stub,
  type StubAnswer,
  type StubRequest,
  startApi1Stub,
  successAnswer,
} from "../../test/api1-stub.js";
import { insertPaymentSetup, type PaymentFixture } from "../../test/payment-fixtures.js";
import { paymentInvariantsAfterEach } from "../../test/payment-invariants.js";
import { createTestApp, loginClient, type Session, seedTenant, type TestApp } from "../../test/test-app.js";
import type { CustomParam } from "../psp-integrations/integration-model.js";
import { PROVIDER_UNAVAILABLE_MESSAGE } from "./api1-request.js";
import { createDeposit } from "./create-deposit.js";

/**
 * Creating deposits end to end: the real app on SQLite or PostgreSQL, API-1 against a real HTTP
 * tenant backend on loopback that verifies the token header and the signature.
 */

let t: TestApp;
let tenant: Awaited<ReturnType<typeof seedTenant>>;
const stubs: Api1Stub[] = [];

type Setup = PaymentFixture & { stub: Api1Stub; portal: Session };

async function setup(
  opts: Parameters<typeof insertPaymentSetup>[2] & {
    respond?: (r: StubRequest) => StubAnswer;
  } = {},
): Promise<Setup> {
  const stub = await startApi1Stub();
  stubs.push(stub);
  if (opts.respond) stub.respond = opts.respond;
  const fx = await insertPaymentSetup(t.ctx, tenant.tenantId, { appUrl: stub.url, ...opts });
  stub.token = fx.token;
  const portal = await loginClient(t.app, tenant.slug, fx.clientEmail, fx.clientPassword);
  return { ...fx, stub, portal };
}

const deposit = (s: Setup, body: Record<string, unknown>, key?: string) =>
  s.portal.inject({
    method: "POST",
    url: "/api/portal/deposits",
    payload: { methodId: s.methodId, currency: "USD", amount: "100.10", ...body },
    headers: key ? { "idempotency-key": key } : {},
  });

async function row(orderNo: string) {
  return t.ctx.db
    .selectFrom("deposits")
    .selectAll()
    .where("order_no", "=", orderNo)
    .executeTakeFirstOrThrow();
}
async function events(depositId: string) {
  const rows = await t.ctx.db
    .selectFrom("deposit_events")
    .selectAll()
    .where("deposit_id", "=", depositId)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
  return rows.map((r) => ({ kind: r.kind, data: JSON.parse(r.data) }));
}

beforeAll(async () => {
  t = await createTestApp({ configOverrides: { allowPrivateAppUrls: true, allowHttpPaymentUrls: false } });
  tenant = await seedTenant(t);
});
afterAll(async () => {
  await Promise.all(stubs.map((s) => s.close()));
  await t?.close();
});
paymentInvariantsAfterEach(() => t?.ctx);

describe("creating a deposit and calling API-1", () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup();
  });

  it("creates a pending order, signs API-1 correctly and hands back the payment URL", async () => {
    const res = await deposit(s, { device: "mobile" });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    expect(body).toEqual({
      orderNo: expect.stringMatching(/^[a-z0-9]{12}$/),
      status: "pending",
      paymentUrl: `https://pay.example.com/p/${body.orderNo}`,
      error: null,
      replayed: false,
    });

    const req = s.stub.requests.at(-1)!;
    expect(req.path).toBe("/pay/url");
    expect(req.headers["content-type"]).toBe("application/json");
    expect(req.tokenOk).toBe(true);
    expect(req.signOk).toBe(true);
    // 100.10 USD travels as the JSON number literal 100.1, exactly that text
    expect(req.rawBody).toMatch(/"amount":100\.1[,}]/);
    expect(req.json).toMatchObject({
      merchant_id: s.merchantId,
      order_no: body.orderNo,
      amount: 100.1,
      currency: "USD",
      user_id: s.clientId,
      user_name: "Jane Client",
      email: s.clientEmail,
      phone: "+1 555 0100",
      nationality: "us",
      language: "en-us",
      device: "mobile",
    });

    const r = await row(body.orderNo);
    expect(r).toMatchObject({
      status: "pending",
      amount_minor: 10_010,
      fee_minor: 280,
      credit_minor: 9_730,
      decimals: 2,
      currency: "USD",
      payment_url: body.paymentUrl,
      client_id: s.clientId,
      method_id: s.methodId,
      integration_id: s.integrationId,
    });
    expect(r.expires_at - r.created_at).toBe(1800 * 1000);

    const ev = await events(r.id);
    expect(ev.map((e) => e.kind)).toEqual(["created", "api1_call"]);
    expect(ev[0]?.data).toEqual({
      by: "client",
      actorId: s.clientId,
      amount: "100.10",
      currency: "USD",
      fee: "2.80",
    });
    expect(ev[1]?.data).toMatchObject({
      url: `${s.stub.url}/pay/url`,
      request: { ...req.json, sign: req.json?.sign },
      httpStatus: 200,
      outcome: "ok",
      paymentUrl: body.paymentUrl,
    });

    const view = await s.portal.get(`/api/portal/deposits/${body.orderNo}`);
    expect(view.json()).toMatchObject({
      status: "pending",
      amount: "100.10",
      fee: "2.80",
      credit: "97.30",
      paymentUrl: body.paymentUrl,
    });
  });

  it("joins APP_URL with a trailing slash or a path prefix correctly", async () => {
    const x = await setup();
    await t.ctx.db
      .updateTable("psp_integrations")
      .set({ app_url: `${x.stub.url}/` })
      .where("id", "=", x.integrationId)
      .execute();
    expect((await deposit(x, {})).statusCode).toBe(201);
    await t.ctx.db
      .updateTable("psp_integrations")
      .set({ app_url: `${x.stub.url}/tenant-a/` })
      .where("id", "=", x.integrationId)
      .execute();
    expect((await deposit(x, {})).statusCode).toBe(201);
    expect(x.stub.requests.map((r) => r.path)).toEqual(["/pay/url", "/tenant-a/pay/url"]);
  });

  it("sends renamed keys, leaves disabled parameters out, and custom fields under their keys", async () => {
    const paramConfig: Api1ParamConfig = defaultApi1ParamConfig();
    paramConfig.amount = { key: "amt", enabled: true };
    paramConfig.order_no = { key: "orderId", enabled: true };
    paramConfig.user_id = { key: "uid", enabled: true };
    paramConfig.email = { key: "email", enabled: false };
    paramConfig.phone = { key: "phone", enabled: false };
    paramConfig.device = { key: "device", enabled: false };
    const customParams: CustomParam[] = [
      { key: "bank_code", label: "Bank", type: "select", required: true, options: ["ABC", "XYZ"], order: 1 },
      { key: "payer_note", label: "Note", type: "text", required: false, order: 2 },
      { key: "id_number", label: "ID", type: "number", required: false, order: 3 },
    ];
    const x = await setup({ paramConfig, customParams });
    const res = await deposit(x, {
      amount: "250",
      fields: { bank_code: "XYZ", id_number: "0042.5e1".slice(3) },
      device: "pc",
    });
    expect(res.statusCode, res.body).toBe(201);
    const req = x.stub.requests.at(-1)!;
    expect(req.tokenOk && req.signOk).toBe(true);
    expect(req.rawBody).toMatch(/"amt":250[,}]/);
    expect(req.json).toEqual({
      merchant_id: x.merchantId,
      orderId: res.json().orderNo,
      amt: 250,
      currency: "USD",
      uid: x.clientId,
      user_name: "Jane Client",
      nationality: "us",
      language: "en-us",
      bank_code: "XYZ",
      id_number: "2.5e1",
      sign: expect.stringMatching(/^[0-9A-F]{40}$/),
    });
    const r = await row(res.json().orderNo);
    expect(JSON.parse(r.fields)).toEqual({ bank_code: "XYZ", id_number: "2.5e1" });
  });
});

describe("API-1 failures end the order as failed", () => {
  const cases: [string, (r: StubRequest) => StubAnswer, string, string][] = [
    [
      "a 500",
      () => ({ status: 500, body: "Internal Server Error" }),
      "http_status_500",
      PROVIDER_UNAVAILABLE_MESSAGE,
    ],
    [
      "garbage",
      () => ({ status: 200, body: "<html>surprise</html>" }),
      "bad_json",
      PROVIDER_UNAVAILABLE_MESSAGE,
    ],
    [
      "result:false with a msg",
      () => ({
        status: 200,
        body: JSON.stringify({ result: false, msg: "Card not supported in your country" }),
      }),
      "result_false: Card not supported in your country",
      "Card not supported in your country",
    ],
    [
      "result:false with bidi controls and invisible characters in the msg",
      () => ({
        status: 200,
        body: JSON.stringify({
          result: false,
          msg: "\u2067Refund: open invoice_\u202Efdp.exe\u202C\u2069\u200B\r\n\uFEFFcall +1\u2060555",
        }),
      }),
      "result_false: Refund: open invoice_fdp.exe call +1555",
      "Refund: open invoice_fdp.exe call +1555",
    ],
    [
      "a 401 whose msg is the backend's own error",
      () => ({ status: 401, body: JSON.stringify({ result: false, msg: "invalid crm-pay-token" }) }),
      "http_status_401: invalid crm-pay-token",
      PROVIDER_UNAVAILABLE_MESSAGE,
    ],
    [
      "a 403 whose msg is only invisible characters",
      () => ({ status: 403, body: '{"result":false,"msg":"\\u202e\\u200f\\u061c\\u2066"}' }),
      "http_status_403",
      PROVIDER_UNAVAILABLE_MESSAGE,
    ],
    [
      "a javascript: URL",
      () => ({
        status: 200,
        body: JSON.stringify({ result: true, data: { url: "javascript:alert(document.cookie)" } }),
      }),
      "bad_url",
      PROVIDER_UNAVAILABLE_MESSAGE,
    ],
    [
      "an http: URL where only https is allowed",
      () => ({
        status: 200,
        body: JSON.stringify({ result: true, data: { url: "http://pay.example.com/x" } }),
      }),
      "insecure_url",
      PROVIDER_UNAVAILABLE_MESSAGE,
    ],
    [
      "a redirect (not followed)",
      () => ({ status: 302, headers: { location: "http://10.0.0.1/" }, body: "" }),
      "http_status_302",
      PROVIDER_UNAVAILABLE_MESSAGE,
    ],
  ];

  it.each(cases)("%s", async (_name, respond, reason, clientMessage) => {
    const x = await setup({ respond });
    const res = await deposit(x, {});
    expect(res.statusCode, res.body).toBe(502);
    const body = res.json();
    // Only a proper refusal's own words reach the client; every other failure is a code.
    const declined = clientMessage !== PROVIDER_UNAVAILABLE_MESSAGE;
    const failure = declined
      ? { reason: "api1_declined", message: clientMessage }
      : { reason: "api1_unavailable", message: null };
    expect(body).toMatchObject({
      status: "failed",
      paymentUrl: null,
      error: { code: "payment_provider_failed", ...failure },
    });
    expect(x.stub.requests).toHaveLength(1);
    const r = await row(body.orderNo);
    expect(r).toMatchObject({
      status: "failed",
      failure_reason: reason,
      failure_message: clientMessage,
      payment_url: null,
    });
    expect(r.finalized_at).not.toBeNull();
    const ev = await events(r.id);
    expect(ev.map((e) => e.kind)).toEqual(["created", "api1_call", "status_change"]);
    expect(ev[1]?.data).toMatchObject({ outcome: "failed", reason });
    expect(ev[2]?.data).toEqual({ from: "pending", to: "failed", cause: "api1" });

    // the client sees the client-safe message, never the admin reason
    const view = await x.portal.get(`/api/portal/deposits/${body.orderNo}`);
    expect(view.json()).toMatchObject({ status: "failed", failure, paymentUrl: null, underReview: false });
    expect(view.body).not.toContain("http_status");
    expect(view.body).not.toContain("result_false");
    expect(view.body).not.toContain("crm-pay-token");
    expect(body.error.message ?? "").not.toContain("crm-pay-token");
  });

  it("a timeout fails the order; retrying with the same key returns that order and never calls API-1 again", async () => {
    const x = await setup({ api1TimeoutMs: 1000, respond: () => ({ hang: true }) });
    const started = Date.now();
    const res = await deposit(x, {}, "retry-after-timeout");
    expect(Date.now() - started).toBeLessThan(8000);
    expect(res.statusCode, res.body).toBe(502);
    const { orderNo } = res.json();
    const r = await row(orderNo);
    expect(r).toMatchObject({
      status: "failed",
      failure_reason: "timeout",
      failure_message: PROVIDER_UNAVAILABLE_MESSAGE,
    });
    const ev = await events(r.id);
    expect(ev[1]?.data).toMatchObject({
      outcome: "failed",
      reason: "timeout",
      httpStatus: null,
      response: null,
    });
    expect((ev[1]?.data as { latencyMs: number } | undefined)?.latencyMs).toBeGreaterThanOrEqual(900);

    const again = await deposit(x, {}, "retry-after-timeout");
    expect(again.statusCode).toBe(502);
    expect(again.json()).toMatchObject({ orderNo, status: "failed", replayed: true });
    expect(x.stub.requests).toHaveLength(1);
    const count = await t.ctx.db
      .selectFrom("deposits")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("client_id", "=", x.clientId)
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(1);
  });

  it("blocks a host name resolving to 127.0.0.1 when loopback is not allowed (checked at connect time)", async () => {
    const x = await setup();
    await t.ctx.db
      .updateTable("psp_integrations")
      .set({ app_url: `http://tenant-backend.example:${x.stub.port}` })
      .where("id", "=", x.integrationId)
      .execute();
    const resolved: string[] = [];
    const httpOut = createGuardedClient({
      allowPrivate: false,
      lookup: async (host) => {
        resolved.push(host);
        return [{ address: "127.0.0.1", family: 4 }];
      },
    });
    try {
      const view = await createDeposit(
        { ...t.ctx, httpOut },
        { kind: "client", tenantId: tenant.tenantId, clientId: x.clientId },
        { methodId: x.methodId, currency: "USD", amount: "50" },
      );
      expect(view).toMatchObject({ status: "failed", error: { reason: "api1_unavailable", message: null } });
      expect(resolved).toEqual(["tenant-backend.example"]);
      expect(x.stub.requests).toHaveLength(0);
      const r = await row(view.orderNo);
      expect(r.failure_reason).toMatch(/^blocked_address: /);
    } finally {
      await httpOut.close();
    }
  });

  it("blocks an IP-literal APP_URL on loopback when private addresses are not allowed", async () => {
    const x = await setup();
    const httpOut = createGuardedClient({ allowPrivate: false });
    try {
      const view = await createDeposit(
        { ...t.ctx, httpOut },
        { kind: "client", tenantId: tenant.tenantId, clientId: x.clientId },
        { methodId: x.methodId, currency: "USD", amount: "50" },
      );
      expect(view.status).toBe("failed");
      expect(x.stub.requests).toHaveLength(0);
      expect((await row(view.orderNo)).failure_reason).toMatch(/^blocked_address: 127\.0\.0\.1/);
    } finally {
      await httpOut.close();
    }
  });

  it("a connection refused fails the order", async () => {
    const x = await setup();
    await x.stub.close();
    stubs.splice(stubs.indexOf(x.stub), 1);
    const res = await deposit(x, {});
    expect(res.statusCode).toBe(502);
    expect((await row(res.json().orderNo)).failure_reason).toBe("connection_refused");
  });
});

describe("idempotency keys", () => {
  it("same key and content → the same order, one API-1 call; different content → 409", async () => {
    const x = await setup();
    const a = await deposit(x, { amount: "20" }, "key-1");
    expect(a.statusCode).toBe(201);
    const b = await deposit(x, { amount: "20" }, "key-1");
    expect(b.statusCode).toBe(200);
    expect(b.json()).toEqual({ ...a.json(), replayed: true });
    expect(x.stub.requests).toHaveLength(1);

    const c = await deposit(x, { amount: "21" }, "key-1");
    expect(c.statusCode).toBe(409);
    expect(c.json().error.code).toBe("idempotency_key_reused");
    expect(x.stub.requests).toHaveLength(1);

    // keys are per client: another key is another order
    const d = await deposit(x, { amount: "20" }, "key-2");
    expect(d.statusCode).toBe(201);
    expect(d.json().orderNo).not.toBe(a.json().orderNo);
  });

  it("20 concurrent requests with one key create one order and never answer 500", async () => {
    const x = await setup();
    const results = await Promise.all(
      Array.from({ length: 20 }, () => deposit(x, { amount: "30" }, "concurrent-key")),
    );
    const statuses = results.map((r) => r.statusCode);
    expect(
      statuses.every((s) => s === 200 || s === 201),
      statuses.join(","),
    ).toBe(true);
    expect(new Set(results.map((r) => r.json().orderNo)).size).toBe(1);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(x.stub.requests).toHaveLength(1);
    const rows = await t.ctx.db
      .selectFrom("deposits")
      .select("id")
      .where("client_id", "=", x.clientId)
      .execute();
    expect(rows).toHaveLength(1);
    expect(t.logs.join("")).not.toMatch(/UNIQUE constraint|duplicate key value/);
  });

  it("refuses an over-long key", async () => {
    const x = await setup();
    const res = await deposit(x, {}, "k".repeat(101));
    expect(res.statusCode).toBe(400);
  });
});

describe("validation", () => {
  let x: Setup;
  beforeAll(async () => {
    x = await setup({
      customParams: [
        { key: "bank", label: "Bank", type: "select", required: true, options: ["abc", "xyz"], order: 1 },
        { key: "note", label: "Note", type: "text", required: false, order: 2 },
      ],
    });
  });
  const issuesOf = async (body: Record<string, unknown>) => {
    const res = await deposit(x, { fields: { bank: "abc" }, ...body });
    expect(res.statusCode, res.body).toBe(400);
    return res.json().error.issues as { path: string; message: string }[];
  };

  it.each([
    ["below the minimum", { amount: "9.99" }, "amount", "The minimum amount is 10.00 USD"],
    ["above the maximum", { amount: "5000.01" }, "amount", "The maximum amount is 5000.00 USD"],
    ["too many decimals", { amount: "10.001" }, "amount", "USD amounts may have at most 2 decimals"],
    ["not a number", { amount: "ten" }, "body.amount", PLAIN_DECIMAL_MESSAGE],
    ["exponent notation", { amount: "1e2" }, "body.amount", PLAIN_DECIMAL_MESSAGE],
    ["thousands separators", { amount: "1,000.00" }, "body.amount", PLAIN_DECIMAL_MESSAGE],
    ["a decimal comma", { amount: "25,50" }, "body.amount", PLAIN_DECIMAL_MESSAGE],
    ["a sign", { amount: "+10" }, "body.amount", PLAIN_DECIMAL_MESSAGE],
    ["spaces", { amount: " 10" }, "body.amount", PLAIN_DECIMAL_MESSAGE],
    [
      "a currency the method does not take",
      { currency: "EUR" },
      "currency",
      "EUR is not accepted by this method (accepted: USD)",
    ],
    ["a missing required field", { fields: {} }, "fields.bank", "Bank is required"],
    ["a bad select value", { fields: { bank: "nope" } }, "fields.bank", "Bank must be one of: abc, xyz"],
    [
      "an unknown field",
      { fields: { bank: "abc", extra: "1" } },
      "fields.extra",
      "is not a field of this deposit method",
    ],
    [
      "a text too long",
      { fields: { bank: "abc", note: "n".repeat(201) } },
      "fields.note",
      "Note must be at most 200 characters",
    ],
  ])("%s → 400 on %s", async (_name, body, path, message) => {
    expect(await issuesOf(body)).toEqual([
      { path: expect.stringMatching(new RegExp(`^${path.replace(".", "\\.")}$`)), message },
    ]);
    expect(x.stub.requests).toHaveLength(0);
  });

  it("refuses a number amount (floats never touch money)", async () => {
    const res = await deposit(x, { amount: 100.1, fields: { bank: "abc" } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.issues[0].path).toBe("body.amount");
  });

  it("a method invisible to the client's group, soft-deleted, or of another tenant → 404", async () => {
    await t.ctx.db
      .updateTable("deposit_methods")
      .set({ visibility: "groups", client_groups: '["vip"]' })
      .where("id", "=", x.methodId)
      .execute();
    expect((await deposit(x, { fields: { bank: "abc" } })).statusCode).toBe(404);
    await t.ctx.db.updateTable("clients").set({ client_group: "vip" }).where("id", "=", x.clientId).execute();
    expect((await deposit(x, { fields: { bank: "abc" } })).statusCode).toBe(201);
    await t.ctx.db.updateTable("clients").set({ client_group: null }).where("id", "=", x.clientId).execute();
    await t.ctx.db
      .updateTable("deposit_methods")
      .set({ visibility: "all", client_groups: "[]" })
      .where("id", "=", x.methodId)
      .execute();

    const gone = await setup();
    await t.ctx.db
      .updateTable("deposit_methods")
      .set({ deleted_at: Date.now() })
      .where("id", "=", gone.methodId)
      .execute();
    expect((await deposit(gone, {})).statusCode).toBe(404);

    const other = await seedTenant(t);
    const foreign = await insertPaymentSetup(t.ctx, other.tenantId, { appUrl: x.stub.url });
    const res = await deposit(x, { methodId: foreign.methodId });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe("not_found");
  });

  it("a disabled method or integration → 400 on methodId", async () => {
    const d = await setup({ enabled: false });
    const r1 = await deposit(d, {});
    expect(r1.statusCode).toBe(400);
    expect(r1.json().error.issues).toEqual([{ path: "methodId", message: expect.any(String) }]);
    const m = await setup();
    await t.ctx.db.updateTable("deposit_methods").set({ enabled: 0 }).where("id", "=", m.methodId).execute();
    expect((await deposit(m, {})).json().error.issues[0].path).toBe("methodId");
    expect(d.stub.requests.length + m.stub.requests.length).toBe(0);
  });
});

describe("transactions and races around the API-1 call", () => {
  it("holds no database transaction during the call: another request writes meanwhile", async () => {
    const x = await setup();
    const first = await deposit(x, { amount: "40" });
    expect(first.statusCode).toBe(201);

    const held = x.stub.hold();
    const pending = deposit(x, { amount: "41" });
    const arrived = await held.arrived;
    try {
      // The order is committed and visible while the tenant backend has not answered yet.
      const mid = await x.portal.get("/api/portal/deposits");
      expect(mid.json().items[0]).toMatchObject({ amount: "41.00", status: "pending", paymentUrl: null });
      // A write from another request completes while API-1 is in flight.
      const cancel = await x.portal.post(`/api/portal/deposits/${first.json().orderNo}/cancel`);
      expect(cancel.statusCode, cancel.body).toBe(200);
      expect(cancel.json().status).toBe("cancelled");
      expect(arrived.json?.amount).toBe(41);
    } finally {
      held.release();
    }
    const res = await pending;
    expect(res.statusCode).toBe(201);
  });

  it("a callback that raced ahead is never overwritten by the API-1 outcome", async () => {
    const x = await setup({ respond: () => ({ status: 500, body: "late failure" }) });
    const held = x.stub.hold();
    const pending = deposit(x, {});
    const arrived = await held.arrived;
    const orderNo = String(arrived.json?.order_no);
    await t.ctx.db
      .updateTable("deposits")
      .set({ status: "succeeded", finalized_at: Date.now() })
      .where("order_no", "=", orderNo)
      .execute();
    held.release();
    const res = await pending;
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ orderNo, status: "succeeded", error: null });
    const r = await row(orderNo);
    expect(r).toMatchObject({ status: "succeeded", failure_reason: null });
    const ev = await events(r.id);
    expect(ev.map((e) => e.kind)).toEqual(["created", "api1_call"]);

    // and a success answer for an order a callback moved to processing keeps the status, stores the URL
    x.stub.respond = successAnswer;
    const held2 = x.stub.hold();
    const pending2 = deposit(x, { amount: "11" });
    const arrived2 = await held2.arrived;
    await t.ctx.db
      .updateTable("deposits")
      .set({ status: "processing" })
      .where("order_no", "=", String(arrived2.json?.order_no))
      .execute();
    held2.release();
    const res2 = await pending2;
    expect(res2.json()).toMatchObject({ status: "processing", paymentUrl: expect.stringMatching(/^https:/) });
  });
});

describe("secrets", () => {
  it("never stores or logs the token", async () => {
    const x = await setup();
    await deposit(x, {});
    x.stub.respond = () => ({ status: 200, body: JSON.stringify({ result: false, msg: "no" }) });
    await deposit(x, {});
    x.stub.respond = () => ({ status: 500, body: "x" });
    await deposit(x, {});
    expect(x.stub.requests.every((r) => r.headers["crm-pay-token"] === x.token)).toBe(true);

    const evs = await t.ctx.db.selectFrom("deposit_events").selectAll().execute();
    const deps = await t.ctx.db.selectFrom("deposits").selectAll().execute();
    const audit = await t.ctx.db.selectFrom("audit_log").selectAll().execute();
    const stored = JSON.stringify([evs, deps, audit]);
    expect(evs.length).toBeGreaterThan(0);
    expect(stored).not.toContain(x.token);
    expect(t.logs.length).toBeGreaterThan(0);
    expect(t.logs.join("\n")).not.toContain(x.token);
    // every api1_call keeps the signature it sent
    expect(evs.filter((e) => e.kind === "api1_call").every((e) => JSON.parse(e.data).request.sign)).toBe(
      true,
    );
  });
});

describe("a disabled client", () => {
  it("gets no new deposit, not even from staff, and the tenant backend is never called", async () => {
    const s = await setup();
    expect((await tenant.owner.post(`/api/admin/clients/${s.clientId}/disable`)).statusCode).toBe(200);
    const res = await tenant.owner.post("/api/admin/deposits", {
      clientId: s.clientId,
      methodId: s.methodId,
      currency: "USD",
      amount: "100.10",
    });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe("client_disabled");
    expect(s.stub.requests).toHaveLength(0);
    const orders = await t.ctx.db
      .selectFrom("deposits")
      .select("id")
      .where("client_id", "=", s.clientId)
      .execute();
    expect(orders).toEqual([]);
  });
});
