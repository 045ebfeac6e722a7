import {
  type ParsedCallback,
  parseCallback,
  parseFlatJson,
  parseStatusAnswer,
  STATUS_QUERY_PATH,
  sign,
  signStatusQuery,
  verify,
} from "@psphub/protocol";
import fc from "fast-check";
import Fastify from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { api1FastifyPlugin, toFetchHandler, toNodeHandler } from "./adapters.js";
import { SdkError } from "./errors.js";
import {
  createStatusQueryHandler,
  type OrderStatus,
  type StatusQuery,
  type StatusQueryHandlerOptions,
  type StatusQueryRejection,
} from "./status-query-handler.js";
import { listen, TOKEN } from "./test-support.js";

const MERCHANT = "0123456789abcdef0123456789abcdef";
const NOW = 1_700_000_000_000;

const PAID: OrderStatus = {
  status: 1,
  amount: "100.10",
  currency: "USD",
  transactionId: "tx-9",
  userId: "u1",
  time: NOW - 5_000,
};

function handlerWith(
  orders: Record<string, OrderStatus> = { "ord-1": PAID },
  overrides: Partial<StatusQueryHandlerOptions> = {},
) {
  const queries: StatusQuery[] = [];
  const rejections: StatusQueryRejection[] = [];
  const errors: unknown[] = [];
  const handler = createStatusQueryHandler({
    token: TOKEN,
    lookup(orderNo, query) {
      queries.push(query);
      return orders[orderNo] ?? null;
    },
    onReject: (r) => rejections.push(r),
    onError: (e) => errors.push(e),
    now: () => NOW,
    ...overrides,
  });
  return { handler, queries, rejections, errors };
}

/** The CRM's request: the protocol's own signer, sent with `token` in the header. */
const query = (orderNo = "ord-1", token = TOKEN, headerToken: string | null = token) => ({
  headers: headerToken === null ? {} : { "crm-pay-token": headerToken },
  rawBody: JSON.stringify(signStatusQuery({ merchantId: MERCHANT, orderNo, time: NOW }, token)),
});

/** Reads an answer like the CRM does and checks the data's sign with `token`. */
function dataOf(body: string, token = TOKEN): ParsedCallback {
  const answer = parseStatusAnswer(body);
  if (answer.kind !== "found") throw new Error(`not found: ${JSON.stringify(answer)}`);
  expect(verify(answer.dataText, token)).toBe(true);
  const { params, literals } = parseFlatJson(answer.dataText);
  const parsed = parseCallback(params, literals);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.callback;
}

describe("createStatusQueryHandler: answers", () => {
  it("answers a known order with a signed API-2 body the protocol verifies and reads", async () => {
    const { handler, queries } = handlerWith();
    const out = await handler.handle(query());
    expect(out.status).toBe(200);
    expect(out.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(JSON.parse(out.body)).toMatchObject({ result: true, msg: "ok" });
    expect(dataOf(out.body)).toEqual({
      merchantId: MERCHANT,
      orderNo: "ord-1",
      transactionId: "tx-9",
      amountText: "100.10",
      currency: "USD",
      time: NOW - 5_000,
      status: 1,
      userId: "u1",
      sign: expect.stringMatching(/^[0-9A-F]{40}$/),
    });
    expect(queries[0]).toMatchObject({ merchantId: MERCHANT, orderNo: "ord-1", time: NOW, tokenIndex: 0 });
  });

  it("answers order_not_found for an order the lookup does not know", async () => {
    const { handler } = handlerWith();
    const out = await handler.handle(query("nope"));
    expect(out.status).toBe(200);
    expect(JSON.parse(out.body)).toEqual({
      result: false,
      msg: "order not found",
      data: { code: "order_not_found" },
    });
    expect(parseStatusAnswer(out.body)).toEqual({ kind: "not_found", msg: "order not found" });
  });

  it("takes status names as well as numbers, and defaults the time to now", async () => {
    const orders: Record<string, OrderStatus> = {
      a: { status: "failed", amount: "5", currency: "JPY" },
      b: { status: "processing", amount: "0.5", currency: "EUR" },
      c: { status: 0, amount: "7.00", currency: "USD" },
    };
    const { handler } = handlerWith(orders);
    expect(dataOf((await handler.handle(query("a"))).body)).toMatchObject({ status: 0, time: NOW });
    expect(dataOf((await handler.handle(query("b"))).body)).toMatchObject({ status: 2, amountText: "0.5" });
    expect(dataOf((await handler.handle(query("c"))).body)).toMatchObject({ status: 0, amountText: "7.00" });
  });

  it("signs the data with the token the header matched (rotation), and gives the merchant to a token function", async () => {
    const previous = "previous-token-0123456789";
    const seen: Array<string | undefined> = [];
    const { handler, queries } = handlerWith(undefined, {
      token: undefined,
      tokens: (merchantId) => {
        seen.push(merchantId);
        return merchantId === MERCHANT ? [TOKEN, previous] : [];
      },
    });
    const out = await handler.handle(query("ord-1", previous));
    expect(dataOf(out.body, previous).orderNo).toBe("ord-1");
    expect(queries[0]!.tokenIndex).toBe(1);
    expect(seen).toEqual([MERCHANT]);
  });

  it("round-trips any order status: the data verifies and says what the lookup said", async () => {
    const decimal = fc
      .tuple(fc.bigInt({ min: 0n, max: 10n ** 12n }), fc.integer({ min: 0, max: 8 }))
      .map(([minor, exponent]) => {
        const digits = minor.toString().padStart(exponent + 1, "0");
        return exponent === 0 ? digits : `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
      });
    const text = fc.string({ minLength: 1, maxLength: 20 });
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            status: fc.constantFrom(0, 1, 2, "success", "failed", "processing" as const),
            amount: decimal,
            currency: fc.constantFrom("USD", "JPY", "USDT", "BHD"),
            transactionId: text,
            userId: text,
            time: fc.integer({ min: 0, max: 2 ** 50 }),
          },
          { requiredKeys: ["status", "amount", "currency"] },
        ),
        text,
        fc.string({ minLength: 1, maxLength: 40 }),
        async (status, orderNo, token) => {
          const { handler } = handlerWith({ [orderNo]: status as OrderStatus }, { token });
          const out = await handler.handle(query(orderNo, token));
          const data = dataOf(out.body, token);
          const number = { success: 1, failed: 0, processing: 2 }[status.status as string] ?? status.status;
          expect(data).toMatchObject({ orderNo, amountText: status.amount, status: number });
          expect(data.transactionId).toBe(status.transactionId);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("createStatusQueryHandler: refusals", () => {
  it("refuses a missing or wrong token with 401 and a clear body", async () => {
    const { handler, rejections, queries } = handlerWith();
    for (const header of [null, "wrong-token"]) {
      const out = await handler.handle(query("ord-1", TOKEN, header));
      expect(out.status).toBe(401);
      expect(JSON.parse(out.body)).toEqual({
        result: false,
        msg: "invalid crm-pay-token",
        data: { code: "token_invalid" },
      });
      expect(parseStatusAnswer(out.body).kind).toBe("invalid");
    }
    expect(rejections.map((r) => r.message)).toEqual([
      "the crm-pay-token header is missing",
      "the crm-pay-token header is wrong",
    ]);
    expect(queries).toEqual([]);
  });

  it("refuses a sign made with another token, or over other values, and tells onReject the StringA", async () => {
    const { handler, rejections, queries } = handlerWith();
    const other = await handler.handle(query("ord-1", "another-token", TOKEN));
    expect(other.status).toBe(401);
    expect(JSON.parse(other.body)).toEqual({
      result: false,
      msg: "invalid sign",
      data: { code: "sign_invalid" },
    });
    const forged = query();
    const tampered = await handler.handle({
      ...forged,
      rawBody: (forged.rawBody as string).replace('"ord-1"', '"ord-2"'),
    });
    expect(tampered.status).toBe(401);
    expect(rejections[1]).toMatchObject({
      reason: "sign_invalid",
      stringA: `merchant_id=${MERCHANT}&order_no=ord-2&time=${NOW}`,
    });
    expect(JSON.stringify(rejections)).not.toContain(TOKEN);
    expect(queries).toEqual([]);
  });

  it("answers 400 for a malformed body or fields, 413 for an oversized one", async () => {
    const { handler } = handlerWith();
    const signed = (params: Record<string, unknown>) => ({
      headers: { "crm-pay-token": TOKEN },
      rawBody: JSON.stringify({ ...params, sign: sign(params as never, TOKEN) }),
    });
    const cases: Array<[ReturnType<typeof signed> | { headers: object; rawBody: unknown }, number, string]> =
      [
        [{ headers: { "crm-pay-token": TOKEN }, rawBody: "{" }, 400, "malformed_body"],
        [{ headers: { "crm-pay-token": TOKEN }, rawBody: new Uint8Array([0xff, 0xfe]) }, 400, "bad_encoding"],
        [{ headers: { "crm-pay-token": TOKEN }, rawBody: '{"a":[1]}' }, 400, "malformed_body"],
        [signed({ merchant_id: MERCHANT, time: NOW }), 400, "missing_field"],
        [signed({ merchant_id: MERCHANT, order_no: 5, time: NOW }), 400, "bad_field"],
        [signed({ merchant_id: MERCHANT, order_no: "o" }), 400, "missing_field"],
        [signed({ merchant_id: MERCHANT, order_no: "o", time: "1" }), 400, "bad_field"],
        [signed({ merchant_id: MERCHANT, order_no: "o", time: 1.5 }), 400, "bad_field"],
        [signed({ merchant_id: MERCHANT, order_no: "o", time: -1 }), 400, "bad_field"],
        [{ headers: { "crm-pay-token": TOKEN }, rawBody: `{"x":"${"a".repeat(5000)}"}` }, 413, "too_large"],
      ];
    for (const [input, status, code] of cases) {
      const out = await handler.handle(input as never);
      expect({ status: out.status, code: JSON.parse(out.body).data.code }).toEqual({ status, code });
    }
  });

  it("with maxClockSkewMs, refuses a query whose time is too far from the clock", async () => {
    let clock = NOW;
    const { handler, rejections } = handlerWith(undefined, { maxClockSkewMs: 60_000, now: () => clock });
    expect((await handler.handle(query())).status).toBe(200);
    clock = NOW + 60_001;
    const stale = await handler.handle(query());
    expect(stale.status).toBe(401);
    expect(JSON.parse(stale.body).data.code).toBe("stale_time");
    expect(rejections[0]!.message).toBe("time is 60001 ms from this clock (at most 60000 allowed)");
    clock = NOW - 60_001;
    expect((await handler.handle(query())).status).toBe(401);
  });

  it("answers 500 when the lookup throws or answers what cannot be signed", async () => {
    const thrown = handlerWith(undefined, {
      lookup: () => {
        throw new Error("database down");
      },
    });
    const out = await thrown.handler.handle(query());
    expect(out.status).toBe(500);
    expect(JSON.parse(out.body)).toEqual({
      result: false,
      msg: "internal error",
      data: { code: "internal_error" },
    });
    expect(thrown.errors).toHaveLength(1);
    for (const bad of [
      { ...PAID, amount: "1,5" },
      { ...PAID, status: 3 },
      { ...PAID, currency: "" },
    ]) {
      const { handler, errors } = handlerWith({ "ord-1": bad as OrderStatus });
      expect((await handler.handle(query())).status).toBe(500);
      expect(errors[0]).toBeInstanceOf(SdkError);
    }
  });

  it("refuses unusable options", () => {
    const lookup = () => null;
    expect(() => createStatusQueryHandler({ lookup } as never)).toThrow(/give token or tokens/);
    expect(() => createStatusQueryHandler({ token: TOKEN } as never)).toThrow(/lookup must be a function/);
    expect(() => createStatusQueryHandler({ token: TOKEN, lookup, maxClockSkewMs: -1 })).toThrow(
      /maxClockSkewMs/,
    );
    expect(() => createStatusQueryHandler({ tokens: [""], lookup })).toThrow(/non-empty/);
  });
});

describe("the status query handler through the adapters, on loopback", () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!();
  });

  const post = (url: string, token = TOKEN, orderNo = "ord-1") =>
    fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "crm-pay-token": token },
      body: JSON.stringify(signStatusQuery({ merchantId: MERCHANT, orderNo, time: NOW }, TOKEN)),
    });

  it("serves node:http, fetch-style and Fastify (mounted on /pay/status by default)", async () => {
    const { handler } = handlerWith();
    const node = toNodeHandler(handler);
    const nodeServer = await listen((req, res) => void node(req, res));
    cleanups.push(nodeServer.close);
    const fetchHandler = toFetchHandler(handler);
    const app = Fastify();
    await app.register(api1FastifyPlugin(handler));
    await app.listen({ port: 0, host: "127.0.0.1" });
    cleanups.push(() => app.close());
    const address = app.server.address() as { port: number };

    for (const url of [
      `${nodeServer.url}${STATUS_QUERY_PATH}`,
      `http://127.0.0.1:${address.port}${STATUS_QUERY_PATH}`,
    ]) {
      const ok = await post(url);
      expect(ok.status).toBe(200);
      expect(dataOf(await ok.text()).amountText).toBe("100.10");
      const notFound = await post(url, TOKEN, "other");
      expect(parseStatusAnswer(await notFound.text()).kind).toBe("not_found");
      expect((await post(url, "wrong")).status).toBe(401);
    }
    const viaFetch = await fetchHandler(
      new Request("http://x/pay/status", {
        method: "POST",
        headers: { "crm-pay-token": TOKEN },
        body: JSON.stringify(signStatusQuery({ merchantId: MERCHANT, orderNo: "ord-1", time: NOW }, TOKEN)),
      }),
    );
    expect(dataOf(await viaFetch.text()).orderNo).toBe("ord-1");
    const get = await fetch(`${nodeServer.url}${STATUS_QUERY_PATH}`);
    expect(get.status).toBe(405);
    expect(await get.json()).toEqual({
      result: false,
      msg: "method not allowed",
      data: { code: "method_not_allowed" },
    });
  });
});
