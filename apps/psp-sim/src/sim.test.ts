import { defaultApi1ParamConfig } from "@psphub/protocol/admin";
import { afterEach, describe, expect, it } from "vitest";
import { createSim, type SimIntegration, startSim } from "./sim-server.js";
import { closeAll, eventually, MERCHANT, setup, TOKEN } from "./test-support.js";

afterEach(closeAll);

describe("psp-sim API-1", () => {
  it("answers a signed request with a payment page URL on itself", async () => {
    const { sim, api1 } = await setup();
    const r = await api1();
    expect(r.status).toBe(200);
    expect(r.json.result).toBe(true);
    expect(r.url).toMatch(new RegExp(`^${sim.url}/pay/page/ord-1\\?key=[0-9a-f]{32}$`));
  });

  it("answers the same URL when asked again for the same order, and refuses a changed one", async () => {
    const { api1 } = await setup();
    const first = await api1({ order_no: "same" });
    expect((await api1({ order_no: "same" })).url).toBe(first.url);
    const changed = await api1({ order_no: "same", amount: 1 });
    expect(changed.json).toEqual({
      data: null,
      result: false,
      msg: "order_no already used for a different payment",
    });
  });

  it("refuses a wrong token with 401 and logs why", async () => {
    const { api1, logs } = await setup();
    const r = await api1({}, { token: "not-the-token" });
    expect(r.status).toBe(401);
    expect(logs.join("\n")).toContain("token_invalid");
    expect(logs.join("\n")).not.toContain(TOKEN);
  });

  it("accepts the previous token during a rotation", async () => {
    const { api1 } = await setup({ token: TOKEN, previousToken: "old-token" });
    expect((await api1({}, { token: "old-token" })).status).toBe(200);
  });

  it("reads renamed keys and custom parameters from its parameter config", async () => {
    const config = defaultApi1ParamConfig();
    config.order_no = { key: "orderId", enabled: true };
    config.amount = { key: "amt", enabled: true };
    const { api1, sim } = await setup({
      paramConfig: { order_no: { key: "orderId" }, amount: { key: "amt" } },
      customKeys: ["custom_1"],
    });
    const r = await api1({ order_no: "renamed" }, { config, custom: { custom_1: "HSBC" } });
    expect(r.status).toBe(200);
    const order = sim.sim.orders.get("renamed")!;
    expect(order.request).toMatchObject({
      amount: "162.48",
      amountMinor: 16248n,
      custom: { custom_1: "HSBC" },
    });
    expect(await (await fetch(r.url)).text()).toContain("HSBC");
  });
});

describe("psp-sim payment page", () => {
  it("shows the order with every outcome button, escaped, under a strict CSP", async () => {
    const { api1 } = await setup();
    const r = await api1({ user_name: '<script>alert("x")</script>' });
    const res = await fetch(r.url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    const html = await res.text();
    expect(html).toContain("Pay 162.48 USD");
    expect(html).not.toContain("<script");
    expect(html).toContain("&#60;script&#62;");
    for (const action of ["success", "fail", "processing", "amount", "twice", "late"]) {
      expect(html).toContain(`name="action" value="${action}"`);
    }
    const css = await fetch(new URL("/static/sim.css", r.url));
    expect(css.headers.get("content-type")).toContain("text/css");
  });

  it("hides the page without the right key", async () => {
    const { api1, sim } = await setup();
    const r = await api1();
    const page = new URL(r.url);
    expect((await fetch(`${sim.url}${page.pathname}`)).status).toBe(404);
    expect((await fetch(`${sim.url}${page.pathname}?key=${"0".repeat(32)}`)).status).toBe(404);
    expect((await fetch(`${sim.url}/pay/page/unknown?key=x`)).status).toBe(404);
    const forged = await fetch(`${sim.url}${page.pathname}/action`, {
      method: "POST",
      body: new URLSearchParams({ key: "wrong", action: "success" }),
    });
    expect(forged.status).toBe(404);
  });

  it("Pay sends a signed success callback the CRM accepts, and shows the answer", async () => {
    const { api1, press, callbacks, crm } = await setup();
    const r = await api1();
    const result = await press(r.url, "success");
    expect(result.status).toBe(200);
    expect(result.html).toContain("the CRM answered accepted (HTTP 204)");
    const [cb] = callbacks();
    expect(cb!.answer).toBe(204);
    expect(cb!.body).toContain('"amount":162.48,');
    expect(cb!.parsed.ok && cb!.parsed.callback).toMatchObject({
      merchantId: MERCHANT,
      orderNo: r.orderNo,
      amountText: "162.48",
      currency: "USD",
      status: 1,
      userId: "u1",
    });
    expect(crm.orders.get(r.orderNo)!.status).toBe("succeeded");
  });

  it("Decline sends status 0", async () => {
    const { api1, press, crm } = await setup();
    const r = await api1();
    expect((await press(r.url, "fail")).html).toContain("Decline</strong>: the CRM answered accepted");
    expect(crm.orders.get(r.orderNo)!.status).toBe("failed");
  });

  it("sends the success callback twice with the same body; the CRM accepts both", async () => {
    const { api1, press, callbacks } = await setup();
    const r = await api1();
    const result = await press(r.url, "twice");
    expect(result.html.match(/the CRM answered accepted/g)).toHaveLength(2);
    const sent = callbacks();
    expect(sent).toHaveLength(2);
    expect(sent[0]!.body).toBe(sent[1]!.body);
  });

  it("shows a conflict when a success follows a decline", async () => {
    const { api1, press, events } = await setup();
    const r = await api1();
    await press(r.url, "fail");
    const result = await press(r.url, "success");
    expect(result.html).toContain("conflict: payment_status_not_pending");
    expect((await events(r.url)).map((e) => (e.result as { kind: string }).kind)).toEqual([
      "done",
      "done_conflicting",
    ]);
  });

  it("pays a different amount (the CRM refuses it) and explains an amount it cannot send", async () => {
    const { api1, press, callbacks } = await setup();
    const r = await api1();
    const other = await press(r.url, "amount", { amount: "100.00" });
    expect(other.html).toContain("rejected: HTTP 400 payment_amount_not_allowed");
    expect(callbacks()[0]!.body).toContain('"amount":100.00,');
    const bad = await press(r.url, "amount", { amount: "12,50" });
    expect(bad.html).toContain("not sent: amount must be a non-negative decimal number");
    expect(callbacks()).toHaveLength(1);
  });

  it("sends processing now and success after the chosen delay", async () => {
    const { api1, press, events, crm } = await setup();
    const r = await api1();
    const result = await press(r.url, "processing", { seconds: "1" });
    expect(result.html).toContain("Processing</strong>: the CRM answered accepted");
    expect(result.html).toContain("scheduled for");
    expect(crm.orders.get(r.orderNo)!.status).toBe("processing");
    await eventually(async () => (await events(r.url))[1]!.state === "sent");
    const list = await events(r.url);
    expect(list.map((e) => [e.status, e.state])).toEqual([
      [2, "sent"],
      [1, "sent"],
    ]);
    expect(crm.orders.get(r.orderNo)!.status).toBe("succeeded");
  });

  it("sends a late success after the chosen delay", async () => {
    const { api1, press, events, callbacks } = await setup();
    const r = await api1();
    const result = await press(r.url, "late", { seconds: "1" });
    expect(result.html).toContain("Late success (1 s)</strong>: scheduled for");
    expect(callbacks()).toHaveLength(0);
    expect((await events(r.url))[0]!.state).toBe("scheduled");
    await eventually(async () => (await events(r.url))[0]!.state === "sent");
    expect(callbacks()).toHaveLength(1);
  });

  it("refuses bad delays and unknown actions with 400", async () => {
    const { api1, press } = await setup();
    const r = await api1();
    expect((await press(r.url, "late", { seconds: "-1" })).status).toBe(400);
    expect((await press(r.url, "processing", { seconds: "99999" })).status).toBe(400);
    expect((await press(r.url, "refund")).status).toBe(400);
  });

  it("shows that the CRM could not be reached", async () => {
    const { api1, press } = await setup({ callbackUrl: "http://127.0.0.1:9/api/psp", callbackDeadlineMs: 0 });
    const r = await api1();
    expect((await press(r.url, "success")).html).toMatch(/no answer: .*(ECONNREFUSED|fetch failed)/);
  });

  it("cancels scheduled callbacks when closed", async () => {
    const { api1, press, sim, callbacks } = await setup();
    const r = await api1();
    await press(r.url, "late", { seconds: "1" });
    await sim.close();
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(callbacks()).toHaveLength(0);
    expect(sim.sim.orders.get(r.orderNo)!.events[0]!.error).toContain("cancelled");
  });
});

describe("psp-sim service", () => {
  it("answers /healthz, its home page, 404 and 405", async () => {
    const { sim } = await setup();
    expect(await (await fetch(`${sim.url}/healthz`)).json()).toEqual({ status: "ok", orders: 0, payouts: 0 });
    const home = await (await fetch(`${sim.url}/`)).text();
    expect(home).toContain(`POST ${sim.url}/pay/url`);
    expect(home).not.toContain(TOKEN);
    expect((await fetch(`${sim.url}/nope`)).status).toBe(404);
    expect((await fetch(`${sim.url}/pay/url`)).status).toBe(405);
  });

  it("uses the configured public URL in payment page links", async () => {
    const { api1 } = await setup({ publicUrl: "https://sim.example.com/" });
    expect((await api1()).url).toMatch(/^https:\/\/sim\.example\.com\/pay\/page\/ord-1\?key=/);
  });

  it("fails to start on a port in use", async () => {
    const { sim } = await setup();
    await expect(
      startSim({ port: sim.port, callbackUrl: "http://127.0.0.1:1/api/psp", token: TOKEN }),
    ).rejects.toThrow(/EADDRINUSE/);
  });
});

describe("psp-sim serving several integrations", () => {
  const SECOND = "m-second-0123456789abcdef0123456";
  const renamed = defaultApi1ParamConfig();
  renamed.order_no = { key: "orderId", enabled: true };

  it("serves each integration by its token and keys, learns new ones, and signs with each one's token", async () => {
    const crmTokens: Record<string, string> = {
      [MERCHANT]: TOKEN,
      [SECOND]: "second-token-abcdef0123456789",
    };
    const known: SimIntegration[] = [{ merchantId: MERCHANT, token: TOKEN }];
    const { api1, press, crm, logs } = await setup(
      { token: undefined, integrations: async () => known },
      crmTokens,
    );
    const asSecond = { token: crmTokens[SECOND]!, config: renamed };

    // Not known yet: refused the way a wrong token is, and the log says why.
    const early = await api1({ merchant_id: SECOND }, asSecond);
    expect(early.status).toBe(401);
    expect(early.json.msg).toBe("invalid crm-pay-token");
    expect(logs.join("\n")).toContain("no integration of the 1 this simulator serves has that token");

    // Created meanwhile: the next request finds it, with its own keys (order_no renamed).
    known.push({
      merchantId: SECOND,
      token: crmTokens[SECOND]!,
      paramConfig: { order_no: { key: "orderId" } },
    });
    const second = await api1({ merchant_id: SECOND, order_no: "second-1" }, asSecond);
    expect(second.status).toBe(200);
    const first = await api1({ order_no: "first-1" });
    expect(first.status).toBe(200);

    // A token names its integration: another merchant_id with it is refused.
    const crossed = await api1({ merchant_id: MERCHANT, order_no: "crossed" }, asSecond);
    expect(crossed.json).toMatchObject({ result: false, msg: "merchant_id does not match the token" });

    // Each callback is signed with its own integration's token (the CRM checks both).
    expect((await press(second.url, "success")).html).toContain("accepted");
    expect((await press(first.url, "success")).html).toContain("accepted");
    expect(crm.received.map((r) => r.answer)).toEqual([204, 204]);
    expect(crm.orders.get("second-1")?.status).toBe("succeeded");
    expect(crm.orders.get("first-1")?.status).toBe("succeeded");

    // The token rotated after API-1: the callback is signed with the integration's token now.
    const later = await api1({ merchant_id: SECOND, order_no: "second-2" }, asSecond);
    crmTokens[SECOND] = "rotated-token-abcdef0123456789";
    known[1] = { ...known[1]!, token: crmTokens[SECOND]! };
    expect((await press(later.url, "success")).html).toContain("accepted");
    expect(crm.orders.get("second-2")?.status).toBe("succeeded");
    expect(logs.join("\n")).not.toContain(TOKEN);
  });

  it("needs a token or integrations", () => {
    expect(() => createSim({ callbackUrl: "http://127.0.0.1:1/api/psp" })).toThrow(
      "give token or integrations",
    );
  });
});
