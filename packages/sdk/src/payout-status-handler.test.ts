import {
  PAYOUT_STATUS_PATH,
  type ParsedCallback,
  parseFlatJson,
  parsePayoutCallback,
  parsePayoutStatusAnswer,
  signPayoutStatusQuery,
  signStatusQuery,
  verify,
} from "@psphub/protocol";
import fc from "fast-check";
import Fastify from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { api1FastifyPlugin, toNodeHandler } from "./adapters.js";
import {
  createPayoutStatusHandler,
  type PayoutStatus,
  type PayoutStatusHandlerOptions,
  type PayoutStatusQuery,
} from "./payout-status-handler.js";
import { listen, TOKEN } from "./test-support.js";

const MERCHANT = "0123456789abcdef0123456789abcdef";
const NOW = 1_700_000_000_000;

const PAID: PayoutStatus = {
  status: 1,
  amount: "95.50",
  currency: "USD",
  transactionId: "po-9",
  userId: "u1",
  time: NOW - 5_000,
};

function handlerWith(
  payouts: Record<string, PayoutStatus> = { p0bhyp3lqm1x: PAID },
  overrides: Partial<PayoutStatusHandlerOptions> = {},
) {
  const queries: PayoutStatusQuery[] = [];
  const errors: unknown[] = [];
  const handler = createPayoutStatusHandler({
    token: TOKEN,
    lookup(payoutNo, query) {
      queries.push(query);
      return payouts[payoutNo] ?? null;
    },
    onError: (e) => errors.push(e),
    now: () => NOW,
    ...overrides,
  });
  return { handler, queries, errors };
}

const query = (payoutNo = "p0bhyp3lqm1x", token = TOKEN) => ({
  headers: { "crm-pay-token": token },
  rawBody: JSON.stringify(signPayoutStatusQuery({ merchantId: MERCHANT, payoutNo, time: NOW }, token)),
});

/** Reads an answer as the CRM does: an API-5 body, its sign checked with `token`. */
function dataOf(body: string, token = TOKEN): ParsedCallback {
  const answer = parsePayoutStatusAnswer(body);
  if (answer.kind !== "found") throw new Error(`not found: ${JSON.stringify(answer)}`);
  expect(verify(answer.dataText, token)).toBe(true);
  const { params, literals } = parseFlatJson(answer.dataText);
  expect(params.order_no).toBeUndefined();
  const parsed = parsePayoutCallback(params, literals);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.callback;
}

describe("createPayoutStatusHandler", () => {
  it("answers a known payout with a signed API-5 body, its amount as written", async () => {
    const { handler, queries } = handlerWith();
    const out = await handler.handle(query());
    expect(out.status).toBe(200);
    expect(dataOf(out.body)).toMatchObject({
      merchantId: MERCHANT,
      orderNo: "p0bhyp3lqm1x",
      amountText: "95.50",
      currency: "USD",
      status: 1,
      time: NOW - 5_000,
      transactionId: "po-9",
      userId: "u1",
    });
    expect(out.body).toContain('"payout_no":"p0bhyp3lqm1x"');
    expect(queries).toEqual([
      expect.objectContaining({ merchantId: MERCHANT, payoutNo: "p0bhyp3lqm1x", time: NOW, tokenIndex: 0 }),
    ]);
  });

  it("answers payout_not_found for a payout it does not know", async () => {
    const { handler } = handlerWith();
    const out = await handler.handle(query("unknown"));
    expect(out.status).toBe(200);
    expect(JSON.parse(out.body)).toEqual({
      result: false,
      msg: "payout not found",
      data: { code: "payout_not_found" },
    });
    expect(parsePayoutStatusAnswer(out.body)).toEqual({ kind: "not_found", msg: "payout not found" });
  });

  it("takes status names, and defaults the time to now", async () => {
    const { handler } = handlerWith({ p1: { status: "processing", amount: "1", currency: "EUR" } });
    expect(dataOf((await handler.handle(query("p1"))).body)).toMatchObject({ status: 2, time: NOW });
  });

  it("refuses an API-3 (order) query: it needs payout_no", async () => {
    const { handler } = handlerWith();
    const out = await handler.handle({
      headers: { "crm-pay-token": TOKEN },
      rawBody: JSON.stringify(
        signStatusQuery({ merchantId: MERCHANT, orderNo: "p0bhyp3lqm1x", time: NOW }, TOKEN),
      ),
    });
    expect(out.status).toBe(400);
    expect(JSON.parse(out.body).data).toEqual({ code: "missing_field" });
  });

  it("refuses a wrong token or sign with 401, and answers 500 for what cannot be signed", async () => {
    const { handler } = handlerWith({ p1: { ...PAID, amount: "9.5.0" } });
    expect((await handler.handle(query("p0bhyp3lqm1x", "wrong"))).status).toBe(401);
    const forged = query().rawBody.replace("p0bhyp3lqm1x", "p0bhyp3lqm1y");
    expect((await handler.handle({ headers: { "crm-pay-token": TOKEN }, rawBody: forged })).status).toBe(401);
    const { handler: broken, errors } = handlerWith({ p1: { ...PAID, amount: "9.5.0" } });
    expect((await broken.handle(query("p1"))).status).toBe(500);
    expect(errors).toHaveLength(1);
  });

  it("signs the data with the token the header matched (rotation)", async () => {
    const { handler } = handlerWith(undefined, { token: undefined, tokens: ["new-token", TOKEN] });
    dataOf((await handler.handle(query())).body, TOKEN);
    dataOf((await handler.handle(query("p0bhyp3lqm1x", "new-token"))).body, "new-token");
  });

  it("round-trips any payout status: the data verifies and says what the lookup said (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          status: fc.constantFrom(0 as const, 1 as const, 2 as const),
          amount: fc.bigInt({ min: 0n, max: 10n ** 12n }).map((n) => (Number(n) / 100).toFixed(2)),
          currency: fc.constantFrom("USD", "EUR", "USDT"),
          transactionId: fc.option(fc.stringMatching(/^[A-Za-z0-9-]{1,20}$/), { nil: undefined }),
          time: fc.integer({ min: 0, max: 4_102_444_800_000 }),
        }),
        async (status) => {
          const { handler } = handlerWith({ p: status });
          const data = dataOf((await handler.handle(query("p"))).body);
          expect(data).toMatchObject({
            orderNo: "p",
            amountText: status.amount,
            currency: status.currency,
            status: status.status,
            time: status.time,
          });
          expect(data.transactionId).toBe(status.transactionId);
        },
      ),
      { numRuns: 300 },
    );
  });

  describe("through the adapters", () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      while (cleanups.length) await cleanups.pop()!();
    });

    it("serves node:http and Fastify (mounted on /payout/status by default)", async () => {
      const { handler } = handlerWith();
      const node = toNodeHandler(handler);
      const server = await listen((req, res) => void node(req, res));
      cleanups.push(server.close);
      const app = Fastify();
      await app.register(api1FastifyPlugin(handler));
      await app.listen({ port: 0, host: "127.0.0.1" });
      cleanups.push(() => app.close());
      const { port } = app.server.address() as { port: number };
      for (const url of [
        `${server.url}${PAYOUT_STATUS_PATH}`,
        `http://127.0.0.1:${port}${PAYOUT_STATUS_PATH}`,
      ]) {
        const q = query();
        const res = await fetch(url, { method: "POST", headers: q.headers, body: q.rawBody });
        expect(dataOf(await res.text()).status).toBe(1);
      }
    });
  });
});
