import fc from "fast-check";
import { describe, expect, it } from "vitest";
import vectorsFile from "../test-fixtures/signature-vectors.json" with { type: "json" };
import { parseCallback } from "./fields.js";
import { parseFlatJson } from "./flat-json.js";
import { formatAmount, formatAmountNumber, parseAmount } from "./money.js";
import {
  isPayoutRequestKey,
  PAYOUT_CALLBACK_FIELDS,
  PAYOUT_CALLBACK_PATH,
  PAYOUT_NOT_FOUND,
  PAYOUT_REQUEST_KEYS,
  PAYOUT_REQUEST_PATH,
  PAYOUT_STATUS_PATH,
  parsePayoutCallback,
  parsePayoutRequestAnswer,
  parsePayoutStatusAnswer,
  signPayoutCallback,
  signPayoutRequest,
  signPayoutStatusQuery,
} from "./payout.js";
import { type FlatParams, sign, stringA, verify } from "./signature.js";
import { ORDER_NOT_FOUND } from "./status-query.js";
import { RUNS } from "./test-arbitraries.js";

// The payout extension on the wire (docs/psp-open-api.md#payouts): API-4's request and answer,
// API-5's body, the payout status query.

// This package compiles without Node's types (it runs in browsers), so node:fs is fetched here.
const { readFileSync } = (
  globalThis as unknown as {
    process: { getBuiltinModule(id: string): { readFileSync(file: URL, encoding: "utf8"): string } };
  }
).process.getBuiltinModule("node:fs");

const TOKEN = "9f2c4e7a1b3d5f60718293a4b5c6d7e8";

/** Text that has a UTF-8 form (no lone surrogates), with the characters signing must not escape. */
const text = (maxLength = 12) =>
  fc.oneof(
    fc.string({ unit: "grapheme", maxLength }),
    fc.string({ unit: fc.constantFrom("a", "&", "=", " ", "é", "😀", "\u0000", "%"), maxLength }),
  );
const vector = (name: string) => vectorsFile.vectors.find((v) => v.name === name)!;

/** The worked example of docs/psp-open-api.md#payout-signature-example. */
const EXAMPLE = {
  merchantId: "f23eb3a856284d0a87913e33ed581852",
  payoutNo: "p0bhyp3lqm1x",
  amountMinor: 9550n,
  decimals: 2,
  currency: "USD",
  userId: "ewem9cab",
  fields: { iban: "DE89370400440532013000" },
  time: 1731696419516,
};

describe("the payout paths and keys", () => {
  it("are the contract's", () => {
    expect(PAYOUT_REQUEST_PATH).toBe("/payout/request");
    expect(PAYOUT_STATUS_PATH).toBe("/payout/status");
    expect(PAYOUT_CALLBACK_PATH).toBe("/payout/callback");
    expect(PAYOUT_NOT_FOUND).toBe("payout_not_found");
    expect(PAYOUT_NOT_FOUND).not.toBe(ORDER_NOT_FOUND);
    for (const key of ["merchant_id", "payout_no", "amount", "currency", "user_id", "time", "sign"])
      expect(isPayoutRequestKey(key), key).toBe(true);
    for (const key of ["iban", "order_no", "Amount", "address", "", "transaction_id"])
      expect(isPayoutRequestKey(key), key).toBe(false);
    expect(PAYOUT_REQUEST_KEYS).toHaveLength(7);
  });

  it("API-5's fields are API-2's with payout_no for order_no", () => {
    expect(PAYOUT_CALLBACK_FIELDS.map((f) => f.key)).toEqual([
      "merchant_id",
      "payout_no",
      "transaction_id",
      "amount",
      "currency",
      "time",
      "status",
      "user_id",
      "sign",
    ]);
    expect(PAYOUT_CALLBACK_FIELDS.filter((f) => !f.required).map((f) => f.key)).toEqual([
      "transaction_id",
      "user_id",
    ]);
  });
});

describe("signPayoutRequest (API-4)", () => {
  it("gives the worked example of the docs, which is the api4-sample vector", () => {
    const body = signPayoutRequest(EXAMPLE, TOKEN);
    const v = vector("api4-sample");
    expect(JSON.stringify(body)).toBe(v.body);
    expect(body.sign).toBe(v.sign);
    const { sign: _s, ...params } = body;
    expect(stringA(params)).toBe(v.string_a);
    expect(v.token).toBe(TOKEN);
  });

  it("is what docs/psp-open-api.md#payout-signature-example prints", () => {
    const doc = readFileSync(new URL("../../../docs/psp-open-api.md", import.meta.url), "utf8");
    const section = doc.slice(doc.indexOf('<a id="payout-signature-example"></a>'));
    const v = vector("api4-sample");
    expect(section).toContain(`With token \`${v.token}\``);
    expect(section).toContain(`\`\`\`json\n${v.body}\n\`\`\``);
    expect(section).toContain(`\`\`\`\n${v.string_a}\n\`\`\``);
    for (const name of ["api4-sample", "api5-sample", "payout-status-sample"])
      expect(doc).toMatch(new RegExp(`\\| \`${name}\` \\|`));
  });

  it("writes the amount as its shortest literal, so body text and signed text agree", () => {
    const cases: Array<[bigint, number, string]> = [
      [9550n, 2, "95.5"],
      [10000n, 2, "100"],
      [10010n, 2, "100.1"],
      [1n, 2, "0.01"],
      [0n, 2, "0"],
      [1500n, 0, "1500"],
      [123456n, 3, "123.456"],
      [120000n, 6, "0.12"],
    ];
    for (const [minor, decimals, literal] of cases) {
      const body = signPayoutRequest({ ...EXAMPLE, amountMinor: minor, decimals }, TOKEN);
      const text = JSON.stringify(body);
      expect(text).toContain(`"amount":${literal},`);
      const { params, literals } = parseFlatJson(text);
      expect(literals.amount).toBe(literal);
      expect(verify(text, TOKEN)).toBe(true);
      expect(stringA(params, { literals })).toContain(`amount=${literal}&`);
    }
  });

  it("refuses a client field whose key is one of API-4's own", () => {
    for (const key of PAYOUT_REQUEST_KEYS) {
      expect(() => signPayoutRequest({ ...EXAMPLE, fields: { iban: "DE89", [key]: "x" } }, TOKEN)).toThrow(
        `the client field ${key} reuses an API-4 key`,
      );
    }
    expect(() => signPayoutRequest({ ...EXAMPLE, fields: { order_no: "x" } }, TOKEN)).not.toThrow();
  });

  it("signs every key but sign, the client's fields included, and verifies over the raw body (property)", () => {
    const fieldKey = fc.stringMatching(/^[a-z][a-z0-9_]{0,15}$/).filter((k) => !isPayoutRequestKey(k));
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        fc.integer({ min: 0, max: 8 }),
        fc.dictionary(fieldKey, text(), { maxKeys: 4 }),
        fc.integer({ min: 0, max: 4_102_444_800_000 }),
        (amountMinor, decimals, fields, time) => {
          const body = signPayoutRequest({ ...EXAMPLE, amountMinor, decimals, fields, time }, TOKEN);
          const text = JSON.stringify(body);
          // The amount's literal is the shortest, which is String(n), and it is the amount.
          const { params, literals } = parseFlatJson(text);
          expect(literals.amount).toBe(formatAmountNumber(amountMinor, decimals));
          expect(parseAmount(literals.amount!, decimals)).toBe(amountMinor);
          expect(verify(text, TOKEN)).toBe(true);
          expect(verify(text, `${TOKEN}x`)).toBe(false);
          for (const [k, v] of Object.entries(fields)) if (v !== "") expect(params[k]).toBe(v);
          const { sign: given, ...rest } = params;
          expect(given).toBe(sign(rest, TOKEN));
          // A changed amount no longer verifies.
          expect(verify({ ...rest, amount: Number(literals.amount) + 1 }, TOKEN, given as string)).toBe(
            false,
          );
        },
      ),
      RUNS,
    );
  });
});

describe("parsePayoutRequestAnswer (API-4's answer)", () => {
  it("reads result true with and without a transaction_id", () => {
    expect(parsePayoutRequestAnswer({ result: true, msg: "ok", data: { transaction_id: "po-1" } })).toEqual({
      kind: "accepted",
      transactionId: "po-1",
      msg: "ok",
    });
    for (const data of [undefined, null, {}, { transaction_id: "" }, { transaction_id: null }, { other: 1 }])
      expect(parsePayoutRequestAnswer({ result: true, msg: "ok", data }), JSON.stringify(data)).toEqual({
        kind: "accepted",
        msg: "ok",
      });
    expect(parsePayoutRequestAnswer({ result: true })).toEqual({ kind: "accepted", msg: "" });
  });

  it("reads result false as a refusal, with its message (cut to 200 characters)", () => {
    expect(parsePayoutRequestAnswer({ result: false, msg: "account closed" })).toEqual({
      kind: "refused",
      msg: "account closed",
    });
    expect(parsePayoutRequestAnswer({ result: false, data: { transaction_id: "x" } })).toEqual({
      kind: "refused",
      msg: "",
    });
    const long = parsePayoutRequestAnswer({ result: false, msg: "x".repeat(500) });
    expect(long.kind === "refused" && long.msg.length).toBe(200);
    expect(parsePayoutRequestAnswer({ result: false, msg: 42 })).toEqual({ kind: "refused", msg: "" });
  });

  it("calls everything else invalid: the outcome is unknown and API-4 is sent again", () => {
    const invalid: unknown[] = [
      null,
      undefined,
      "ok",
      42,
      true,
      [],
      [{ result: true }],
      {},
      { result: "true" },
      { result: 1 },
      { result: null },
      { msg: "ok" },
      { result: true, data: [] },
      { result: true, data: "po-1" },
      { result: true, data: 7 },
      { result: true, data: { transaction_id: 123 } },
      { result: true, data: { transaction_id: "x".repeat(129) } },
      { result: true, data: { transaction_id: ["po-1"] } },
    ];
    for (const answer of invalid)
      expect(parsePayoutRequestAnswer(answer).kind, JSON.stringify(answer)).toBe("invalid");
    expect(parsePayoutRequestAnswer({ result: true, data: { transaction_id: "x".repeat(128) } }).kind).toBe(
      "accepted",
    );
  });

  it("never throws and never accepts without result true (property)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const answer = parsePayoutRequestAnswer(value);
        const isObject = typeof value === "object" && value !== null && !Array.isArray(value);
        const result = isObject ? (value as Record<string, unknown>).result : undefined;
        if (answer.kind === "accepted") expect(result).toBe(true);
        if (answer.kind === "refused") expect(result).toBe(false);
        if (result !== true && result !== false) expect(answer.kind).toBe("invalid");
      }),
      RUNS,
    );
  });
});

describe("parsePayoutCallback (API-5)", () => {
  const body = (params: FlatParams) => JSON.stringify({ ...params, sign: sign(params, TOKEN) });
  const base = {
    merchant_id: "m1",
    payout_no: "p0bhyp3lqm1x",
    amount: 95.5,
    currency: "USD",
    time: 1731696481203,
    status: 1,
  };

  it("reads the api5-sample vector, its payout_no as orderNo", () => {
    const v = vector("api5-sample");
    const { params, literals } = parseFlatJson(v.body);
    const parsed = parsePayoutCallback(params, literals);
    expect(parsed).toEqual({
      ok: true,
      callback: expect.objectContaining({
        merchantId: "f23eb3a856284d0a87913e33ed581852",
        orderNo: "p0bhyp3lqm1x",
        transactionId: "po-98765434567876",
        amountText: "95.5",
        currency: "USD",
        status: 1,
        time: 1731696481203,
        userId: "ewem9cab",
      }),
    });
    expect(verify(v.body, v.token)).toBe(true);
  });

  it("requires payout_no, not order_no (and API-2's parser the other way round)", () => {
    const withOrderNo = { ...base, payout_no: undefined, order_no: "p0bhyp3lqm1x" };
    const { params, literals } = parseFlatJson(body(withOrderNo));
    expect(parsePayoutCallback(params, literals)).toMatchObject({
      ok: false,
      error: { type: "request_malformed", path: "payout_no" },
    });
    const payout = parseFlatJson(body(base));
    expect(parseCallback(payout.params, payout.literals)).toMatchObject({
      ok: false,
      error: { path: "order_no" },
    });
    expect(parsePayoutCallback(payout.params, payout.literals).ok).toBe(true);
    // An idKey given in the options cannot turn it back into API-2.
    const opts = { idKey: "order_no" } as unknown as Parameters<typeof parsePayoutCallback>[2];
    expect(parsePayoutCallback(payout.params, payout.literals, opts).ok).toBe(true);
  });

  it("types the fields as API-2 does (amount a number, time an integer, form text)", () => {
    for (const [key, value] of [
      ["amount", "95.5"],
      ["time", 1.5],
      ["status", "1"],
      ["payout_no", 12],
      ["currency", ""],
    ] as const) {
      const { params, literals } = parseFlatJson(body({ ...base, [key]: value }));
      expect(parsePayoutCallback(params, literals), key).toMatchObject({
        ok: false,
        error: { type: "request_malformed" },
      });
    }
    const form = { ...base, amount: "95.50", time: "1731696481203", status: "2", sign: "x" };
    const parsed = parsePayoutCallback(form, undefined, { form: true });
    expect(parsed.ok && parsed.callback).toMatchObject({
      amountText: "95.50",
      status: 2,
      orderNo: base.payout_no,
    });
  });
});

describe("signPayoutCallback (API-5, the backend's side)", () => {
  it("gives the api5-sample vector", () => {
    const v = vector("api5-sample");
    const body = signPayoutCallback(
      {
        merchantId: "f23eb3a856284d0a87913e33ed581852",
        payoutNo: "p0bhyp3lqm1x",
        transactionId: "po-98765434567876",
        amount: 95.5,
        currency: "USD",
        time: 1731696481203,
        status: 1,
        userId: "ewem9cab",
      },
      TOKEN,
    );
    expect(JSON.stringify(body)).toBe(v.body);
  });

  it("round-trips through parsePayoutCallback and verifies (property)", () => {
    fc.assert(
      fc.property(
        fc.record({
          merchantId: text(32).filter((s) => s !== ""),
          payoutNo: fc.stringMatching(/^[0-9a-z]{12}$/),
          amountMinor: fc.bigInt({ min: 0n, max: 10n ** 12n }),
          currency: fc.constantFrom("USD", "EUR", "JPY", "USDT"),
          status: fc.constantFrom(0 as const, 1 as const, 2 as const),
          time: fc.integer({ min: 0, max: 4_102_444_800_000 }),
          transactionId: fc.option(fc.stringMatching(/^[A-Za-z0-9-]{1,20}$/), { nil: undefined }),
          userId: fc.option(fc.stringMatching(/^[a-z0-9]{1,12}$/), { nil: undefined }),
        }),
        (c) => {
          const amount = Number(formatAmount(c.amountMinor, 2));
          const { amountMinor: _m, ...rest } = c;
          const signed = signPayoutCallback({ ...rest, amount }, TOKEN);
          const text = JSON.stringify(signed);
          expect(verify(text, TOKEN)).toBe(true);
          const { params, literals } = parseFlatJson(text);
          const parsed = parsePayoutCallback(params, literals);
          expect(parsed.ok).toBe(true);
          if (!parsed.ok) return;
          expect(parsed.callback).toMatchObject({
            merchantId: c.merchantId,
            orderNo: c.payoutNo,
            currency: c.currency,
            status: c.status,
            time: c.time,
          });
          expect(parseAmount(parsed.callback.amountText, 2)).toBe(c.amountMinor);
          expect(parsed.callback.transactionId).toBe(c.transactionId);
          expect(parsed.callback.userId).toBe(c.userId);
          expect(params.order_no).toBeUndefined();
        },
      ),
      RUNS,
    );
  });
});

describe("the payout status query", () => {
  it("signs merchant_id, payout_no and time: the payout-status-sample vector", () => {
    const v = vector("payout-status-sample");
    const body = signPayoutStatusQuery(
      { merchantId: "f23eb3a856284d0a87913e33ed581852", payoutNo: "p0bhyp3lqm1x", time: 1731696779516 },
      TOKEN,
    );
    expect(JSON.stringify(body)).toBe(v.body);
    const { sign: s, ...params } = body;
    expect(stringA(params)).toBe(v.string_a);
    expect(verify(params, TOKEN, s)).toBe(true);
    expect(verify({ ...params, payout_no: "p0bhyp3lqm1y" }, TOKEN, s)).toBe(false);
  });

  it("reads an API-5 body as data, raw, and payout_not_found (never order_not_found)", () => {
    const v = vector("api5-sample");
    expect(parsePayoutStatusAnswer(`{"result":true,"msg":"ok","data":${v.body}}`)).toEqual({
      kind: "found",
      dataText: v.body,
    });
    expect(
      parsePayoutStatusAnswer('{"result":false,"msg":"no such payout","data":{"code":"payout_not_found"}}'),
    ).toEqual({ kind: "not_found", msg: "no such payout" });
    expect(
      parsePayoutStatusAnswer('{"result":false,"msg":"no","data":{"code":"order_not_found"}}').kind,
    ).toBe("invalid");
    for (const text of ["", "nope", "[]", '{"result":true}', '{"result":true,"data":[]}'])
      expect(parsePayoutStatusAnswer(text).kind, text).toBe("invalid");
  });
});
