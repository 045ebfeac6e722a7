import { parseAmount } from "@psphub/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertPaymentSetup, type PaymentFixture } from "../../server/src/test/payment-fixtures.js";
import { paymentInvariantsAfterEach } from "../../server/src/test/payment-invariants.js";
import {
  createTestApp,
  loginClient,
  type Session,
  seedTenant,
  type TestApp,
} from "../../server/src/test/test-app.js";
import { type RunningSim, startSim } from "./sim-server.js";

// The SDK against the real server over loopback: the CRM calls the simulator's API-1 (the SDK
// handler, with renamed keys and a custom parameter), and the simulator's buttons send API-2
// callbacks with the SDK sender to the CRM's /api/psp/pay/callback. Runs on SQLite and PostgreSQL.

let t: TestApp;
let sim: RunningSim;
let fx: PaymentFixture;
let portal: Session;
let crmUrl: string;

beforeAll(async () => {
  t = await createTestApp({ configOverrides: { allowPrivateAppUrls: true, allowHttpPaymentUrls: true } });
  await t.app.listen({ port: 0, host: "127.0.0.1" });
  crmUrl = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
  const tenant = await seedTenant(t);
  const paramConfig = {
    merchant_id: { key: "merchant_id", enabled: true },
    order_no: { key: "orderId", enabled: true },
    amount: { key: "amount", enabled: true },
    currency: { key: "currency", enabled: true },
    user_id: { key: "user_id", enabled: true },
    user_name: { key: "user_name", enabled: true },
    email: { key: "email", enabled: false },
    phone: { key: "phone", enabled: true },
    nationality: { key: "nationality", enabled: true },
    language: { key: "lang", enabled: true },
    device: { key: "device", enabled: true },
  };
  fx = await insertPaymentSetup(t.ctx, tenant.tenantId, {
    appUrl: "http://127.0.0.1:1",
    paramConfig,
    customParams: [{ key: "custom_1", label: "Bank", type: "text", required: true, order: 1 }],
  });
  sim = await startSim({
    port: 0,
    callbackUrl: `${crmUrl}/api/psp`,
    token: fx.token,
    paramConfig: { order_no: { key: "orderId" }, email: { enabled: false }, language: { key: "lang" } },
    customKeys: ["custom_1"],
    log: () => {},
  });
  await t.ctx.db
    .updateTable("psp_integrations")
    .set({ app_url: sim.url })
    .where("id", "=", fx.integrationId)
    .execute();
  portal = await loginClient(t.app, tenant.slug, fx.clientEmail, fx.clientPassword);
}, 60_000);

afterAll(async () => {
  await sim?.close();
  await t?.close();
});
paymentInvariantsAfterEach(() => t?.ctx);

async function deposit(amount: string) {
  const res = await portal.inject({
    method: "POST",
    url: "/api/portal/deposits",
    payload: { methodId: fx.methodId, currency: "USD", amount, fields: { custom_1: "HSBC" } },
  });
  expect(res.statusCode).toBe(201);
  return res.json() as { orderNo: string; status: string; paymentUrl: string };
}

async function press(pageUrl: string, action: string, fields: Record<string, string> = {}) {
  const page = new URL(pageUrl);
  const res = await fetch(new URL(`${page.pathname}/action`, page), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ key: page.searchParams.get("key")!, action, ...fields }),
  });
  return res.text();
}

const order = async (orderNo: string) =>
  (await portal.inject({ method: "GET", url: `/api/portal/deposits/${orderNo}` })).json() as {
    status: string;
    credit: string;
  };
const usdBalance = async () => {
  const wallets = (await portal.inject({ method: "GET", url: "/api/portal/wallets" })).json() as {
    items: Array<{ currency: string; balance: string }>;
  };
  return parseAmount(wallets.items.find((w) => w.currency === "USD")?.balance ?? "0", 2);
};
const minor = (text: string) => parseAmount(text, 2);

describe("psp-sim (SDK) with the real server over loopback", () => {
  it("gets a payment page through API-1 with the integration's keys and custom parameter", async () => {
    const d = await deposit("100.10");
    expect(d.status).toBe("pending");
    expect(d.paymentUrl.startsWith(`${sim.url}/pay/page/${d.orderNo}?key=`)).toBe(true);
    const simOrder = sim.sim.orders.get(d.orderNo)!;
    expect(simOrder.request).toMatchObject({
      merchantId: fx.merchantId,
      orderNo: d.orderNo,
      amount: "100.1",
      amountMinor: 10010n,
      currency: "USD",
      language: "en-us",
      custom: { custom_1: "HSBC" },
    });
    expect(simOrder.request.email).toBeUndefined();
    const page = await (await fetch(d.paymentUrl)).text();
    expect(page).toContain("Pay 100.10 USD");
  });

  it("credits once when the success callback is sent twice", async () => {
    const before = await usdBalance();
    const d = await deposit("50.00");
    const html = await press(d.paymentUrl, "twice");
    expect(html.match(/the CRM answered accepted \(HTTP 204\)/g)).toHaveLength(2);
    const o = await order(d.orderNo);
    expect(o.status).toBe("succeeded");
    expect(minor(o.credit)).toBeGreaterThan(0n);
    expect((await usdBalance()) - before).toBe(minor(o.credit));
    expect(await press(d.paymentUrl, "success")).toContain("accepted (HTTP 204)");
    expect((await usdBalance()) - before).toBe(minor(o.credit));
  });

  it("fails on decline and answers a later success with a conflict the SDK reports", async () => {
    const before = await usdBalance();
    const d = await deposit("20.00");
    expect(await press(d.paymentUrl, "fail")).toContain("accepted (HTTP 204)");
    expect((await order(d.orderNo)).status).toBe("failed");
    expect(await press(d.paymentUrl, "success")).toContain("conflict: payment_status_not_pending");
    expect(await usdBalance()).toBe(before);
  });

  it("moves to processing, and refuses a different amount under the exact policy", async () => {
    const d = await deposit("30.00");
    expect(await press(d.paymentUrl, "processing", { seconds: "3600" })).toContain("accepted (HTTP 204)");
    expect((await order(d.orderNo)).status).toBe("processing");
    expect(await press(d.paymentUrl, "amount", { amount: "29.99" })).toContain(
      "rejected: HTTP 400 payment_amount_not_allowed",
    );
    expect(await press(d.paymentUrl, "success")).toContain("accepted (HTTP 204)");
    expect((await order(d.orderNo)).status).toBe("succeeded");
  });
});
