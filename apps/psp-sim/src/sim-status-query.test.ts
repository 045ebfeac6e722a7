import {
  parseCallback,
  parseFlatJson,
  parseStatusAnswer,
  STATUS_QUERY_PATH,
  type StatusAnswer,
  signStatusQuery,
  verify,
} from "@psphub/protocol";
import { afterEach, describe, expect, it } from "vitest";
import type { RunningSim } from "./sim-server.js";
import { closeAll, MERCHANT, setup, TOKEN } from "./test-support.js";

afterEach(closeAll);

/** The CRM's status query (API-3) on loopback, read with the protocol's own reader. */
async function query(
  sim: RunningSim,
  orderNo: string,
  opts: { token?: string; merchantId?: string; signal?: AbortSignal } = {},
): Promise<{ status: number; text: string; answer: StatusAnswer }> {
  const token = opts.token ?? TOKEN;
  const res = await fetch(`${sim.url}${STATUS_QUERY_PATH}`, {
    method: "POST",
    headers: { "content-type": "application/json", "crm-pay-token": token },
    body: JSON.stringify(
      signStatusQuery({ merchantId: opts.merchantId ?? MERCHANT, orderNo, time: Date.now() }, token),
    ),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const text = await res.text();
  return { status: res.status, text, answer: parseStatusAnswer(text) };
}

/** The verified data of a found answer, parsed as the CRM parses a callback. */
function data(answer: StatusAnswer, token = TOKEN) {
  if (answer.kind !== "found") throw new Error(`expected found, got ${JSON.stringify(answer)}`);
  expect(verify(answer.dataText, token)).toBe(true);
  const { params, literals } = parseFlatJson(answer.dataText);
  const parsed = parseCallback(params, literals);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.callback;
}

describe("psp-sim answers status queries (API-3) from its own state", () => {
  it("answers open (2) before the payment, then what the payment page did, with the callback's facts", async () => {
    const { sim, api1, press, callbacks } = await setup();
    const order = await api1({ amount: 100.1 });
    expect(data((await query(sim, order.orderNo)).answer)).toMatchObject({
      merchantId: MERCHANT,
      orderNo: order.orderNo,
      status: 2,
      amountText: "100.1",
      currency: "USD",
      userId: "u1",
    });

    await press(order.url, "success");
    const sent = callbacks()[0]!;
    expect(sent.answer).toBe(204);
    const paid = data((await query(sim, order.orderNo)).answer);
    expect(paid.status).toBe(1);
    // The same facts as the callback: time, transaction id, amount.
    expect(sent.parsed.ok && sent.parsed.callback).toMatchObject({
      time: paid.time,
      transactionId: paid.transactionId,
      amountText: paid.amountText,
    });

    const declined = await api1();
    await press(declined.url, "fail");
    expect(data((await query(sim, declined.orderNo)).answer).status).toBe(0);

    const other = await api1();
    await press(other.url, "amount", { amount: "99.50" });
    expect(data((await query(sim, other.orderNo)).answer)).toMatchObject({ status: 1, amountText: "99.50" });
  });

  it("answers order_not_found for an unknown order or another merchant's, and 401 for a wrong token", async () => {
    const { sim, api1 } = await setup();
    const order = await api1();
    expect((await query(sim, "never-seen")).answer).toEqual({ kind: "not_found", msg: "order not found" });
    expect((await query(sim, order.orderNo, { merchantId: "another-merchant" })).answer.kind).toBe(
      "not_found",
    );
    const forged = await query(sim, order.orderNo, { token: "not-the-token" });
    expect(forged.status).toBe(401);
    expect(forged.answer).toEqual({ kind: "invalid", reason: "result is false: invalid crm-pay-token" });
  });
});

describe("psp-sim modes", () => {
  it("lost_callback: the Pay button sends nothing, and only the status query tells the CRM", async () => {
    const { sim, api1, press, events, crm, logs } = await setup({ modes: ["lost_callback"] });
    const order = await api1();
    const page = await (await fetch(order.url)).text();
    expect(page).toContain("Mode lost_callback");
    const result = await press(order.url, "success");
    expect(result.html).toContain("the lost_callback mode drops every callback");
    const processing = await api1();
    await press(processing.url, "processing", { seconds: "0" });

    expect(crm.received).toEqual([]);
    expect((await events(order.url)).map((e) => e.state)).toEqual(["lost"]);
    expect(logs.join("\n")).toContain("not sent (mode lost_callback)");
    expect(data((await query(sim, order.orderNo)).answer)).toMatchObject({ status: 1, amountText: "162.48" });
    expect(crm.received).toEqual([]);
  });

  it("not_found: every query answers order_not_found, even for a known order", async () => {
    const { sim, api1 } = await setup({ modes: ["not_found"] });
    const order = await api1();
    expect((await query(sim, order.orderNo)).answer.kind).toBe("not_found");
  });

  it("slow: the answer comes after slowMs, so a shorter timeout fails and a longer one gets it", async () => {
    const { sim, api1, logs } = await setup({ modes: ["slow"], slowMs: 400 });
    const order = await api1();
    await expect(query(sim, order.orderNo, { signal: AbortSignal.timeout(50) })).rejects.toThrow();
    const answered = await query(sim, order.orderNo);
    expect(data(answered.answer).status).toBe(2);
    expect(logs.join("\n")).toContain("answering in 400 ms (mode slow)");
  });

  it("garbage: the answer is not JSON, a failed query", async () => {
    const { sim, api1 } = await setup({ modes: ["garbage"] });
    const order = await api1();
    const r = await query(sim, order.orderNo);
    expect(r.status).toBe(200);
    expect(r.answer).toEqual({ kind: "invalid", reason: "the answer is not JSON" });
  });

  it("bad_sign: the data is a well-formed API-2 body whose sign does not verify", async () => {
    const { sim, api1 } = await setup({ modes: ["bad_sign"] });
    const order = await api1();
    const { answer } = await query(sim, order.orderNo);
    if (answer.kind !== "found") throw new Error("expected found");
    const { params, literals } = parseFlatJson(answer.dataText);
    expect(parseCallback(params, literals).ok).toBe(true);
    expect(params.sign).toMatch(/^[0-9A-F]{40}$/);
    expect(verify(answer.dataText, TOKEN)).toBe(false);
  });

  it("per integration: an integration's own modes replace the simulator's", async () => {
    const lossy = {
      merchantId: "lossy-merchant",
      token: "lossy-token-0123456789",
      modes: ["lost_callback" as const],
    };
    const { sim, api1, press, crm } = await setup(
      {
        token: undefined,
        modes: ["not_found"],
        integrations: [lossy, { merchantId: MERCHANT, token: TOKEN }],
      },
      { [MERCHANT]: TOKEN, [lossy.merchantId]: lossy.token },
    );
    const lost = await api1({ merchant_id: lossy.merchantId }, { token: lossy.token });
    await press(lost.url, "success");
    expect(crm.received).toEqual([]);
    expect(
      data(
        (await query(sim, lost.orderNo, { token: lossy.token, merchantId: lossy.merchantId })).answer,
        lossy.token,
      ).status,
    ).toBe(1);

    const plain = await api1();
    expect((await query(sim, plain.orderNo)).answer.kind).toBe("not_found");
    await press(plain.url, "success");
    expect(crm.received.map((r) => r.answer)).toEqual([204]);
  });

  it("refuses unknown modes and two answer modes at once", async () => {
    await expect(setup({ modes: ["often" as never] })).rejects.toThrow(/unknown mode "often"/);
    await expect(setup({ modes: ["garbage", "not_found"] })).rejects.toThrow(/at most one of/);
  });
});
