import { type FlatValue, parseFlatJson, sign } from "@psphub/protocol";
import { API1_PARAM_NAMES, defaultApi1ParamConfig, fromConfiguredKeys } from "@psphub/protocol/admin";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import vectorsFile from "../../protocol/test-fixtures/signature-vectors.json" with { type: "json" };
import {
  type Api1HandlerOptions,
  type Api1Rejection,
  createApi1Handler,
  type PaymentRequest,
  resolveParamConfig,
} from "./api1-handler.js";
import { SdkError } from "./errors.js";
import { headerValue } from "./request-checks.js";
import { SAMPLE_ORDER, signedApi1Body, TOKEN, withSign } from "./test-support.js";

const vector = (name: string) => {
  const v = vectorsFile.vectors.find((x) => x.name === name);
  if (!v) throw new Error(`no vector ${name}`);
  return v;
};

function handlerWith(overrides: Partial<Api1HandlerOptions> = {}) {
  const seen: PaymentRequest[] = [];
  const rejections: Api1Rejection[] = [];
  const handler = createApi1Handler({
    token: TOKEN,
    onPaymentRequest: (req) => {
      seen.push(req);
      return { url: `https://pay.example.com/p/${encodeURIComponent(req.orderNo)}` };
    },
    onReject: (r) => rejections.push(r),
    onError: () => {},
    ...overrides,
  });
  return { handler, seen, rejections };
}

const NO_TOKEN = Symbol("no token");
const post = (
  body: string | Uint8Array | undefined,
  token: string | readonly string[] | typeof NO_TOKEN = TOKEN,
) => ({
  headers: token === NO_TOKEN ? {} : { "crm-pay-token": token },
  rawBody: body,
});

describe("createApi1Handler: success", () => {
  // The spec's api1-sample (docs/psp-open-api.md#signature-vectors).
  it("accepts the spec's api1-sample vector and gives the fields by name", async () => {
    const v = vector("api1-sample");
    const { handler, seen } = handlerWith({ token: v.token });
    const out = await handler.handle(post(withSign(v.body, v.sign), v.token));
    expect(out.status).toBe(200);
    expect(out.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(JSON.parse(out.body)).toEqual({
      data: { url: "https://pay.example.com/p/sh4ykq5vj8e" },
      result: true,
      msg: "",
    });
    const req = seen[0]!;
    expect(req).toMatchObject({
      merchantId: "136421f3-da9e-4d5c-b960-0e15a19df46e",
      orderNo: "sh4ykq5vj8e",
      amount: "162.48",
      amountMinor: 16248n,
      exponent: 2,
      currency: "USD",
      userId: "7du6r2mg",
      userName: "John Doe",
      email: "john@example.com",
      phone: "+1 123456",
      nationality: "us",
      language: "en-us",
      device: "pc",
      tokenIndex: 0,
    });
    expect({ ...req.custom }).toEqual({ custom_1: "AUTO_VALUE", custom_2: "AUTO_VALUE" });
  });

  it("marks psphub certify's test orders (x-psphub-test: 1), and only those", async () => {
    const v = vector("api1-sample");
    const { handler, seen } = handlerWith({ token: v.token });
    const body = withSign(v.body, v.sign);
    await handler.handle({ headers: { "crm-pay-token": v.token, "x-psphub-test": "1" }, rawBody: body });
    await handler.handle({ headers: { "crm-pay-token": v.token, "X-Psphub-Test": "0" }, rawBody: body });
    await handler.handle(post(body, v.token));
    expect(seen.map((r) => r.test)).toEqual([true, false, false]);
  });

  it("keeps the amount's literal text and accepts both signing forms of a number", async () => {
    const v = vector("float-literal-as-written");
    for (const signature of [v.sign, v.sign_from_parsed_numbers!]) {
      const { handler, seen } = handlerWith({ token: v.token });
      const out = await handler.handle(post(withSign(v.body, signature), v.token));
      expect(out.status).toBe(200);
      expect(seen[0]!.amount).toBe("100.0");
      expect(seen[0]!.amountMinor).toBe(10000n);
    }
  });

  it("accepts the body as bytes and a lower-case sign", async () => {
    const body = signedApi1Body(SAMPLE_ORDER);
    const lower = body.replace(/"sign":"([0-9A-F]+)"/, (_m, s: string) => `"sign":"${s.toLowerCase()}"`);
    const { handler } = handlerWith();
    expect((await handler.handle(post(new TextEncoder().encode(lower)))).status).toBe(200);
  });

  it("maps renamed keys back to names (renamed-keys vector)", async () => {
    const v = vector("renamed-keys");
    const { handler, seen } = handlerWith({
      token: v.token,
      paramConfig: {
        merchant_id: { key: "mch" },
        order_no: { key: "orderId" },
        amount: { key: "amt" },
        currency: { key: "ccy" },
        language: { key: "lang" },
      },
      customKeys: ["custom_bank"],
    });
    const out = await handler.handle(post(withSign(v.body, v.sign), v.token));
    expect(out.status).toBe(200);
    expect(seen[0]).toMatchObject({
      merchantId: "m3",
      orderNo: "o6",
      amount: "12.34",
      amountMinor: 1234n,
      currency: "GBP",
      language: "en-us",
    });
    expect({ ...seen[0]!.custom }).toEqual({ custom_bank: "HSBC" });
  });

  it("puts keys that are not configured in custom, or in extra when customKeys are given", async () => {
    const body = signedApi1Body({ named: SAMPLE_ORDER.named, custom: { custom_1: "x", other: "y" } });
    const loose = handlerWith();
    await loose.handler.handle(post(body));
    expect({ ...loose.seen[0]!.custom }).toEqual({ custom_1: "x", other: "y" });
    const strict = handlerWith({ customKeys: ["custom_1"] });
    await strict.handler.handle(post(body));
    expect({ ...strict.seen[0]!.custom }).toEqual({ custom_1: "x" });
    expect({ ...strict.seen[0]!.extra }).toEqual({ other: "y" });
  });

  it("treats a disabled parameter's key as not configured", async () => {
    const config = resolveParamConfig({ email: { enabled: false } });
    const { email: _email, ...named } = SAMPLE_ORDER.named;
    const body = signedApi1Body({ named, custom: { email: "x@example.com" } });
    const { handler, seen } = handlerWith({ paramConfig: { email: { enabled: false } } });
    await handler.handle(post(body));
    expect(config.email.enabled).toBe(false);
    expect(seen[0]!.email).toBeUndefined();
    expect(seen[0]!.custom.email).toBe("x@example.com");
  });

  it("gives no minor units for a currency without a known exponent, unless configured", async () => {
    const body = signedApi1Body({ named: { ...SAMPLE_ORDER.named, currency: "USDT", amount: 12.345678 } });
    const unknown = handlerWith();
    await unknown.handler.handle(post(body));
    expect(unknown.seen[0]).toMatchObject({
      amount: "12.345678",
      amountMinor: undefined,
      exponent: undefined,
    });
    const configured = handlerWith({ currencyExponent: (c) => (c === "USDT" ? 6 : undefined) });
    await configured.handler.handle(post(body));
    expect(configured.seen[0]).toMatchObject({ amountMinor: 12345678n, exponent: 6 });
  });

  it("writes the failure envelope with 200 when the tenant's code refuses", async () => {
    const { handler } = handlerWith({ onPaymentRequest: () => ({ error: "card payments are paused" }) });
    const out = await handler.handle(post(signedApi1Body(SAMPLE_ORDER)));
    expect(out.status).toBe(200);
    expect(JSON.parse(out.body)).toEqual({ data: null, result: false, msg: "card payments are paused" });
  });
});

describe("createApi1Handler: token and sign", () => {
  it("refuses a missing, wrong, empty or repeated header with 401", async () => {
    const body = signedApi1Body(SAMPLE_ORDER);
    for (const token of [NO_TOKEN, "wrong", "", [TOKEN, TOKEN]] as const) {
      const { handler, seen, rejections } = handlerWith();
      const out = await handler.handle(post(body, token));
      expect(out.status).toBe(401);
      expect(JSON.parse(out.body)).toEqual({ data: null, result: false, msg: "invalid crm-pay-token" });
      expect(seen).toHaveLength(0);
      expect(rejections[0]!.reason).toBe("token_invalid");
    }
  });

  it("refuses every single-digit change of the sign and shows the StringA it computed", async () => {
    const body = signedApi1Body(SAMPLE_ORDER);
    const { params } = parseFlatJson(body);
    const good = params.sign as string;
    for (let i = 0; i < good.length; i++) {
      const forged = good.slice(0, i) + (good[i] === "0" ? "1" : "0") + good.slice(i + 1);
      const { handler, seen, rejections } = handlerWith();
      const out = await handler.handle(post(body.replace(good, forged)));
      expect(out.status).toBe(401);
      expect(seen).toHaveLength(0);
      expect(rejections[0]).toMatchObject({ reason: "sign_invalid", status: 401 });
      expect(rejections[0]!.stringA).toContain("order_no=ord-1");
      expect(rejections[0]!.stringA).not.toContain(TOKEN);
    }
  });

  it("refuses a changed value, a missing sign and a sign made with another token", async () => {
    const body = signedApi1Body(SAMPLE_ORDER);
    const cases = [
      body.replace("162.48", "162.49"),
      body.replace(/,"sign":"[0-9A-F]+"/, ""),
      signedApi1Body(SAMPLE_ORDER, "another-token"),
      body.replace('"sign":"', '"sign":"X'),
    ];
    for (const raw of cases) {
      const { handler, seen } = handlerWith();
      expect((await handler.handle(post(raw))).status).toBe(401);
      expect(seen).toHaveLength(0);
    }
  });

  it("refuses every must-fail vector with 401", async () => {
    for (const m of vectorsFile.must_fail) {
      const { handler, seen, rejections } = handlerWith({ token: m.token });
      // The sign in the body (some vector bodies carry a placeholder in its place).
      const withSignField = /"sign":"[^"]*"/.test(m.body)
        ? m.body.replace(/"sign":"[^"]*"/, `"sign":"${m.sign}"`)
        : m.body.replace(/\}$/, `,"sign":"${m.sign}"}`);
      expect((await handler.handle(post(withSignField, m.token))).status, m.name).toBe(401);
      expect(seen).toHaveLength(0);
      expect(rejections[0]?.reason, m.name).toBe("sign_invalid");
    }
  });

  it("accepts the current and the previous token during a rotation, each with its own sign", async () => {
    const { handler, seen } = handlerWith({ tokens: ["new-token", "old-token"] });
    expect((await handler.handle(post(signedApi1Body(SAMPLE_ORDER, "old-token"), "old-token"))).status).toBe(
      200,
    );
    expect((await handler.handle(post(signedApi1Body(SAMPLE_ORDER, "new-token"), "new-token"))).status).toBe(
      200,
    );
    expect(seen.map((r) => r.tokenIndex)).toEqual([1, 0]);
    // The header and the sign must come from the same token.
    expect((await handler.handle(post(signedApi1Body(SAMPLE_ORDER, "old-token"), "new-token"))).status).toBe(
      401,
    );
  });

  it("asks a tokens function with the body's merchant_id", async () => {
    const tokens = vi.fn((merchantId: string | undefined) => (merchantId === "m-known" ? ["tk-known"] : []));
    const { handler } = handlerWith({ tokens });
    const known = { named: { ...SAMPLE_ORDER.named, merchant_id: "m-known" } };
    expect((await handler.handle(post(signedApi1Body(known, "tk-known"), "tk-known"))).status).toBe(200);
    const other = { named: { ...SAMPLE_ORDER.named, merchant_id: "m-other" } };
    expect((await handler.handle(post(signedApi1Body(other, "tk-known"), "tk-known"))).status).toBe(401);
    expect(tokens.mock.calls.map((c) => c[0])).toEqual(["m-known", "m-other"]);
  });

  it("never verifies against an empty token list entry", async () => {
    const { handler } = handlerWith({ tokens: () => [""] });
    expect((await handler.handle(post(signedApi1Body(SAMPLE_ORDER), ""))).status).toBe(401);
  });
});

describe("createApi1Handler: malformed requests", () => {
  const expectStatus = async (raw: string | Uint8Array | undefined, status: number, overrides = {}) => {
    const { handler, seen } = handlerWith(overrides);
    const out = await handler.handle(post(raw));
    expect(out.status).toBe(status);
    expect(JSON.parse(out.body)).toMatchObject({ data: null, result: false });
    expect(seen).toHaveLength(0);
    return out;
  };

  it("answers 400 for bodies that are not one flat JSON object", async () => {
    for (const raw of [undefined, "", "not json", "[]", '{"a":{"b":1}}', '{"a":1,"a":2}', '{"a":1} x']) {
      await expectStatus(raw, 400);
    }
    await expectStatus(new Uint8Array([0x7b, 0xff, 0x7d]), 400);
  });

  it("answers 413 over the cap, for text and bytes, counting UTF-8 bytes", async () => {
    const big = signedApi1Body({ named: { ...SAMPLE_ORDER.named, user_name: "é".repeat(600) } });
    await expectStatus(big, 413, { maxBodyBytes: 1000 });
    await expectStatus(new TextEncoder().encode(big), 413, { maxBodyBytes: 1000 });
    const { handler } = handlerWith({ maxBodyBytes: 2000 });
    expect((await handler.handle(post(big))).status).toBe(200);
  });

  it("answers 400 for signed bodies that miss or mistype a mandatory field", async () => {
    const n = SAMPLE_ORDER.named;
    const cases: Array<Record<string, FlatValue>> = [
      { ...n, amount: undefined },
      { ...n, amount: "162.48" },
      { ...n, amount: -1 },
      { ...n, amount: 1.005 },
      { ...n, currency: "" },
      { ...n, order_no: 5 },
      { ...n, merchant_id: null },
      { ...n, email: 7 },
    ];
    for (const named of cases) await expectStatus(signedApi1Body({ named }), 400);
  });

  it("answers 500 when the tenant's code throws or answers an unsafe URL", async () => {
    const onError = vi.fn();
    for (const onPaymentRequest of [
      () => {
        throw new Error("db down");
      },
      () => ({ url: "javascript:alert(1)" }),
      () => ({ url: "/relative" }),
      () => ({}) as { url: string },
    ]) {
      const { handler } = handlerWith({ onPaymentRequest, onError });
      const out = await handler.handle(post(signedApi1Body(SAMPLE_ORDER)));
      expect(out.status).toBe(500);
      expect(JSON.parse(out.body)).toEqual({ data: null, result: false, msg: "internal error" });
    }
    expect(onError).toHaveBeenCalledTimes(4);
  });
});

describe("createApi1Handler: configuration", () => {
  const onPaymentRequest = () => ({ url: "https://x.example" });

  it("refuses unusable options", () => {
    const bad: unknown[] = [
      { onPaymentRequest },
      { token: "", onPaymentRequest },
      { tokens: [], onPaymentRequest },
      { token: TOKEN },
      { token: TOKEN, onPaymentRequest, maxBodyBytes: 0 },
      { token: TOKEN, onPaymentRequest, paramConfig: { amount: { enabled: false } } },
      { token: TOKEN, onPaymentRequest, paramConfig: { email: { key: "sign" } } },
      { token: TOKEN, onPaymentRequest, paramConfig: { orderNo: { key: "x" } } },
      { token: TOKEN, onPaymentRequest, paramConfig: { email: { key: "phone" } } },
      { token: TOKEN, onPaymentRequest, customKeys: ["email"] },
    ];
    for (const options of bad) {
      expect(() => createApi1Handler(options as Api1HandlerOptions)).toThrow(SdkError);
    }
  });

  it("resolves a partial parameter config over the defaults", () => {
    const config = resolveParamConfig({ order_no: { key: "orderId" } });
    expect(config.order_no).toEqual({ key: "orderId", enabled: true });
    expect(config.amount).toEqual({ key: "amount", enabled: true });
  });

  it("reads headers from a plain object, case-insensitively, or from fetch Headers", () => {
    expect(headerValue({ "CRM-Pay-Token": "a" }, "crm-pay-token")).toBe("a");
    expect(headerValue({ "crm-pay-token": ["a", "b"] }, "crm-pay-token")).toBeUndefined();
    expect(headerValue(new Headers({ "crm-pay-token": "a" }), "crm-pay-token")).toBe("a");
    expect(headerValue(new Headers(), "crm-pay-token")).toBeUndefined();
  });
});

describe("createApi1Handler: properties", () => {
  const text = fc.string({ minLength: 1, maxLength: 12, unit: "grapheme" });
  const key = fc.stringMatching(/^[a-z][a-z0-9_]{0,9}$/).filter((k) => k !== "sign");

  it("round-trips every field a CRM signs under any valid key configuration", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(key, { minLength: API1_PARAM_NAMES.length, maxLength: API1_PARAM_NAMES.length }),
        fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }),
        fc.record({ order: text, user: text, email: text, minor: fc.bigInt({ min: 0n, max: 10n ** 12n }) }),
        fc.string({ minLength: 1, maxLength: 20 }),
        async (keys, enabled, values, token) => {
          const config = defaultApi1ParamConfig();
          API1_PARAM_NAMES.forEach((name, i) => {
            config[name] = { key: keys[i]!, enabled: i < 4 ? true : enabled[i - 4]! };
          });
          const amount = Number(values.minor) / 100;
          const named = {
            merchant_id: "m",
            order_no: values.order,
            amount,
            currency: "EUR",
            user_id: values.user,
            email: values.email,
          };
          const body = signedApi1Body({ named }, token, config);
          const { handler, seen } = handlerWith({ token, paramConfig: config });
          const out = await handler.handle(post(body, token));
          expect(out.status).toBe(200);
          const req = seen[0]!;
          expect(req.orderNo).toBe(values.order);
          expect(req.amount).toBe(String(amount));
          expect(req.amountMinor).toBe(BigInt(Math.round(amount * 100)));
          expect(req.userId).toBe(config.user_id.enabled ? values.user : undefined);
          expect(req.email).toBe(config.email.enabled ? values.email : undefined);
          expect(fromConfiguredKeys(req.params, config, []).named.order_no).toBe(values.order);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("refuses the body when any signed value changes after signing", async () => {
    await fc.assert(
      fc.asyncProperty(text, text, fc.nat({ max: 5 }), async (order, replacement, which) => {
        const named = { ...SAMPLE_ORDER.named, order_no: order };
        const wire = { ...named };
        const signature = sign(wire, TOKEN);
        const keys = Object.keys(named).filter((k) => typeof named[k as keyof typeof named] === "string");
        const target = keys[which % keys.length]!;
        const original = named[target as keyof typeof named];
        fc.pre(replacement !== original);
        const tampered = JSON.stringify({ ...named, [target]: replacement, sign: signature });
        const { handler, seen } = handlerWith();
        expect((await handler.handle(post(tampered))).status).toBe(401);
        expect(seen).toHaveLength(0);
      }),
      { numRuns: 200 },
    );
  });
});
