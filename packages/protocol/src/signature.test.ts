import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ProtocolError } from "./errors.js";
import {
  compareKeys,
  constantTimeEquals,
  type FlatParams,
  type FlatValue,
  sign,
  stringA,
  verify,
  verifyDetailed,
} from "./signature.js";
import { flatParams, fromEntries, jsonFlatParams, RUNS, token } from "./test-arbitraries.js";

const TOKEN = "9f2c4e7a1b3d5f60718293a4b5c6d7e8";

function byteCompare(a: string, b: string): number {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  }
  return Math.sign(x.length - y.length);
}

describe("stringA", () => {
  it("leaves out sign, null, undefined and empty strings; keeps 0 and false", () => {
    expect(stringA({ sign: "X", a: null, b: undefined, c: "", d: 0, e: false, f: "v" })).toBe(
      "d=0&e=false&f=v",
    );
  });

  it("keeps a key that only differs from sign in case", () => {
    expect(stringA({ Sign: "x", SIGN: "y" })).toBe("SIGN=y&Sign=x");
  });

  it("does not escape or trim values", () => {
    expect(stringA({ b: " A&B=C D ", a: "%20+" })).toBe("a=%20+&b= A&B=C D ");
  });

  it("is the empty string when nothing is signed", () => {
    expect(stringA({})).toBe("");
    expect(stringA({ sign: "X", a: "" })).toBe("");
  });

  it("sorts keys by bytes: upper case before lower case, unlike localeCompare", () => {
    expect(stringA({ b: "1", a: "2", B: "3", _: "4", "1": "5" })).toBe("1=5&B=3&_=4&a=2&b=1");
    expect(["b", "a", "B"].sort((x, y) => x.localeCompare(y))).toEqual(["a", "b", "B"]);
  });

  it("sorts an astral key after U+FFFF, as UTF-8 bytes do (UTF-16 order would not)", () => {
    const astral = "\u{1F600}";
    const bmp = "\uFFFF";
    expect(astral < bmp).toBe(true); // UTF-16 code unit order
    expect(stringA({ [astral]: "1", [bmp]: "2" })).toBe(`${bmp}=2&${astral}=1`);
  });

  it("renders numbers by String(n) unless a literal is given, and only for numbers", () => {
    expect(stringA({ a: 100, b: 1e21, c: -0, d: 0.1 })).toBe("a=100&b=1e+21&c=0&d=0.1");
    expect(stringA({ a: 100, b: "x" }, { literals: { a: "100.00", b: "ignored" } })).toBe("a=100.00&b=x");
  });

  it("renders booleans as true and false", () => {
    expect(stringA({ t: true, f: false })).toBe("f=false&t=true");
  });

  it("throws nested_value for objects and arrays, naming the key, also under sign", () => {
    const nested = { a: "1", deep: { x: 1 } } as unknown as FlatParams;
    expect(() => stringA(nested)).toThrow(expect.objectContaining({ code: "nested_value" }));
    expect(() => stringA(nested)).toThrow(/"deep" is an object/);
    expect(() => stringA({ list: [1] } as unknown as FlatParams)).toThrow(/"list" is an array/);
    expect(() => stringA({ sign: ["x"] } as unknown as FlatParams)).toThrow(
      expect.objectContaining({ code: "nested_value" }),
    );
  });

  it("throws invalid_value for values that cannot be signed", () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, 1n, Symbol("s"), () => 1]) {
      expect(() => stringA({ a: bad } as unknown as FlatParams)).toThrow(
        expect.objectContaining({ code: "invalid_value" }),
      );
    }
    expect(() => stringA({ a: "x\uD800" })).toThrow(expect.objectContaining({ code: "invalid_value" }));
    expect(() => stringA({ "\uDC00": "x" })).toThrow(expect.objectContaining({ code: "invalid_value" }));
  });

  it("throws not_object for something that is not a params object", () => {
    for (const bad of [null, "a=1", 1, ["a"]]) {
      expect(() => stringA(bad as unknown as FlatParams)).toThrow(
        expect.objectContaining({ code: "not_object" }),
      );
    }
  });

  it("property: compareKeys orders like the UTF-8 bytes", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", maxLength: 6 }),
        fc.string({ unit: "binary", maxLength: 6 }),
        (a, b) => {
          expect(compareKeys(a, b)).toBe(byteCompare(a, b));
        },
      ),
      RUNS,
    );
  });

  it("property: StringA does not depend on the order keys were inserted in", () => {
    fc.assert(
      fc.property(
        flatParams.chain((p) =>
          fc.tuple(fc.constant(p), fc.shuffledSubarray(Object.keys(p), { minLength: Object.keys(p).length })),
        ),
        ([params, order]) => {
          const reordered = fromEntries(order.map((k) => [k, params[k]] as const));
          expect(stringA(reordered)).toBe(stringA(params));
        },
      ),
      RUNS,
    );
  });
});

describe("constantTimeEquals", () => {
  it("compares tokens exactly", () => {
    expect(constantTimeEquals(TOKEN, TOKEN)).toBe(true);
    expect(constantTimeEquals(TOKEN.toUpperCase(), TOKEN)).toBe(false);
    expect(constantTimeEquals(TOKEN.slice(1), TOKEN)).toBe(false);
    expect(constantTimeEquals(`${TOKEN} `, TOKEN)).toBe(false);
    expect(constantTimeEquals("", TOKEN)).toBe(false);
  });

  it("never matches an empty expected token, or non-strings", () => {
    expect(constantTimeEquals("", "")).toBe(false);
    expect(constantTimeEquals(undefined as unknown as string, TOKEN)).toBe(false);
    expect(constantTimeEquals(TOKEN, null as unknown as string)).toBe(false);
  });

  it("property: agrees with === for any non-empty expected value", () => {
    fc.assert(
      fc.property(token, fc.oneof(token, fc.constant("")), fc.boolean(), (expected, other, same) => {
        const provided = same ? expected : other;
        expect(constantTimeEquals(provided, expected)).toBe(provided === expected);
      }),
      RUNS,
    );
  });
});

describe("sign and verify", () => {
  it("sign is upper-case hex SHA-1 of StringA + token", () => {
    // SHA-1 of UTF-8("a=1&b=é😀" + "tök"), computed independently (Python hashlib).
    expect(sign({ b: "é😀", a: 1 }, "tök")).toBe("747A1F6FB89949CDC62DD25BB50E994FA73ED2AE");
  });

  it("sign refuses an empty token", () => {
    expect(() => sign({ a: "1" }, "")).toThrow(expect.objectContaining({ code: "empty_token" }));
  });

  it("verify uses body.sign when no signature is given, and an explicit one over it", () => {
    const s = sign({ a: "1" }, TOKEN);
    expect(verify({ a: "1", sign: s }, TOKEN)).toBe(true);
    expect(verify({ a: "1", sign: "0".repeat(40) }, TOKEN, s)).toBe(true);
    expect(verify({ a: "1", sign: s }, TOKEN, "0".repeat(40))).toBe(false);
  });

  it("verifyDetailed names why it refused", () => {
    const s = sign({ a: "1" }, TOKEN);
    expect(verifyDetailed({ a: "1" }, TOKEN)).toEqual({
      valid: false,
      stringA: "a=1",
      reason: "missing_sign",
    });
    expect(verifyDetailed({ a: "1", sign: null }, TOKEN).reason).toBe("missing_sign");
    expect(verifyDetailed({ a: "1", sign: "" }, TOKEN).reason).toBe("missing_sign");
    expect(verifyDetailed({ a: "1" }, TOKEN, "").reason).toBe("missing_sign");
    expect(verifyDetailed({ a: "1", sign: 12 }, TOKEN).reason).toBe("malformed_sign");
    expect(verifyDetailed({ a: "1" }, TOKEN, "XYZ").reason).toBe("malformed_sign");
    expect(verifyDetailed({ a: "1" }, TOKEN, `${s.slice(0, 39)}G`).reason).toBe("malformed_sign");
    expect(verifyDetailed({ a: "1" }, "", s).reason).toBe("empty_token");
    expect(verifyDetailed({ a: "2" }, TOKEN, s)).toEqual({
      valid: false,
      stringA: "a=2",
      reason: "mismatch",
    });
    expect(verifyDetailed({ a: "1" }, TOKEN, s)).toEqual({ valid: true, stringA: "a=1" });
  });

  it("accepts lower- and mixed-case hex, never other look-alikes", () => {
    const s = sign({ a: "1" }, TOKEN);
    expect(verify({ a: "1" }, TOKEN, s.toLowerCase())).toBe(true);
    const mixed = [...s].map((c, i) => (i % 2 ? c.toLowerCase() : c)).join("");
    expect(verify({ a: "1" }, TOKEN, mixed)).toBe(true);
    // Fullwidth digits upper-case to themselves and are not hex.
    expect(
      verify(
        { a: "1" },
        TOKEN,
        s.replace(/[0-9]/, (d) => String.fromCharCode(0xff10 + Number(d))),
      ),
    ).toBe(false);
  });

  it("with parsed params and literals, accepts both number forms", () => {
    const params = { amount: 100, x: "y" };
    const literals = { amount: "100.0" };
    const literalSign = sign(params, TOKEN, { literals });
    const parsedSign = sign(params, TOKEN);
    expect(literalSign).not.toBe(parsedSign);
    expect(verify(params, TOKEN, literalSign, { literals })).toBe(true);
    expect(verify(params, TOKEN, parsedSign, { literals })).toBe(true);
    expect(verify(params, TOKEN, literalSign)).toBe(false);
    expect(verifyDetailed(params, TOKEN, literalSign, { literals })).toEqual({
      valid: true,
      stringA: "amount=100.0&x=y",
      stringAParsed: "amount=100&x=y",
    });
  });

  it("raw bodies: literal and String(n) forms, with exponent and negative-zero literals", () => {
    const raw = '{"a":1E2,"b":-0,"c":"x"}';
    expect(verify(raw, TOKEN, sign({ a: 100, b: 0, c: "x" }, TOKEN))).toBe(true);
    expect(verify(raw, TOKEN, sign({ a: 1, b: 1, c: "x" }, TOKEN, { literals: { a: "1E2", b: "-0" } }))).toBe(
      true,
    );
    expect(verify(raw, TOKEN, sign({ a: 1, b: 1, c: "x" }, TOKEN, { literals: { a: "1e2", b: "-0" } }))).toBe(
      false,
    );
  });

  it("throws ProtocolError, not false, for a malformed raw body", () => {
    for (const raw of ["", "[]", "{", '{"a":{}}', '{"a":1,"a":1}', "{} x"]) {
      expect(() => verify(raw, TOKEN, "0".repeat(40))).toThrow(ProtocolError);
    }
  });

  it("property: sign → verify round-trips for any flat params", () => {
    fc.assert(
      fc.property(flatParams, token, (params, tok) => {
        const s = sign(params, tok);
        expect(verify(params, tok, s)).toBe(true);
        expect(verify({ ...params, sign: s }, tok)).toBe(true);
      }),
      RUNS,
    );
  });

  it("property: sign → verify round-trips over the JSON.stringify text", () => {
    fc.assert(
      fc.property(jsonFlatParams, token, (params, tok) => {
        const s = sign(params, tok);
        const raw = JSON.stringify(params);
        expect(verify(raw, tok, s)).toBe(true);
        expect(verify(JSON.stringify({ ...params, sign: s }), tok)).toBe(true);
      }),
      RUNS,
    );
  });

  it("property: a sign over the literal text verifies the raw body too", () => {
    const literalArb = fc.tuple(
      fc.integer({ min: 0, max: 10_000 }),
      fc.constantFrom("", ".0", ".00", ".50", "e0", "E+1", "e-0", ".0e1"),
    );
    fc.assert(
      fc.property(literalArb, token, ([int, suffix], tok) => {
        const literal = `${int}${suffix}`;
        const raw = `{"order_no":"o1","amount":${literal}}`;
        const value = Number(literal);
        expect(
          verify(raw, tok, sign({ order_no: "o1", amount: value }, tok, { literals: { amount: literal } })),
        ).toBe(true);
        expect(verify(raw, tok, sign({ order_no: "o1", amount: value }, tok))).toBe(true);
      }),
      RUNS,
    );
  });
});

// Mutations: keys and values free of `&` and `=`, so StringA maps params one-to-one and any
// change of the signed set is a change of StringA, which the signature must catch.
const safeChar = fc
  .string({ unit: "binary", minLength: 1, maxLength: 1 })
  .filter((c) => c !== "&" && c !== "=");
const safeKey = fc.string({ unit: safeChar, minLength: 1, maxLength: 8 }).filter((k) => k !== "sign");
const safeString = fc.string({ unit: safeChar, minLength: 1, maxLength: 10 });
const safeOther: fc.Arbitrary<FlatValue> = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constantFrom(null, "", 0, false),
);
const signedBody = fc
  .tuple(
    fc.uniqueArray(fc.tuple(safeKey, safeString), { selector: (e) => e[0], minLength: 1, maxLength: 6 }),
    fc.uniqueArray(fc.tuple(safeKey, safeOther), { selector: (e) => e[0], maxLength: 4 }),
  )
  .map(([strings, others]) => {
    const taken = new Set(strings.map((e) => e[0]));
    return {
      params: fromEntries([...strings, ...others.filter((e) => !taken.has(e[0]))]),
      stringKeys: strings.map((e) => e[0]),
    };
  });

function replaceCodePoint(text: string, index: number, replacement: string): string {
  const chars = Array.from(text);
  chars[index % chars.length] = replacement;
  return chars.join("");
}

function expectRefused(mutated: FlatParams, tok: string, signature: string): void {
  expect(verify(mutated, tok, signature)).toBe(false);
  expect(verify(JSON.stringify(mutated), tok, signature)).toBe(false);
}

describe("sign and verify: any change is refused", () => {
  const pick = fc.nat();

  it("property: changing one character of a signed value", () => {
    fc.assert(
      fc.property(signedBody, token, pick, pick, safeChar, ({ params, stringKeys }, tok, k, i, c) => {
        const key = stringKeys[k % stringKeys.length]!;
        const value = params[key] as string;
        const changed = replaceCodePoint(value, i, c);
        fc.pre(changed !== value);
        expectRefused({ ...params, [key]: changed }, tok, sign(params, tok));
      }),
      RUNS,
    );
  });

  it("property: changing one character of a key", () => {
    fc.assert(
      fc.property(signedBody, token, pick, pick, safeChar, ({ params, stringKeys }, tok, k, i, c) => {
        const key = stringKeys[k % stringKeys.length]!;
        const renamed = replaceCodePoint(key, i, c);
        fc.pre(renamed !== key && renamed !== "sign" && !Object.hasOwn(params, renamed));
        const mutated = fromEntries(
          Object.keys(params).map((x) => [x === key ? renamed : x, params[x]] as const),
        );
        expectRefused(mutated, tok, sign(params, tok));
      }),
      RUNS,
    );
  });

  it("property: changing one character of the token", () => {
    fc.assert(
      fc.property(signedBody, token, pick, safeChar, ({ params }, tok, i, c) => {
        const other = replaceCodePoint(tok, i, c);
        fc.pre(other !== tok);
        expectRefused(params, other, sign(params, tok));
      }),
      RUNS,
    );
  });

  it("property: emptying, nulling or removing a signed value, or adding one", () => {
    const change = fc.constantFrom(
      "empty",
      "null",
      "remove",
      "add",
      "number",
      "flip",
    ) as fc.Arbitrary<string>;
    fc.assert(
      fc.property(signedBody, token, pick, change, safeKey, ({ params, stringKeys }, tok, k, how, extra) => {
        const key = stringKeys[k % stringKeys.length]!;
        const mutated = fromEntries(Object.entries(params));
        switch (how) {
          case "empty":
            mutated[key] = "";
            break;
          case "null":
            mutated[key] = null;
            break;
          case "remove":
            delete mutated[key];
            break;
          case "add":
            fc.pre(!Object.hasOwn(params, extra));
            mutated[extra] = "x";
            break;
          case "number": {
            // A string "7" and the number 7 sign alike; a different number must not.
            const current = Object.keys(params).find((x) => typeof params[x] === "number");
            fc.pre(current !== undefined);
            const n = params[current!] as number;
            mutated[current!] = n === 0 ? 1 : -n;
            break;
          }
          case "flip": {
            const current = Object.keys(params).find((x) => typeof params[x] === "boolean");
            fc.pre(current !== undefined);
            mutated[current!] = !params[current!];
            break;
          }
        }
        expectRefused(mutated, tok, sign(params, tok));
      }),
      { ...RUNS, maxSkipsPerRun: 1000 },
    );
  });
});
