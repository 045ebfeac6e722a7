import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  API1_PARAM_NAMES,
  API1_PARAMS,
  type Api1ParamConfig,
  type Api1ParamName,
  CALLBACK_FIELDS,
  defaultApi1ParamConfig,
  fromConfiguredKeys,
  isApi1ParamName,
  nextCustomKey,
  parseApi1Response,
  parseCallback,
  toConfiguredKeys,
  validateApi1ParamConfig,
} from "./fields.js";
import { parseFlatJson, parseFormBody } from "./flat-json.js";
import type { FlatParams, FlatValue } from "./signature.js";
import { fromEntries, jsonFlatValue, RUNS } from "./test-arbitraries.js";

// The spec's API-1 parameter table: docs/psp-open-api.md#api-1-parameters.
describe("API-1 parameters", () => {
  it("lists the standard parameters in spec order with the first four mandatory", () => {
    expect(API1_PARAM_NAMES).toEqual([
      "merchant_id",
      "order_no",
      "amount",
      "currency",
      "user_id",
      "user_name",
      "email",
      "phone",
      "nationality",
      "language",
      "device",
    ]);
    expect(API1_PARAM_NAMES.filter((n) => API1_PARAMS[n].mandatory)).toEqual([
      "merchant_id",
      "order_no",
      "amount",
      "currency",
    ]);
    expect(API1_PARAM_NAMES.filter((n) => API1_PARAMS[n].type === "number")).toEqual(["amount"]);
    expect(isApi1ParamName("email")).toBe(true);
    expect(isApi1ParamName("sign")).toBe(false);
    expect(isApi1ParamName("toString")).toBe(false);
  });

  it("default config: every parameter enabled under its own name, and valid", () => {
    const config = defaultApi1ParamConfig();
    for (const name of API1_PARAM_NAMES) expect(config[name]).toEqual({ key: name, enabled: true });
    expect(validateApi1ParamConfig(config, ["custom_1", "custom_2"])).toEqual([]);
    expect(defaultApi1ParamConfig()).not.toBe(config);
  });

  it("allows renaming and disabling optional parameters", () => {
    const config = defaultApi1ParamConfig();
    config.merchant_id.key = "mch";
    config.amount.key = "amt";
    config.email.enabled = false;
    config.device.enabled = false;
    expect(validateApi1ParamConfig(config, ["custom_bank"])).toEqual([]);
  });

  it.each([["merchant_id"], ["order_no"], ["amount"], ["currency"]] as const)(
    "refuses disabling the mandatory %s",
    (name) => {
      const config = defaultApi1ParamConfig();
      config[name].enabled = false;
      expect(validateApi1ParamConfig(config, [])).toEqual([
        { path: `${name}.enabled`, message: `${name} is mandatory and cannot be disabled` },
      ]);
    },
  );

  it("refuses empty keys, sign, __proto__ and keys outside the charset", () => {
    const bad = ["", "sign", "__proto__", "has space", "a&b", "k=v", "é", "x".repeat(65), "semi;colon"];
    for (const key of bad) {
      const config = defaultApi1ParamConfig();
      config.user_name.key = key;
      const issues = validateApi1ParamConfig(config, []);
      expect(issues, key).toHaveLength(1);
      expect(issues[0]!.path).toBe("user_name.key");
      const custom = validateApi1ParamConfig(defaultApi1ParamConfig(), ["ok", key]);
      expect(custom.map((i) => i.path)).toEqual(["custom.1"]);
    }
    const config = defaultApi1ParamConfig();
    config.phone.key = "";
    expect(validateApi1ParamConfig(config, [])[0]!.message).toMatch(/must not be empty/);
    config.phone.key = "sign";
    expect(validateApi1ParamConfig(config, [])[0]!.message).toMatch(/reserved/);
  });

  it("accepts keys at the edge of the charset", () => {
    const config = defaultApi1ParamConfig();
    config.user_name.key = `A-z_0.9${"x".repeat(57)}`;
    expect(validateApi1ParamConfig(config, ["Sign", "SIGN", "custom.bank-1"])).toEqual([]);
  });

  it("refuses duplicate keys across standard parameters, disabled ones included", () => {
    const config = defaultApi1ParamConfig();
    config.email.key = "phone";
    config.email.enabled = false;
    expect(validateApi1ParamConfig(config, [])).toEqual([
      { path: "phone.key", message: 'the key "phone" is already used by the standard parameter email' },
    ]);
  });

  it("refuses duplicate keys between standard and custom, and among custom", () => {
    expect(validateApi1ParamConfig(defaultApi1ParamConfig(), ["email", "x", "x"])).toEqual([
      { path: "custom.0", message: 'the key "email" is already used by the standard parameter email' },
      { path: "custom.2", message: 'the key "x" is already used by custom parameter 2' },
    ]);
  });

  it("reports missing and malformed entries instead of crashing", () => {
    const config = defaultApi1ParamConfig() as Partial<Api1ParamConfig>;
    delete config.language;
    (config as Record<string, unknown>).device = { key: 5, enabled: "yes" };
    const issues = validateApi1ParamConfig(config as Api1ParamConfig, []);
    expect(issues.map((i) => i.path)).toEqual(["language", "device.key", "device.enabled"]);
  });

  it("nextCustomKey counts up from the highest custom_<n> in use", () => {
    expect(nextCustomKey([])).toBe("custom_1");
    expect(nextCustomKey(["custom_1"])).toBe("custom_2");
    expect(nextCustomKey(["custom_2", "bank"])).toBe("custom_3");
    expect(nextCustomKey(["custom_1", "custom_9", "custom_3"])).toBe("custom_10");
    expect(nextCustomKey(["custom_01", "custom_x", "Custom_5", "custom_"])).toBe("custom_1");
    expect(nextCustomKey(new Set(["email", "custom_4"]))).toBe("custom_5");
  });
});

describe("toConfiguredKeys / fromConfiguredKeys", () => {
  const renamed = (): Api1ParamConfig => {
    const config = defaultApi1ParamConfig();
    config.merchant_id.key = "mch";
    config.order_no.key = "orderId";
    config.amount.key = "amt";
    config.currency.key = "ccy";
    config.language.key = "lang";
    config.email.enabled = false;
    return config;
  };

  it("writes the renamed-keys vector body and leaves disabled and undefined values out", () => {
    const wire = toConfiguredKeys(
      {
        named: {
          merchant_id: "m3",
          order_no: "o6",
          amount: 12.34,
          currency: "GBP",
          language: "en-us",
          email: "a@b",
          phone: undefined,
        },
        custom: { custom_bank: "HSBC" },
      },
      renamed(),
    );
    expect(JSON.stringify(wire)).toBe(
      '{"mch":"m3","orderId":"o6","amt":12.34,"ccy":"GBP","lang":"en-us","custom_bank":"HSBC"}',
    );
    expect(Object.getPrototypeOf(wire)).toBeNull();
  });

  it("reads it back, putting disabled, unconfigured keys in unknown and leaving sign out", () => {
    const wire = { mch: "m3", amt: 12.34, custom_bank: "HSBC", email: "a@b", extra: 1, sign: "X" };
    const decoded = fromConfiguredKeys(wire, renamed(), ["custom_bank"]);
    expect({ ...decoded.named }).toEqual({ merchant_id: "m3", amount: 12.34 });
    expect({ ...decoded.custom }).toEqual({ custom_bank: "HSBC" });
    expect({ ...decoded.unknown }).toEqual({ email: "a@b", extra: 1 });
  });

  it("refuses two values on one key, sign as a custom key, and nested values", () => {
    expect(() =>
      toConfiguredKeys({ named: { email: "a" }, custom: { email: "b" } }, defaultApi1ParamConfig()),
    ).toThrow(expect.objectContaining({ code: "duplicate_key" }));
    expect(() => toConfiguredKeys({ named: {}, custom: { sign: "x" } }, defaultApi1ParamConfig())).toThrow(
      expect.objectContaining({ code: "duplicate_key" }),
    );
    const nested = { named: { email: { a: 1 } } } as unknown as {
      named: Partial<Record<Api1ParamName, FlatValue>>;
    };
    expect(() => toConfiguredKeys(nested, defaultApi1ParamConfig())).toThrow(
      expect.objectContaining({ code: "nested_value" }),
    );
    expect(() =>
      fromConfiguredKeys({ a: [1] } as unknown as FlatParams, defaultApi1ParamConfig(), []),
    ).toThrow(expect.objectContaining({ code: "nested_value" }));
  });

  it("keeps __proto__ as a plain custom key in both directions", () => {
    const wire = toConfiguredKeys(
      { named: {}, custom: fromEntries([["__proto__", "x"]]) },
      defaultApi1ParamConfig(),
    );
    expect(Object.keys(wire)).toEqual(["__proto__"]);
    const decoded = fromConfiguredKeys(wire, defaultApi1ParamConfig(), ["__proto__"]);
    expect(Object.keys(decoded.custom)).toEqual(["__proto__"]);
  });

  it("property: fromConfiguredKeys(toConfiguredKeys(x)) gives x back (minus disabled and undefined)", () => {
    const keyArb = fc
      .stringMatching(/^[A-Za-z0-9_.-]{1,12}$/)
      .filter((k) => k !== "sign" && k !== "__proto__");
    const scenario = fc.uniqueArray(keyArb, { minLength: 11, maxLength: 16 }).chain((keys) =>
      fc.record({
        keys: fc.constant(keys),
        enabled: fc.array(fc.boolean(), { minLength: 11, maxLength: 11 }),
        named: fc.array(fc.option(jsonFlatValue, { nil: undefined }), { minLength: 11, maxLength: 11 }),
        custom: fc.array(jsonFlatValue, { minLength: keys.length - 11, maxLength: keys.length - 11 }),
      }),
    );
    fc.assert(
      fc.property(scenario, ({ keys, enabled, named, custom }) => {
        const config = defaultApi1ParamConfig();
        const values: Partial<Record<Api1ParamName, FlatValue>> = {};
        const expectedNamed: Partial<Record<Api1ParamName, FlatValue>> = {};
        API1_PARAM_NAMES.forEach((name, i) => {
          config[name] = { key: keys[i]!, enabled: API1_PARAMS[name].mandatory || enabled[i]! };
          values[name] = named[i];
          if (config[name].enabled && named[i] !== undefined) expectedNamed[name] = named[i];
        });
        const customKeys = keys.slice(11);
        const customValues = fromEntries(customKeys.map((k, i) => [k, custom[i]] as const));
        expect(validateApi1ParamConfig(config, customKeys)).toEqual([]);

        const wire = toConfiguredKeys({ named: values, custom: customValues }, config);
        const decoded = fromConfiguredKeys(wire, config, customKeys);
        expect({ ...decoded.named }).toEqual(expectedNamed);
        expect(Object.entries(decoded.custom)).toEqual(Object.entries(customValues));
        expect(Object.keys(decoded.unknown)).toEqual([]);
        // And the other way: the wire body survives a decode → encode.
        expect(Object.entries(toConfiguredKeys(decoded, config))).toEqual(Object.entries(wire));
      }),
      RUNS,
    );
  });
});

describe("parseApi1Response", () => {
  const ok = (url: unknown, extra: object = {}) => ({ data: { url }, result: true, msg: "", ...extra });

  it("accepts an absolute https URL and returns it normalised", () => {
    expect(parseApi1Response(ok("https://pay.example.com/p?id=1"), { allowHttp: false })).toEqual({
      ok: true,
      url: "https://pay.example.com/p?id=1",
    });
    expect(parseApi1Response(ok("HTTPS://Pay.Example.com/a b"), { allowHttp: false })).toEqual({
      ok: true,
      url: "https://pay.example.com/a%20b",
    });
  });

  it("accepts http only when allowed", () => {
    expect(parseApi1Response(ok("http://localhost:3000/pay"), { allowHttp: false })).toEqual({
      ok: false,
      reason: "insecure_url",
    });
    expect(parseApi1Response(ok("http://localhost:3000/pay"), { allowHttp: true })).toEqual({
      ok: true,
      url: "http://localhost:3000/pay",
    });
  });

  it.each([
    "javascript:alert(1)",
    " javascript:alert(1)",
    "JavaScript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "ftp://example.com/x",
    "blob:https://example.com/uuid",
    "/relative/path",
    "//example.com/x",
    "pay.example.com",
    "https://",
    "https://user:pass@example.com/",
    "https://bank.example@evil.example/",
    `https://example.com/${"x".repeat(8200)}`,
  ])("refuses %j as bad_url", (url) => {
    expect(parseApi1Response(ok(url), { allowHttp: true })).toEqual({ ok: false, reason: "bad_url" });
  });

  it.each([[undefined], [null], [""], ["  "], [42], [{ href: "https://x" }]])(
    "refuses url %j as missing_url",
    (url) => {
      expect(parseApi1Response(ok(url), { allowHttp: false })).toEqual({ ok: false, reason: "missing_url" });
    },
  );

  it("refuses a missing or non-object data as missing_url", () => {
    expect(parseApi1Response({ result: true }, { allowHttp: false })).toEqual({
      ok: false,
      reason: "missing_url",
    });
    expect(parseApi1Response({ result: true, data: "https://x.example" }, { allowHttp: false }).ok).toBe(
      false,
    );
    expect(parseApi1Response({ result: true, url: "https://x.example" }, { allowHttp: false }).ok).toBe(
      false,
    );
  });

  it.each([[null], [undefined], ["{}"], [[]], [42], [true]])("refuses %j as not_object", (json) => {
    expect(parseApi1Response(json, { allowHttp: false })).toEqual({ ok: false, reason: "not_object" });
  });

  it("requires result to be exactly true, and passes the tenant's msg on", () => {
    for (const result of [false, "true", 1, null, undefined]) {
      expect(parseApi1Response(ok("https://x.example", { result }), { allowHttp: false })).toEqual({
        ok: false,
        reason: "result_not_true",
      });
    }
    expect(parseApi1Response({ result: false, msg: "  Card declined \n" }, { allowHttp: false })).toEqual({
      ok: false,
      reason: "result_not_true",
      msg: "Card declined",
    });
    expect(parseApi1Response({ result: false, msg: 42 }, { allowHttp: false })).toEqual({
      ok: false,
      reason: "result_not_true",
    });
  });

  it("cuts msg to 200 characters, never splitting a surrogate pair, and removes control characters", () => {
    const long = parseApi1Response({ result: false, msg: "😀".repeat(300) }, { allowHttp: false });
    expect(long.ok === false && long.msg).toBe("😀".repeat(200));
    const forged = parseApi1Response({ result: false, msg: "bad\r\nADMIN: ok\u0000" }, { allowHttp: false });
    expect(forged.ok === false && forged.msg).toBe("bad ADMIN: ok");
  });

  const msgOf = (msg: unknown) => {
    const r = parseApi1Response({ result: false, msg }, { allowHttp: false });
    return r.ok ? undefined : r.msg;
  };

  it.each([
    ["U+202E right-to-left override", "\u202e"],
    ["U+202A left-to-right embedding", "\u202a"],
    ["U+202B right-to-left embedding", "\u202b"],
    ["U+202C pop directional formatting", "\u202c"],
    ["U+202D left-to-right override", "\u202d"],
    ["U+2066 left-to-right isolate", "\u2066"],
    ["U+2067 right-to-left isolate", "\u2067"],
    ["U+2068 first strong isolate", "\u2068"],
    ["U+2069 pop directional isolate", "\u2069"],
    ["U+200E left-to-right mark", "\u200e"],
    ["U+200F right-to-left mark", "\u200f"],
    ["U+061C Arabic letter mark", "\u061c"],
    ["U+200B zero width space", "\u200b"],
    ["U+200C zero width non-joiner", "\u200c"],
    ["U+200D zero width joiner", "\u200d"],
    ["U+2060 word joiner", "\u2060"],
    ["U+FEFF byte order mark", "\ufeff"],
    ["U+00AD soft hyphen", "\u00ad"],
    ["U+180E Mongolian vowel separator", "\u180e"],
    ["U+E0041 tag latin capital A", "\u{e0041}"],
    ["U+3164 Hangul filler", "\u3164"],
    ["a lone surrogate", "\ud800"],
  ])("removes %s from msg", (_name, c) => {
    expect(msgOf(`Card${c} declined${c}${c}`)).toBe("Card declined");
    expect(msgOf(c.repeat(3))).toBeUndefined();
  });

  it("keeps a bidi override from reordering what a client reads (the spoofed 'exe.pdf' trick)", () => {
    expect(msgOf("Refund: open invoice_\u202Efdp.exe")).toBe("Refund: open invoice_fdp.exe");
    expect(msgOf("\u2067\u202eAccount blocked\u2069, call +1 555")).toBe("Account blocked, call +1 555");
    expect(msgOf("\u2028second line\u2029")).toBe("second line");
  });

  /** Letters (Lo) that render as nothing; removed too. */
  const HANGUL_FILLERS = /[\u115f\u1160\u3164\uffa0]/u;
  const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;
  /** Every code point of Unicode's Cc and Cf categories (as this Node knows them), and Zl, Zp. */
  const invisibles: string[] = [];
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const c = String.fromCodePoint(cp);
    if (INVISIBLE.test(c)) invisibles.push(c);
  }
  const msgText = fc.oneof(
    fc.string({ unit: "binary", maxLength: 300 }),
    fc.string({
      unit: fc.constantFrom(...invisibles, "\ud800", "\udfff", "a", " ", "é", "😀"),
      maxLength: 300,
    }),
    fc.string({
      unit: fc.oneof(fc.constantFrom(...invisibles), fc.string({ unit: "binary", maxLength: 1 })),
      maxLength: 260,
    }),
  );

  it("a cleaned msg never holds a control (Cc), format (Cf), separator (Zl, Zp) character or a lone surrogate", () => {
    expect(invisibles.length).toBeGreaterThan(150);
    fc.assert(
      fc.property(msgText, (msg) => {
        const out = msgOf(msg);
        if (out === undefined) return;
        expect(out).not.toMatch(INVISIBLE);
        expect(out).toBe(out.trim());
        expect(out).not.toBe("");
        expect(Array.from(out).length).toBeLessThanOrEqual(200);
      }),
      RUNS,
    );
  });

  it("removes only the invisible characters: visible text is kept as it was", () => {
    const visible = fc
      .string({ unit: "binary", maxLength: 1 })
      .filter((c) => c !== "" && !INVISIBLE.test(c) && !HANGUL_FILLERS.test(c) && c.trim() !== "");
    fc.assert(
      fc.property(
        fc.array(fc.tuple(visible, fc.array(fc.constantFrom(...invisibles), { maxLength: 3 })), {
          minLength: 1,
          maxLength: 150,
        }),
        (parts) => {
          const msg = parts
            .map(([c, inv]) => c + inv.filter((x) => !/[\p{Cc}\p{Zl}\p{Zp}]/u.test(x)).join(""))
            .join("");
          expect(msgOf(msg)).toBe(parts.map(([c]) => c).join(""));
        },
      ),
      RUNS,
    );
  });
});

describe("parseCallback", () => {
  // The spec's api2-sample (docs/psp-open-api.md#signature-vectors).
  const api2 =
    '{"merchant_id":"f23eb3a856284d0a87913e33ed581852","order_no":"td0bhyp3lqm1","transaction_id":"98765434567876","amount":432.98,"currency":"USD","time":1631696419516,"user_id":"ewem9cab","status":1,"sign":"1A178654826B595FDBCBD517C0A20B21B1E04204"}';

  it("types the spec sample", () => {
    const { params, literals } = parseFlatJson(api2);
    expect(parseCallback(params, literals)).toEqual({
      ok: true,
      callback: {
        merchantId: "f23eb3a856284d0a87913e33ed581852",
        orderNo: "td0bhyp3lqm1",
        transactionId: "98765434567876",
        amountText: "432.98",
        currency: "USD",
        time: 1631696419516,
        status: 1,
        userId: "ewem9cab",
        sign: "1A178654826B595FDBCBD517C0A20B21B1E04204",
      },
    });
  });

  it("keeps the amount's literal text, and String(n) without literals", () => {
    const { params, literals } = parseFlatJson(api2.replace("432.98", "432.980"));
    const withLiterals = parseCallback(params, literals);
    expect(withLiterals.ok && withLiterals.callback.amountText).toBe("432.980");
    const without = parseCallback(params);
    expect(without.ok && without.callback.amountText).toBe("432.98");
  });

  it("leaves optional fields out when absent, null or empty, and allows extra flat keys", () => {
    const result = parseCallback({
      merchant_id: "m",
      order_no: "o",
      transaction_id: null,
      user_id: "",
      amount: 1,
      currency: "USD",
      time: 0,
      status: 7,
      sign: "S",
      extra: true,
      more: null,
    });
    expect(result).toEqual({
      ok: true,
      callback: {
        merchantId: "m",
        orderNo: "o",
        amountText: "1",
        currency: "USD",
        time: 0,
        status: 7,
        sign: "S",
      },
    });
  });

  const base = (): FlatParams => {
    const { params } = parseFlatJson(api2);
    return { ...params };
  };

  it.each(["merchant_id", "order_no", "amount", "currency", "time", "status", "sign"])(
    "names the missing required key %s (absent, null or empty)",
    (key) => {
      for (const value of [undefined, null, ""]) {
        const params = base();
        if (value === undefined) delete params[key];
        else params[key] = value;
        expect(parseCallback(params)).toEqual({
          ok: false,
          error: { type: "request_malformed", message: `\`${key}\` is missing`, path: key },
        });
      }
    },
  );

  it.each([
    ["merchant_id", 5],
    ["order_no", true],
    ["currency", 840],
    ["sign", 1],
    ["transaction_id", 98765434567876],
    ["user_id", false],
    ["amount", "432.98"],
    ["time", "1631696419516"],
    ["status", "1"],
    ["status", true],
  ])("refuses %s of the wrong type (%j)", (key, value) => {
    const result = parseCallback({ ...base(), [key]: value });
    expect(result).toMatchObject({ ok: false, error: { type: "request_malformed", path: key } });
  });

  it.each([[1.5], [-1], [2 ** 53], [Number.NaN]])("refuses time %j", (time) => {
    expect(parseCallback({ ...base(), time })).toMatchObject({ ok: false, error: { path: "time" } });
  });

  it("refuses nested and non-JSON values anywhere, naming the key", () => {
    expect(parseCallback({ ...base(), extra: { a: 1 } } as unknown as FlatParams)).toMatchObject({
      ok: false,
      error: { type: "request_malformed", path: "extra" },
    });
    expect(parseCallback({ ...base(), amount: [1] } as unknown as FlatParams)).toMatchObject({
      ok: false,
      error: { path: "amount" },
    });
    expect(parseCallback({ ...base(), x: 1n } as unknown as FlatParams)).toMatchObject({
      ok: false,
      error: { path: "x" },
    });
    expect(parseCallback(null as unknown as FlatParams)).toMatchObject({ ok: false, error: { path: "" } });
    expect(parseCallback([] as unknown as FlatParams)).toMatchObject({ ok: false, error: { path: "" } });
  });

  it("reads form bodies: all strings, numbers as JSON number text", () => {
    const params = parseFormBody(
      "merchant_id=m&order_no=o&amount=100.10&currency=EUR&time=1700000000000&status=2&sign=S&user_id=u",
    );
    expect(parseCallback(params, undefined, { form: true })).toEqual({
      ok: true,
      callback: {
        merchantId: "m",
        orderNo: "o",
        amountText: "100.10",
        currency: "EUR",
        time: 1700000000000,
        status: 2,
        userId: "u",
        sign: "S",
      },
    });
  });

  it.each([
    ["amount", "1,5"],
    ["amount", " 1"],
    ["amount", "+1"],
    ["amount", "0x10"],
    ["amount", "NaN"],
    ["time", "1.7e12x"],
    ["time", "1e999"],
    ["status", "one"],
    ["status", ""],
  ])("form: refuses %s=%j", (key, value) => {
    const params: Record<string, string> = {
      merchant_id: "m",
      order_no: "o",
      amount: "1",
      currency: "EUR",
      time: "1",
      status: "1",
      sign: "S",
      [key]: value,
    };
    expect(parseCallback(params, undefined, { form: true })).toMatchObject({
      ok: false,
      error: { path: key },
    });
  });

  it("describes every API-2 field", () => {
    expect(CALLBACK_FIELDS.map((f) => `${f.key}:${f.type}:${f.required}`)).toEqual([
      "merchant_id:string:true",
      "order_no:string:true",
      "transaction_id:string:false",
      "amount:number:true",
      "currency:string:true",
      "time:number:true",
      "status:number:true",
      "user_id:string:false",
      "sign:string:true",
    ]);
  });
});
