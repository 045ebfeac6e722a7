import type { ServerResponse } from "node:http";
import { callbackErrorBody, parseCallback, parseFlatJson, verify } from "@psphub/protocol";
import { afterEach, describe, expect, it } from "vitest";
import type { Callback } from "./callback.js";
import { type AttemptInfo, sendCallback } from "./callback-sender.js";
import { freePort, listen, readText, TOKEN } from "./test-support.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const CALLBACK: Callback = {
  merchantId: "m1",
  orderNo: "o1",
  amount: "100.10",
  currency: "USD",
  status: 1,
  transactionId: "tx-1",
};

type Answer = (res: ServerResponse) => void;
const noContent: Answer = (res) => res.writeHead(204).end();
const status =
  (code: number): Answer =>
  (res) =>
    res.writeHead(code).end();
const apiError =
  (type: Parameters<typeof callbackErrorBody>[0]): Answer =>
  (res) =>
    res
      .writeHead(callbackErrorBody(type).code, { "content-type": "application/json" })
      .end(JSON.stringify(callbackErrorBody(type)));

/**
 * A fake CRM on loopback: checks the path, the header token, the signature (with the protocol's
 * verify over the raw body) and the body's shape, records each body, and answers from a script.
 */
async function fakeCrm(script: Answer[]) {
  const received: string[] = [];
  const server = await listen(async (req, res) => {
    const body = await readText(req);
    received.push(body);
    const { params, literals } = parseFlatJson(body);
    const ok =
      req.method === "POST" &&
      req.url === "/api/psp/pay/callback" &&
      req.headers["crm-pay-token"] === TOKEN &&
      req.headers["content-type"] === "application/json" &&
      parseCallback(params, literals).ok &&
      verify(body, TOKEN);
    if (!ok) return apiError("psp_token_invalid")(res);
    (script.shift() ?? noContent)(res);
  });
  cleanups.push(server.close);
  return { callbackUrl: `${server.url}/api/psp`, received };
}

const fast = { baseMs: 5, maxMs: 20 };

describe("sendCallback against a fake CRM on loopback", () => {
  it("is done on 204 after one attempt, with a signed body the CRM verifies", async () => {
    const crm = await fakeCrm([noContent]);
    const result = await sendCallback({ callbackUrl: crm.callbackUrl, token: TOKEN, callback: CALLBACK });
    expect(result).toMatchObject({ kind: "done", status: 204, attempts: 1 });
    expect(result.url).toBe(`${crm.callbackUrl}/pay/callback`);
    expect(crm.received).toEqual([result.body]);
    expect(result.body).toContain('"amount":100.10,');
  });

  it("retries 5xx with the same body until the CRM accepts", async () => {
    const crm = await fakeCrm([status(503), status(500), noContent]);
    const attempts: AttemptInfo[] = [];
    const result = await sendCallback({
      callbackUrl: crm.callbackUrl,
      token: TOKEN,
      callback: CALLBACK,
      retry: fast,
      onAttempt: (a) => attempts.push(a),
    });
    expect(result).toMatchObject({ kind: "done", attempts: 3 });
    expect(new Set(crm.received).size).toBe(1);
    expect(attempts.map((a) => a.status)).toEqual([503, 500, 204]);
    expect(attempts[0]!.nextDelayMs).toBeGreaterThanOrEqual(0);
  });

  it("treats payment_status_not_pending to a final status as done but conflicting", async () => {
    const crm = await fakeCrm([apiError("payment_status_not_pending")]);
    const result = await sendCallback({ callbackUrl: crm.callbackUrl, token: TOKEN, callback: CALLBACK });
    expect(result).toMatchObject({
      kind: "done_conflicting",
      type: "payment_status_not_pending",
      attempts: 1,
    });
  });

  it("rejects payment_status_not_pending to a processing status", async () => {
    const crm = await fakeCrm([apiError("payment_status_not_pending")]);
    const result = await sendCallback({
      callbackUrl: crm.callbackUrl,
      token: TOKEN,
      callback: { ...CALLBACK, status: 2 },
    });
    expect(result).toMatchObject({ kind: "rejected", status: 400, type: "payment_status_not_pending" });
  });

  it("never retries other 4xx answers, and reports the type", async () => {
    for (const type of ["payment_amount_not_allowed", "payment_not_found", "request_too_large"] as const) {
      const crm = await fakeCrm([apiError(type), noContent]);
      const result = await sendCallback({
        callbackUrl: crm.callbackUrl,
        token: TOKEN,
        callback: CALLBACK,
        retry: fast,
      });
      expect(result).toMatchObject({ kind: "rejected", type, attempts: 1 });
      expect(crm.received).toHaveLength(1);
    }
  });

  it("refuses a wrong token as the CRM would (psp_token_invalid, not retried)", async () => {
    const crm = await fakeCrm([]);
    const result = await sendCallback({ callbackUrl: crm.callbackUrl, token: "wrong", callback: CALLBACK });
    expect(result).toMatchObject({ kind: "rejected", status: 400, type: "psp_token_invalid", attempts: 1 });
    expect(result.kind === "rejected" && JSON.parse(result.response)).toEqual(
      callbackErrorBody("psp_token_invalid"),
    );
  });

  it("gives the CRM's reason in words when the answer has a detail", async () => {
    const body = callbackErrorBody("psp_token_invalid", "header crm-pay-token is missing");
    const crm = await fakeCrm([
      (res) => res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify(body)),
    ]);
    const attempts: unknown[] = [];
    const result = await sendCallback({
      callbackUrl: crm.callbackUrl,
      token: TOKEN,
      callback: CALLBACK,
      onAttempt: (a) => attempts.push(a),
    });
    expect(result).toMatchObject({
      kind: "rejected",
      type: "psp_token_invalid",
      detail: "header crm-pay-token is missing",
    });
    expect(attempts).toEqual([
      { attempt: 1, status: 400, type: "psp_token_invalid", detail: "header crm-pay-token is missing" },
    ]);
  });

  it("does not follow redirects", async () => {
    const crm = await fakeCrm([(res) => res.writeHead(307, { location: "http://127.0.0.1:1/x" }).end()]);
    const result = await sendCallback({ callbackUrl: crm.callbackUrl, token: TOKEN, callback: CALLBACK });
    expect(result).toMatchObject({ kind: "rejected", status: 307, attempts: 1 });
  });

  it("sends once with deadline 0 and gives up on a 5xx", async () => {
    const crm = await fakeCrm([status(502), noContent]);
    const result = await sendCallback({
      callbackUrl: crm.callbackUrl,
      token: TOKEN,
      callback: CALLBACK,
      deadlineMs: 0,
    });
    expect(result).toMatchObject({ kind: "gave_up", attempts: 1, lastStatus: 502, lastError: "HTTP 502" });
  });

  it("retries connection errors until the deadline, then gives up", async () => {
    const port = await freePort();
    const started = Date.now();
    const result = await sendCallback({
      callbackUrl: `http://127.0.0.1:${port}/api/psp`,
      token: TOKEN,
      callback: CALLBACK,
      deadlineMs: 300,
      retry: { baseMs: 20, maxMs: 50 },
    });
    expect(result.kind).toBe("gave_up");
    expect(result.attempts).toBeGreaterThan(2);
    expect(result.kind === "gave_up" && result.lastError).toMatch(/ECONNREFUSED|fetch failed/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("gives up on an attempt that takes longer than attemptTimeoutMs", async () => {
    const server = await listen(() => {}); // never answers
    cleanups.push(server.close);
    const result = await sendCallback({
      callbackUrl: `${server.url}/api/psp`,
      token: TOKEN,
      callback: CALLBACK,
      deadlineMs: 0,
      attemptTimeoutMs: 100,
    });
    expect(result).toMatchObject({ kind: "gave_up", attempts: 1, lastError: "timed out" });
  });

  it("stops when its signal aborts", async () => {
    const port = await freePort();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const result = await sendCallback({
      callbackUrl: `http://127.0.0.1:${port}/api/psp`,
      token: TOKEN,
      callback: CALLBACK,
      deadlineMs: 60_000,
      retry: { baseMs: 1000, maxMs: 1000, jitter: false },
      signal: controller.signal,
    });
    expect(result).toMatchObject({ kind: "gave_up", lastError: "aborted" });
  });
});

describe("sendCallback backoff", () => {
  const failing = (failures: number) => {
    let calls = 0;
    return {
      fetch: (async () => {
        calls++;
        if (calls <= failures) throw new TypeError("fetch failed");
        return new Response(null, { status: 204 });
      }) as typeof fetch,
      calls: () => calls,
    };
  };

  it("doubles the step up to maxMs without jitter", async () => {
    const f = failing(5);
    const delays: number[] = [];
    const result = await sendCallback({
      callbackUrl: "http://crm.test/api/psp",
      token: TOKEN,
      callback: CALLBACK,
      retry: { baseMs: 2, maxMs: 10, jitter: false },
      fetch: f.fetch,
      onAttempt: (a) => a.nextDelayMs !== undefined && delays.push(a.nextDelayMs),
    });
    expect(result).toMatchObject({ kind: "done", attempts: 6 });
    expect(delays).toEqual([2, 4, 8, 10, 10]);
  });

  it("draws each delay uniformly below the step with full jitter", async () => {
    const f = failing(3);
    const delays: number[] = [];
    const draws = [0.5, 0, 0.99];
    await sendCallback({
      callbackUrl: "http://crm.test/api/psp",
      token: TOKEN,
      callback: CALLBACK,
      retry: { baseMs: 4, maxMs: 100 },
      random: () => draws.shift() ?? 0,
      fetch: f.fetch,
      onAttempt: (a) => a.nextDelayMs !== undefined && delays.push(a.nextDelayMs),
    });
    expect(delays).toEqual([2, 0, 15]);
  });

  it("throws for options that cannot work", async () => {
    const base = { callbackUrl: "http://crm.test/api/psp", token: TOKEN, callback: CALLBACK };
    await expect(sendCallback({ ...base, callbackUrl: "crm.test" })).rejects.toThrow(/absolute URL/);
    await expect(sendCallback({ ...base, deadlineMs: -1 })).rejects.toThrow(/deadlineMs/);
    await expect(sendCallback({ ...base, callback: { ...CALLBACK, amount: "ten" } })).rejects.toThrow(
      /amount/,
    );
  });
});
