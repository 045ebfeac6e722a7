import { signPayoutCallback } from "@psphub/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { startCrmEmulator } from "./certify-crm-emulator.js";

// The command line's CRM: API-2 callbacks keyed by order_no, API-5 (POST …/payout/callback) by
// payout_no, both into the run's inbox (docs/certify.md#payouts).
const TOKEN = "emulator-token-0123456789abcdef";
const crm = await startCrmEmulator({ port: 0, host: "127.0.0.1", token: TOKEN, now: Date.now });
afterAll(() => crm.close());

const post = (path: string, body: unknown, token = TOKEN) =>
  fetch(`${crm.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "crm-pay-token": token },
    body: JSON.stringify(body),
  });

const payout = (payoutNo: string) =>
  signPayoutCallback(
    { merchantId: "m1", payoutNo, amount: 10.5, currency: "USD", status: 1, time: Date.now() },
    TOKEN,
  );

describe("the CRM emulator", () => {
  it("routes an API-5 callback on /payout/callback to the test payout named by payout_no", async () => {
    await crm.inbox.expect({ orderNo: "p0bhyp3lqm1x", script: "accept", amountMinor: 1050n });
    const res = await post("/api/psp/payout/callback", payout("p0bhyp3lqm1x"));
    expect(res.status).toBe(204);
    const calls = await crm.inbox.received("p0bhyp3lqm1x");
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ token: "current", answer: { status: 204, body: "" } });
    expect(calls[0]!.rawBody).toContain('"payout_no":"p0bhyp3lqm1x"');
  });

  it("answers payment_not_found to an API-5 on /pay/callback, or one naming order_no, and keeps neither", async () => {
    await crm.inbox.expect({ orderNo: "p0bhyp3lqm1y", script: "accept", amountMinor: 1050n });
    const wrongPath = await post("/api/psp/pay/callback", payout("p0bhyp3lqm1y"));
    expect(wrongPath.status).toBe(400);
    expect(await wrongPath.json()).toMatchObject({ type: "payment_not_found" });
    const { payout_no: _p, ...rest } = payout("p0bhyp3lqm1y");
    const orderNo = await post("/api/psp/payout/callback", { ...rest, order_no: "p0bhyp3lqm1y" });
    expect(orderNo.status).toBe(400);
    expect(await crm.inbox.received("p0bhyp3lqm1y")).toEqual([]);
  });

  it("keeps a payout callback with a wrong token, answered psp_token_invalid, for the case to judge", async () => {
    await crm.inbox.expect({ orderNo: "p0bhyp3lqm1z", script: "accept", amountMinor: 1050n });
    const res = await post("/api/psp/payout/callback/", payout("p0bhyp3lqm1z"), "wrong");
    expect(res.status).toBe(400);
    expect(await crm.inbox.received("p0bhyp3lqm1z")).toMatchObject([
      { token: "none", answer: { status: 400 } },
    ]);
  });
});
