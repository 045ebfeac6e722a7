import { ProtocolError, parseCallback, parseFlatJson, verify, verifyDetailed } from "@psphub/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import vectorsFile from "../../protocol/test-fixtures/signature-vectors.json" with { type: "json" };
import { buildCallback, type Callback, callbackEndpoint, encodeCallback } from "./callback.js";
import { SdkError } from "./errors.js";

const api2 = vectorsFile.vectors.find((v) => v.name === "api2-sample")!;

const SAMPLE: Callback = {
  merchantId: "f23eb3a856284d0a87913e33ed581852",
  orderNo: "td0bhyp3lqm1",
  transactionId: "98765434567876",
  amount: "432.98",
  currency: "USD",
  time: 1631696419516,
  userId: "ewem9cab",
  status: 1,
};

describe("encodeCallback", () => {
  // The spec's api2-sample (docs/psp-open-api.md#signature-vectors).
  it("signs the spec's api2-sample exactly", () => {
    const encoded = encodeCallback(SAMPLE, api2.token);
    expect(encoded.stringA).toBe(api2.string_a);
    expect(encoded.sign).toBe(api2.sign);
    expect(JSON.parse(encoded.body)).toEqual({ ...JSON.parse(api2.body), sign: api2.sign });
  });

  it("writes a body that the CRM's parser and verify accept", () => {
    const { body } = encodeCallback(SAMPLE, api2.token);
    expect(verify(body, api2.token)).toBe(true);
    const { params, literals } = parseFlatJson(body);
    const parsed = parseCallback(params, literals);
    expect(parsed.ok && parsed.callback).toMatchObject({
      amountText: "432.98",
      status: 1,
      orderNo: "td0bhyp3lqm1",
    });
  });

  it("sends the amount's text as the literal and signs that same text", () => {
    for (const amount of ["100.10", "100", "100.0", "0", "0.00000001", "1e2"]) {
      const { body, stringA } = encodeCallback({ ...SAMPLE, amount }, "tk");
      expect(body).toContain(`"amount":${amount},`);
      expect(stringA).toContain(`amount=${amount}&`);
      const detail = verifyDetailed(body, "tk");
      expect(detail.valid).toBe(true);
      expect(detail.stringA).toBe(stringA);
    }
  });

  it("leaves out empty optional fields, also from the signature", () => {
    const { body, stringA } = encodeCallback({ ...SAMPLE, transactionId: "", userId: undefined }, "tk");
    expect(body).not.toContain("transaction_id");
    expect(body).not.toContain("user_id");
    expect(stringA).toBe(
      "amount=432.98&currency=USD&merchant_id=f23eb3a856284d0a87913e33ed581852&order_no=td0bhyp3lqm1&status=1&time=1631696419516",
    );
  });

  it("defaults time to now", () => {
    const { time: _time, ...noTime } = SAMPLE;
    const { body } = encodeCallback(noTime, "tk", () => 1_700_000_000_123);
    expect(body).toContain('"time":1700000000123');
  });

  it("refuses callbacks it cannot send", () => {
    const bad: Array<Partial<Record<keyof Callback, unknown>>> = [
      { amount: "1,5" },
      { amount: "-1" },
      { amount: " 1" },
      { amount: "1e999" },
      { amount: 100 },
      { amount: "" },
      { merchantId: "" },
      { orderNo: undefined },
      { currency: 3 },
      { status: 3 },
      { status: "1" },
      { time: -1 },
      { time: 1.5 },
      { transactionId: 7 },
    ];
    for (const change of bad) {
      expect(() => encodeCallback({ ...SAMPLE, ...change } as Callback, "tk")).toThrow(SdkError);
    }
    expect(() => encodeCallback(SAMPLE, "")).toThrow(ProtocolError);
  });

  it("round-trips any callback through the CRM's parser and verify (property)", () => {
    const text = fc.string({ minLength: 1, maxLength: 20, unit: "grapheme" });
    const amount = fc
      .tuple(fc.bigInt({ min: 0n, max: 10n ** 13n }), fc.integer({ min: 0, max: 8 }))
      .map(([minor, exp]) => {
        const digits = minor.toString().padStart(exp + 1, "0");
        return exp === 0 ? digits : `${digits.slice(0, -exp)}.${digits.slice(-exp)}`;
      });
    fc.assert(
      fc.property(
        text,
        text,
        amount,
        fc.constantFrom(0, 1, 2),
        fc.string({ minLength: 1 }),
        (m, o, a, s, tk) => {
          const cb: Callback = {
            merchantId: m,
            orderNo: o,
            amount: a,
            currency: "EUR",
            status: s as 0 | 1 | 2,
            time: 5,
          };
          const { body } = encodeCallback(cb, tk);
          expect(verify(body, tk)).toBe(true);
          const { params, literals } = parseFlatJson(body);
          const parsed = parseCallback(params, literals);
          expect(parsed.ok).toBe(true);
          if (parsed.ok)
            expect(parsed.callback).toMatchObject({ merchantId: m, orderNo: o, amountText: a, status: s });
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("buildCallback", () => {
  const order = { merchantId: "m1", orderNo: "o1", amount: "162.48", currency: "USD", userId: "u1" };

  it("reports the order's own amount for each outcome", () => {
    expect(buildCallback(order, "success")).toEqual({ ...order, status: 1 });
    expect(buildCallback(order, "failed").status).toBe(0);
    expect(buildCallback(order, "processing").status).toBe(2);
  });

  it("takes a paid amount, transaction id and time from the outcome", () => {
    expect(
      buildCallback(order, { status: "success", paidAmount: "160.00", transactionId: "tx", time: 9 }),
    ).toEqual({ ...order, amount: "160.00", status: 1, transactionId: "tx", time: 9 });
  });

  it("refuses an unknown outcome", () => {
    expect(() => buildCallback(order, "paid" as "success")).toThrow(SdkError);
  });
});

describe("callbackEndpoint", () => {
  it("appends /pay/callback to CRM_Callback_URL and keeps a full endpoint", () => {
    expect(callbackEndpoint("https://crm.example.com/api/psp")).toBe(
      "https://crm.example.com/api/psp/pay/callback",
    );
    expect(callbackEndpoint("https://crm.example.com/api/psp/")).toBe(
      "https://crm.example.com/api/psp/pay/callback",
    );
    expect(callbackEndpoint("http://127.0.0.1:3000/api/psp/pay/callback")).toBe(
      "http://127.0.0.1:3000/api/psp/pay/callback",
    );
  });

  it("refuses what is not an absolute http(s) URL without user info, query or fragment", () => {
    for (const bad of [
      "/api/psp",
      "ftp://x/api",
      "javascript:alert(1)",
      "https://u:p@x/api",
      "https://x/api?a=1",
      "",
    ]) {
      expect(() => callbackEndpoint(bad)).toThrow(SdkError);
    }
  });
});
