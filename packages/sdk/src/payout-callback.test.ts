import type { ServerResponse } from "node:http";
import {
  callbackErrorBody,
  parseCallback,
  parseFlatJson,
  parsePayoutCallback,
  verify,
} from "@psphub/protocol";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import vectorsFile from "../../protocol/test-fixtures/signature-vectors.json" with { type: "json" };
import type { AttemptInfo } from "./callback-sender.js";
import { SdkError } from "./errors.js";
import {
  buildPayoutCallback,
  encodePayoutCallback,
  type PayoutCallback,
  payoutCallbackEndpoint,
  sendPayoutCallback,
} from "./payout-callback.js";
import { freePort, listen, readText, TOKEN } from "./test-support.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const api5 = vectorsFile.vectors.find((v) => v.name === "api5-sample")!;

const CALLBACK: PayoutCallback = {
  merchantId: "m1",
  payoutNo: "p0bhyp3lqm1x",
  amount: "95.50",
  currency: "USD",
  status: 1,
  transactionId: "po-1",
};

describe("encodePayoutCallback", () => {
  it("signs the api5-sample exactly (the same fields, signed in any order)", () => {
    const encoded = encodePayoutCallback(
      {
        merchantId: "f23eb3a856284d0a87913e33ed581852",
        payoutNo: "p0bhyp3lqm1x",
        transactionId: "po-98765434567876",
        amount: "95.5",
        currency: "USD",
        time: 1731696481203,
        status: 1,
        userId: "ewem9cab",
      },
      api5.token,
    );
    expect(encoded.stringA).toBe(api5.string_a);
    expect(encoded.sign).toBe(api5.sign);
    expect(verify(encoded.body, api5.token)).toBe(true);
  });

  it("writes payout_no (never order_no) and the amount's text as its literal", () => {
    const { body } = encodePayoutCallback({ ...CALLBACK, time: 1 }, TOKEN);
    expect(body).toBe(
      `{"merchant_id":"m1","payout_no":"p0bhyp3lqm1x","transaction_id":"po-1","amount":95.50,"currency":"USD","time":1,"status":1,"sign":"${encodePayoutCallback({ ...CALLBACK, time: 1 }, TOKEN).sign}"}`,
    );
    const { params, literals } = parseFlatJson(body);
    expect(parsePayoutCallback(params, literals)).toMatchObject({
      ok: true,
      callback: { amountText: "95.50" },
    });
    expect(parseCallback(params, literals).ok).toBe(false);
  });

  it("refuses what it cannot send", () => {
    for (const bad of [
      { ...CALLBACK, payoutNo: "" },
      { ...CALLBACK, amount: "95,50" },
      { ...CALLBACK, amount: "-1" },
      { ...CALLBACK, status: 3 },
      { ...CALLBACK, time: 1.5 },
      { ...CALLBACK, merchantId: "" },
    ]) {
      expect(() => encodePayoutCallback(bad as PayoutCallback, TOKEN), JSON.stringify(bad)).toThrow(SdkError);
    }
    expect(() => encodePayoutCallback(null as never, TOKEN)).toThrow(SdkError);
  });

  it("round-trips any payout callback through the CRM's parser and verify (property)", () => {
    fc.assert(
      fc.property(
        fc.record({
          payoutNo: fc.stringMatching(/^[0-9a-z]{12}$/),
          amount: fc.stringMatching(/^(0|[1-9][0-9]{0,9})(\.[0-9]{1,2})?$/),
          status: fc.constantFrom(0 as const, 1 as const, 2 as const),
          time: fc.integer({ min: 0, max: 4_102_444_800_000 }),
          transactionId: fc.option(fc.string({ unit: "grapheme", minLength: 1, maxLength: 10 }), {
            nil: undefined,
          }),
        }),
        (c) => {
          const { body } = encodePayoutCallback({ ...CALLBACK, ...c }, TOKEN);
          expect(verify(body, TOKEN)).toBe(true);
          const { params, literals } = parseFlatJson(body);
          const parsed = parsePayoutCallback(params, literals);
          expect(parsed.ok && parsed.callback).toMatchObject({
            orderNo: c.payoutNo,
            amountText: c.amount,
            status: c.status,
            time: c.time,
          });
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("buildPayoutCallback", () => {
  const payout = { merchantId: "m1", payoutNo: "p1", amount: "95.5", currency: "USD", userId: "u1" };

  it("reports the payout's own amount for each outcome", () => {
    expect(buildPayoutCallback(payout, "success")).toEqual({ ...payout, status: 1 });
    expect(buildPayoutCallback(payout, "failed").status).toBe(0);
    expect(buildPayoutCallback(payout, { status: "processing", transactionId: "po-1", time: 5 })).toEqual({
      ...payout,
      status: 2,
      transactionId: "po-1",
      time: 5,
    });
    expect(() => buildPayoutCallback(payout, "paid" as never)).toThrow(/unknown outcome/);
  });
});

describe("payoutCallbackEndpoint", () => {
  it("appends /payout/callback to CRM_Callback_URL, keeps a full endpoint, replaces the API-2 one", () => {
    expect(payoutCallbackEndpoint("https://crm.example.com/api/psp")).toBe(
      "https://crm.example.com/api/psp/payout/callback",
    );
    expect(payoutCallbackEndpoint("https://crm.example.com/api/psp/")).toBe(
      "https://crm.example.com/api/psp/payout/callback",
    );
    expect(payoutCallbackEndpoint("http://127.0.0.1:3000/api/psp/payout/callback")).toBe(
      "http://127.0.0.1:3000/api/psp/payout/callback",
    );
    expect(payoutCallbackEndpoint("http://127.0.0.1:3000/api/psp/pay/callback")).toBe(
      "http://127.0.0.1:3000/api/psp/payout/callback",
    );
    for (const bad of ["/api/psp", "ftp://x/api", "https://u:p@x/api", "https://x/api?q=1"])
      expect(() => payoutCallbackEndpoint(bad), bad).toThrow(
        expect.objectContaining({ code: "invalid_url" }),
      );
  });
});

type Answer = (res: ServerResponse) => void;
const noContent: Answer = (res) => res.writeHead(204).end();
const apiError =
  (type: Parameters<typeof callbackErrorBody>[0], detail?: string): Answer =>
  (res) =>
    res
      .writeHead(callbackErrorBody(type).code, { "content-type": "application/json" })
      .end(JSON.stringify(callbackErrorBody(type, detail)));

/** A fake CRM: API-5 on /api/psp/payout/callback, checked with the protocol, answers from a script. */
async function fakeCrm(script: Answer[]) {
  const received: Array<{ url: string; body: string }> = [];
  const server = await listen(async (req, res) => {
    const body = await readText(req);
    received.push({ url: req.url ?? "", body });
    const { params, literals } = parseFlatJson(body);
    const ok =
      req.url === "/api/psp/payout/callback" &&
      req.headers["crm-pay-token"] === TOKEN &&
      parsePayoutCallback(params, literals).ok &&
      verify(body, TOKEN);
    if (!ok) return apiError("psp_token_invalid")(res);
    (script.shift() ?? noContent)(res);
  });
  cleanups.push(server.close);
  return { callbackUrl: `${server.url}/api/psp`, received };
}

const fast = { baseMs: 5, maxMs: 20 };

describe("sendPayoutCallback", () => {
  it("posts the signed API-5 body to {CRM_Callback_URL}/payout/callback: done on 204", async () => {
    const crm = await fakeCrm([]);
    const result = await sendPayoutCallback({
      callbackUrl: crm.callbackUrl,
      token: TOKEN,
      callback: CALLBACK,
    });
    expect(result).toMatchObject({
      kind: "done",
      status: 204,
      attempts: 1,
      url: `${crm.callbackUrl}/payout/callback`,
    });
    expect(crm.received).toHaveLength(1);
    expect(crm.received[0]!.body).toContain('"payout_no":"p0bhyp3lqm1x"');
  });

  it("retries 5xx with the same body, as sendCallback does", async () => {
    const crm = await fakeCrm([apiError("internal_error"), (res) => res.writeHead(503).end()]);
    const attempts: AttemptInfo[] = [];
    const result = await sendPayoutCallback({
      callbackUrl: crm.callbackUrl,
      token: TOKEN,
      callback: CALLBACK,
      retry: fast,
      onAttempt: (a) => attempts.push(a),
    });
    expect(result).toMatchObject({ kind: "done", attempts: 3 });
    expect(new Set(crm.received.map((r) => r.body)).size).toBe(1);
    expect(attempts.map((a) => a.status)).toEqual([500, 503, 204]);
  });

  it("stops on other 4xx with the CRM's type and detail, and calls a final conflict done_conflicting", async () => {
    const crm = await fakeCrm([
      apiError("payment_amount_not_allowed", "`amount` `95.4` differs from the payout's 95.50"),
      apiError("payment_status_not_pending"),
      apiError("payment_status_not_pending"),
    ]);
    const rejected = await sendPayoutCallback({
      callbackUrl: crm.callbackUrl,
      token: TOKEN,
      callback: CALLBACK,
      retry: fast,
    });
    expect(rejected).toMatchObject({
      kind: "rejected",
      status: 400,
      type: "payment_amount_not_allowed",
      detail: "`amount` `95.4` differs from the payout's 95.50",
      attempts: 1,
    });
    const conflict = await sendPayoutCallback({
      callbackUrl: crm.callbackUrl,
      token: TOKEN,
      callback: CALLBACK,
    });
    expect(conflict).toMatchObject({ kind: "done_conflicting", type: "payment_status_not_pending" });
    const processing = await sendPayoutCallback({
      callbackUrl: crm.callbackUrl,
      token: TOKEN,
      callback: { ...CALLBACK, status: 2 },
    });
    expect(processing).toMatchObject({ kind: "rejected", type: "payment_status_not_pending" });
  });

  it("gives up on connection errors at the deadline", async () => {
    const port = await freePort();
    const result = await sendPayoutCallback({
      callbackUrl: `http://127.0.0.1:${port}/api/psp`,
      token: TOKEN,
      callback: CALLBACK,
      deadlineMs: 100,
      retry: fast,
    });
    expect(result.kind).toBe("gave_up");
    expect(result.attempts).toBeGreaterThan(1);
  });
});
