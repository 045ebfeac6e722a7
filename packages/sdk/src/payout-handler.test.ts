import {
  isPayoutRequestKey,
  PAYOUT_REQUEST_PATH,
  parsePayoutRequestAnswer,
  sign,
  signPayoutRequest,
} from "@psphub/protocol";
import fc from "fast-check";
import Fastify from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import vectorsFile from "../../protocol/test-fixtures/signature-vectors.json" with { type: "json" };
import { api1FastifyPlugin, toFetchHandler, toNodeHandler } from "./adapters.js";
import { SdkError } from "./errors.js";
import {
  createPayoutRequestHandler,
  oncePerPayout,
  type PayoutAnswer,
  type PayoutRejection,
  type PayoutRequest,
  type PayoutRequestHandlerOptions,
} from "./payout-handler.js";
import { payoutTestHookSteps } from "./test-hooks.js";
import { listen, TOKEN, withSign } from "./test-support.js";

const MERCHANT = "0123456789abcdef0123456789abcdef";
const NOW = 1_700_000_000_000;

const PAYOUT = {
  merchantId: MERCHANT,
  payoutNo: "p0bhyp3lqm1x",
  amountMinor: 9550n,
  decimals: 2,
  currency: "USD",
  userId: "ewem9cab",
  fields: { iban: "DE89370400440532013000" } as Record<string, string>,
  time: NOW,
};

/** The CRM's API-4 request, signed by the protocol's own signer. */
const request = (
  over: Partial<typeof PAYOUT> = {},
  opts: { token?: string; header?: string | null; test?: boolean } = {},
) => ({
  headers: {
    ...(opts.header === null ? {} : { "crm-pay-token": opts.header ?? opts.token ?? TOKEN }),
    ...(opts.test ? { "x-psphub-test": "1" } : {}),
  },
  rawBody: JSON.stringify(signPayoutRequest({ ...PAYOUT, ...over }, opts.token ?? TOKEN)),
});

function handlerWith(
  answer: (req: PayoutRequest) => PayoutAnswer | Promise<PayoutAnswer> = (req) => ({
    accepted: true,
    transactionId: `po-${req.payoutNo}`,
  }),
  overrides: Partial<PayoutRequestHandlerOptions> = {},
) {
  const requests: PayoutRequest[] = [];
  const rejections: PayoutRejection[] = [];
  const errors: unknown[] = [];
  const handler = createPayoutRequestHandler({
    token: TOKEN,
    onPayout(req) {
      requests.push(req);
      return answer(req);
    },
    onReject: (r) => rejections.push(r),
    onError: (e) => errors.push(e),
    now: () => NOW,
    ...overrides,
  });
  return { handler, requests, rejections, errors };
}

const json = (body: string) => JSON.parse(body) as Record<string, unknown>;

describe("createPayoutRequestHandler: answers", () => {
  it("hands onPayout the typed request and answers result true with the transaction_id", async () => {
    const { handler, requests } = handlerWith();
    const out = await handler.handle(request());
    expect(out.status).toBe(200);
    expect(out.headers["content-type"]).toContain("application/json");
    expect(json(out.body)).toEqual({ result: true, msg: "ok", data: { transaction_id: "po-p0bhyp3lqm1x" } });
    expect(parsePayoutRequestAnswer(json(out.body))).toEqual({
      kind: "accepted",
      transactionId: "po-p0bhyp3lqm1x",
      msg: "ok",
    });
    expect(requests).toEqual([
      expect.objectContaining({
        merchantId: MERCHANT,
        payoutNo: "p0bhyp3lqm1x",
        amount: "95.5",
        amountMinor: 9550n,
        exponent: 2,
        currency: "USD",
        userId: "ewem9cab",
        time: NOW,
        fields: { iban: "DE89370400440532013000" },
        tokenIndex: 0,
        test: false,
      }),
    ]);
  });

  it("serves the api4-sample vector", async () => {
    const v = vectorsFile.vectors.find((x) => x.name === "api4-sample")!;
    const { handler, requests } = handlerWith();
    const out = await handler.handle({ headers: { "crm-pay-token": v.token }, rawBody: v.body });
    expect(out.status).toBe(200);
    expect(requests[0]).toMatchObject({
      payoutNo: "p0bhyp3lqm1x",
      amount: "95.5",
      fields: { iban: "DE89370400440532013000" },
    });
  });

  it("answers without data.transaction_id when none is given, and the message given", async () => {
    const { handler } = handlerWith(() => ({ accepted: true, msg: "queued" }));
    const out = await handler.handle(request());
    expect(json(out.body)).toEqual({ result: true, msg: "queued", data: {} });
    expect(parsePayoutRequestAnswer(json(out.body))).toEqual({ kind: "accepted", msg: "queued" });
  });

  it("answers a refusal with 200 and result false, which the CRM reads as refused", async () => {
    const { handler } = handlerWith(() => ({ accepted: false, msg: "account closed" }));
    const out = await handler.handle(request());
    expect(out.status).toBe(200);
    expect(json(out.body)).toEqual({
      result: false,
      msg: "account closed",
      data: { code: "payout_refused" },
    });
    expect(parsePayoutRequestAnswer(json(out.body))).toEqual({ kind: "refused", msg: "account closed" });
    const { handler: quiet } = handlerWith(() => ({ accepted: false, msg: "" }));
    expect(json((await quiet.handle(request())).body).msg).toBe("payout refused");
  });

  it("marks a test payout of psphub certify and keeps the amount's literal", async () => {
    const { handler, requests } = handlerWith();
    await handler.handle(request({ amountMinor: 10000n }, { test: true }));
    expect(requests[0]).toMatchObject({ test: true, amount: "100", amountMinor: 10000n });
    expect(payoutTestHookSteps(requests[0]!)).toEqual([{ status: "success", afterMs: 0, paidAmount: "100" }]);
    await handler.handle(request());
    expect(payoutTestHookSteps(requests[1]!)).toEqual([]);
  });

  it("accepts the previous token during a rotation and asks a token function with the merchant", async () => {
    const asked: Array<string | undefined> = [];
    const { handler, requests } = handlerWith(undefined, {
      token: undefined,
      tokens: (merchantId) => {
        asked.push(merchantId);
        return merchantId === MERCHANT ? ["new-token", TOKEN] : [];
      },
    });
    expect((await handler.handle(request())).status).toBe(200);
    expect(requests[0]!.tokenIndex).toBe(1);
    expect(asked).toEqual([MERCHANT]);
    expect((await handler.handle(request({ merchantId: "other" }))).status).toBe(401);
  });

  it("gives the client's fields as text, numbers as written, and never API-4's own keys (property)", async () => {
    const { handler, requests } = handlerWith();
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(
          fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/).filter((k) => !isPayoutRequestKey(k)),
          fc.oneof(fc.string({ unit: "grapheme", maxLength: 12 }), fc.integer().map(String)),
          { maxKeys: 5 },
        ),
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        async (fields, amountMinor) => {
          requests.length = 0;
          const out = await handler.handle(request({ fields, amountMinor }));
          expect(out.status).toBe(200);
          const got = requests[0]!;
          expect(got.amountMinor).toBe(amountMinor);
          const expected = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== ""));
          expect({ ...got.fields }).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("createPayoutRequestHandler: refusals", () => {
  it("refuses a missing or wrong token, and a sign over other values, with 401: the CRM retries", async () => {
    const { handler, requests, rejections } = handlerWith();
    for (const [input, reason] of [
      [request({}, { header: null }), "token_invalid"],
      [request({}, { header: "wrong" }), "token_invalid"],
      [request({}, { token: "another-token", header: TOKEN }), "sign_invalid"],
    ] as const) {
      const out = await handler.handle(input);
      expect(out.status).toBe(401);
      // Not 200 and no `result`: the outcome is unknown (the CRM asks again), never a refusal.
      expect(json(out.body)).toEqual({ msg: expect.any(String), data: { code: reason } });
      expect(parsePayoutRequestAnswer(json(out.body)).kind).toBe("invalid");
    }
    // A body changed after signing.
    const tampered = request().rawBody.replace('"amount":95.5', '"amount":9550');
    expect((await handler.handle({ headers: { "crm-pay-token": TOKEN }, rawBody: tampered })).status).toBe(
      401,
    );
    expect(requests).toEqual([]);
    expect(rejections.map((r) => r.reason)).toEqual([
      "token_invalid",
      "token_invalid",
      "sign_invalid",
      "sign_invalid",
    ]);
    expect(rejections[2]!.stringA).toContain("payout_no=p0bhyp3lqm1x");
    expect(JSON.stringify(rejections)).not.toContain(TOKEN);
  });

  it("answers 400 for malformed bodies and fields, 413 for an oversized one", async () => {
    const { handler, requests } = handlerWith(undefined, { maxBodyBytes: 1024 });
    const signed = (params: Record<string, unknown>) =>
      JSON.stringify({ ...params, sign: sign(params as never, TOKEN) });
    const base = {
      merchant_id: MERCHANT,
      payout_no: "p1",
      amount: 1,
      currency: "USD",
      user_id: "u",
      time: NOW,
    };
    const cases: Array<[string, string]> = [
      ["not json", "malformed_body"],
      [signed({ ...base, payout_no: undefined }), "missing_field"],
      [signed({ ...base, amount: "1.00" }), "bad_field"],
      [signed({ ...base, amount: 1.001 }), "bad_field"],
      [signed({ ...base, amount: -1 }), "bad_field"],
      [signed({ ...base, time: 1.5 }), "bad_field"],
      [signed({ ...base, time: undefined }), "missing_field"],
      [signed({ ...base, currency: 7 }), "bad_field"],
      [signed({ ...base, user_id: 7 }), "bad_field"],
    ];
    for (const [rawBody, reason] of cases) {
      const out = await handler.handle({ headers: { "crm-pay-token": TOKEN }, rawBody });
      expect(out.status, rawBody).toBe(400);
      expect(json(out.body).data, rawBody).toEqual({ code: reason });
    }
    const withoutUser = await handler.handle({
      headers: { "crm-pay-token": TOKEN },
      rawBody: signed({ ...base, user_id: undefined }),
    });
    expect(withoutUser.status).toBe(200);
    const big = withSign(`{"merchant_id":"${MERCHANT}","x":"${"y".repeat(2000)}"}`, "0".repeat(40));
    const tooLarge = await handler.handle({ headers: { "crm-pay-token": TOKEN }, rawBody: big });
    expect(tooLarge.status).toBe(413);
    expect(requests.map((r) => r.payoutNo)).toEqual(["p1"]);
  });

  it("with maxClockSkewMs, refuses a request whose time is too far from the clock", async () => {
    const { handler } = handlerWith(undefined, { maxClockSkewMs: 60_000 });
    expect((await handler.handle(request({ time: NOW - 30_000 }))).status).toBe(200);
    const stale = await handler.handle(request({ time: NOW - 120_000 }));
    expect(stale.status).toBe(401);
    expect(json(stale.body).data).toEqual({ code: "stale_time" });
  });

  it("answers 500 when onPayout throws or answers what cannot be sent", async () => {
    for (const answer of [
      () => {
        throw new Error("bank down");
      },
      () => ({ accepted: "yes" }),
      () => null,
      () => ({ accepted: true, transactionId: "x".repeat(129) }),
      () => ({ accepted: true, transactionId: 42 }),
      () => ({ accepted: false, msg: 7 }),
    ]) {
      const { handler, errors } = handlerWith(answer as never);
      const out = await handler.handle(request());
      expect(out.status).toBe(500);
      expect(json(out.body)).toEqual({ msg: "internal error", data: { code: "internal_error" } });
      expect(parsePayoutRequestAnswer(json(out.body)).kind).toBe("invalid");
      expect(errors).toHaveLength(1);
    }
  });

  it("refuses unusable options", () => {
    const onPayout = () => ({ accepted: true }) as const;
    expect(() => createPayoutRequestHandler(undefined as never)).toThrow(SdkError);
    expect(() => createPayoutRequestHandler({ onPayout })).toThrow(/token or tokens/);
    expect(() => createPayoutRequestHandler({ token: TOKEN } as never)).toThrow(/onPayout/);
    expect(() => createPayoutRequestHandler({ token: TOKEN, onPayout, maxClockSkewMs: -1 })).toThrow(
      /maxClockSkewMs/,
    );
    expect(() => createPayoutRequestHandler({ token: TOKEN, onPayout, maxBodyBytes: 0 })).toThrow(
      /maxBodyBytes/,
    );
  });
});

describe("oncePerPayout: idempotent by payout_no", () => {
  it("runs onPayout once per payout; a repeat, even concurrent, gets the first answer", async () => {
    let runs = 0;
    const { handler } = handlerWith(
      oncePerPayout(async (req) => {
        runs++;
        await new Promise((r) => setTimeout(r, 20));
        return { accepted: true, transactionId: `po-${runs}-${req.payoutNo}` };
      }),
    );
    const [a, b] = await Promise.all([handler.handle(request()), handler.handle(request())]);
    const later = await handler.handle(request({ time: NOW + 60_000 }));
    for (const out of [a, b, later])
      expect(json(out!.body)).toEqual({
        result: true,
        msg: "ok",
        data: { transaction_id: "po-1-p0bhyp3lqm1x" },
      });
    expect(runs).toBe(1);
    // Another payout, and the same payout_no of another merchant, run again.
    await handler.handle(request({ payoutNo: "p0bhyp3lqm1y" }));
    await handler.handle(request({ merchantId: "another-merchant" }));
    expect(runs).toBe(3);
  });

  it("throws payout_conflict (a 500) for a repeat with another amount or currency", async () => {
    const { handler, errors } = handlerWith(oncePerPayout(() => ({ accepted: true, transactionId: "po-1" })));
    expect((await handler.handle(request())).status).toBe(200);
    for (const over of [{ amountMinor: 9551n }, { currency: "EUR" }]) {
      const out = await handler.handle(request(over));
      expect(out.status).toBe(500);
    }
    expect(errors.map((e) => (e as SdkError).code)).toEqual(["payout_conflict", "payout_conflict"]);
  });

  it("remembers refusals, forgets throws (the CRM's retry runs it again), and keeps at most maxEntries", async () => {
    let calls = 0;
    const once = oncePerPayout(
      (req) => {
        calls++;
        if (req.payoutNo === "boom" && calls === 1) throw new Error("down");
        return req.payoutNo === "no" ? { accepted: false, msg: "closed" } : { accepted: true };
      },
      { maxEntries: 2 },
    );
    const { handler } = handlerWith(once);
    expect((await handler.handle(request({ payoutNo: "boom" }))).status).toBe(500);
    expect((await handler.handle(request({ payoutNo: "boom" }))).status).toBe(200);
    expect(calls).toBe(2);
    await handler.handle(request({ payoutNo: "no" }));
    expect(json((await handler.handle(request({ payoutNo: "no" }))).body).result).toBe(false);
    expect(calls).toBe(3);
    // "boom" is the oldest of three: forgotten, so it runs again.
    await handler.handle(request({ payoutNo: "third" }));
    await handler.handle(request({ payoutNo: "boom" }));
    expect(calls).toBe(5);
    expect(() => oncePerPayout(undefined as never)).toThrow(SdkError);
  });
});

describe("the payout handler through the adapters, on loopback", () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!();
  });

  it("serves node:http, fetch-style and Fastify (mounted on /payout/request by default)", async () => {
    const { handler } = handlerWith();
    const node = toNodeHandler(handler);
    const nodeServer = await listen((req, res) => void node(req, res));
    cleanups.push(nodeServer.close);
    const app = Fastify();
    await app.register(api1FastifyPlugin(handler));
    await app.listen({ port: 0, host: "127.0.0.1" });
    cleanups.push(() => app.close());
    const { port } = app.server.address() as { port: number };
    for (const url of [
      `${nodeServer.url}${PAYOUT_REQUEST_PATH}`,
      `http://127.0.0.1:${port}${PAYOUT_REQUEST_PATH}`,
    ]) {
      const r = request();
      const ok = await fetch(url, { method: "POST", headers: r.headers, body: r.rawBody });
      expect(ok.status).toBe(200);
      expect(parsePayoutRequestAnswer(await ok.json())).toMatchObject({ kind: "accepted" });
      const bad = await fetch(url, { method: "POST", headers: { "crm-pay-token": "x" }, body: r.rawBody });
      expect(bad.status).toBe(401);
    }
    const r = request();
    const viaFetch = await toFetchHandler(handler)(
      new Request(`http://x${PAYOUT_REQUEST_PATH}`, { method: "POST", headers: r.headers, body: r.rawBody }),
    );
    expect(await viaFetch.json()).toMatchObject({ result: true });
    const get = await fetch(`${nodeServer.url}${PAYOUT_REQUEST_PATH}`);
    expect(get.status).toBe(405);
    expect(await get.json()).toEqual({ msg: "method not allowed", data: { code: "method_not_allowed" } });
  });
});
