import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ProtocolError, type ProtocolErrorCode } from "./errors.js";
import { parseFlatJson, parseFormBody } from "./flat-json.js";
import { flatKey, flatNumber, RUNS, wildString } from "./test-arbitraries.js";

function codeOf(f: () => unknown): ProtocolErrorCode | "no error" | "other error" {
  try {
    f();
    return "no error";
  } catch (error) {
    return error instanceof ProtocolError ? error.code : "other error";
  }
}

describe("parseFlatJson", () => {
  it("parses a flat object and records number literals", () => {
    const { params, literals } = parseFlatJson(
      ' {"s":"x","n":100.0,"i":-7,"e":1E+2,"t":true,"f":false,"z":null,"empty":""} \n',
    );
    expect({ ...params }).toEqual({ s: "x", n: 100, i: -7, e: 100, t: true, f: false, z: null, empty: "" });
    expect({ ...literals }).toEqual({ n: "100.0", i: "-7", e: "1E+2" });
  });

  it("parses the empty object", () => {
    expect({ ...parseFlatJson("{}").params }).toEqual({});
    expect({ ...parseFlatJson(" \t\r\n{ \t\r\n} \t\r\n").params }).toEqual({});
  });

  it("decodes every escape, surrogate pairs included", () => {
    const { params } = parseFlatJson(
      String.raw`{"k\u0041":"\" \\ \/ \b \f \n \r \t \u00e9 \uD83D\uDE00 \u0000"}`,
    );
    expect(params.kA).toBe('" \\ / \b \f \n \r \t é 😀 \u0000');
  });

  it("returns null-prototype objects; __proto__ and constructor are plain keys", () => {
    const { params, literals } = parseFlatJson('{"__proto__":"x","constructor":1,"toString":"y"}');
    expect(Object.getPrototypeOf(params)).toBeNull();
    expect(Object.getPrototypeOf(literals)).toBeNull();
    expect(Object.keys(params)).toEqual(["__proto__", "constructor", "toString"]);
    expect(Object.getOwnPropertyDescriptor(params, "__proto__")?.value).toBe("x");
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty("x");
  });

  it.each([
    ["", "invalid_json"],
    ["   ", "invalid_json"],
    ["hello", "invalid_json"],
    ["\uFEFF{}", "invalid_json"],
    ["{", "invalid_json"],
    ['{"a"', "invalid_json"],
    ['{"a":', "invalid_json"],
    ['{"a":1', "invalid_json"],
    ['{"a":1,}', "invalid_json"],
    ['{,"a":1}', "invalid_json"],
    ['{"a" 1}', "invalid_json"],
    ['{"a":1 "b":2}', "invalid_json"],
    ["{a:1}", "invalid_json"],
    ["{'a':1}", "invalid_json"],
    ['{"a":1}}', "invalid_json"],
    ['{"a":1} x', "invalid_json"],
    ['{"a":1}{}', "invalid_json"],
    ['{"a":"x}', "invalid_json"],
    ['{"a":"\\x"}', "invalid_json"],
    ['{"a":"\\u12G4"}', "invalid_json"],
    ['{"a":"\\u12"}', "invalid_json"],
    ['{"a":"tab\there"}', "invalid_json"],
    ['{"a":"line\nbreak"}', "invalid_json"],
    ['{"a":01}', "invalid_json"],
    ['{"a":+1}', "invalid_json"],
    ['{"a":.5}', "invalid_json"],
    ['{"a":1.}', "invalid_json"],
    ['{"a":1e}', "invalid_json"],
    ['{"a":-}', "invalid_json"],
    ['{"a":0x10}', "invalid_json"],
    ['{"a":NaN}', "invalid_json"],
    ['{"a":Infinity}', "invalid_json"],
    ['{"a":tru}', "invalid_json"],
    ['{"a":True}', "invalid_json"],
    ['{"a":nul}', "invalid_json"],
    ['{"a":undefined}', "invalid_json"],
    ["[]", "not_object"],
    ['["a"]', "not_object"],
    ['"x"', "not_object"],
    ["1", "not_object"],
    ["-1", "not_object"],
    ["true", "not_object"],
    ["null", "not_object"],
    ['{"a":{}}', "nested_value"],
    ['{"a":{"b":1}}', "nested_value"],
    ['{"a":[]}', "nested_value"],
    ['{"x":1,"a":[1,2]}', "nested_value"],
    ['{"a":1,"a":1}', "duplicate_key"],
    ['{"a":1,"b":2,"a":"1"}', "duplicate_key"],
    ['{"a":1,"\\u0061":2}', "duplicate_key"],
    ['{"sign":"A","sign":"B"}', "duplicate_key"],
    ['{"a":1e400}', "invalid_value"],
    ['{"a":-1e400}', "invalid_value"],
    ['{"a":"\\uD800"}', "invalid_value"],
    ['{"a":"x\\uDC00y"}', "invalid_value"],
    ['{"\\uD83D":1}', "invalid_value"],
    ['{"a":"\uD800"}', "invalid_value"],
  ] as const)("rejects %j with %s", (raw, code) => {
    expect(codeOf(() => parseFlatJson(raw))).toBe(code);
  });

  it("names the key in nested and duplicate errors", () => {
    expect(() => parseFlatJson('{"amount":{"v":1}}')).toThrow(/"amount" is an object/);
    expect(() => parseFlatJson('{"list":[1]}')).toThrow(/"list" is an array/);
    expect(() => parseFlatJson('{"k":1,"k":2}')).toThrow(/"k" appears more than once/);
  });

  it("rejects a non-string argument with ProtocolError", () => {
    expect(codeOf(() => parseFlatJson(undefined as unknown as string))).toBe("invalid_json");
  });

  it("does not recurse: a million brackets fail at once", () => {
    expect(codeOf(() => parseFlatJson("[".repeat(1_000_000)))).toBe("not_object");
    expect(codeOf(() => parseFlatJson(`{"a":${"[".repeat(1_000_000)}`))).toBe("nested_value");
    expect(codeOf(() => parseFlatJson("{".repeat(1_000_000)))).toBe("invalid_json");
  });

  it("parses a large flat object", () => {
    const raw = `{${Array.from({ length: 50_000 }, (_, i) => `"k${i}":${i}`).join(",")}}`;
    expect(Object.keys(parseFlatJson(raw).params)).toHaveLength(50_000);
  });

  it("property: agrees with JSON.parse on valid flat objects, whatever escapes and spacing", () => {
    fc.assert(
      fc.property(flatDocument, ({ raw, literals }) => {
        const parsed = parseFlatJson(raw);
        const expected = JSON.parse(raw) as Record<string, unknown>;
        expect(Object.keys(parsed.params)).toEqual(Object.keys(expected));
        for (const key of Object.keys(expected))
          expect(Object.is(parsed.params[key], expected[key])).toBe(true);
        expect(Object.entries(parsed.literals)).toEqual(Object.entries(literals));
      }),
      RUNS,
    );
  });

  it("property: never throws anything but ProtocolError, and only accepts what JSON.parse accepts", () => {
    const arbitraryText = fc.oneof(
      fc.string({ unit: "binary", maxLength: 40 }),
      jsonSoup,
      flatDocument.chain(({ raw }) =>
        fc
          .tuple(fc.nat(raw.length), fc.nat(2), anyJsonChar)
          .map(([at, how, c]) =>
            how === 0
              ? raw.slice(0, at) + raw.slice(at + 1)
              : how === 1
                ? raw.slice(0, at) + c + raw.slice(at)
                : raw.slice(0, at),
          ),
      ),
    );
    fc.assert(
      fc.property(arbitraryText, (raw) => {
        let ours: Record<string, unknown> | undefined;
        try {
          ours = parseFlatJson(raw).params;
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError);
        }
        let theirs: unknown;
        let theirsFailed = false;
        try {
          theirs = JSON.parse(raw);
        } catch {
          theirsFailed = true;
        }
        if (theirsFailed) expect(ours).toBeUndefined();
        if (ours !== undefined) {
          expect(Object.entries(ours)).toEqual(Object.entries(theirs as object));
        }
      }),
      RUNS,
    );
  });
});

describe("parseFormBody", () => {
  it("decodes application/x-www-form-urlencoded into strings", () => {
    const params = parseFormBody(
      "merchant_id=m1&amount=162.48&user_name=John+Doe&x=%E5%B1%B1%26%3D&empty=&bare",
    );
    expect({ ...params }).toEqual({
      merchant_id: "m1",
      amount: "162.48",
      user_name: "John Doe",
      x: "山&=",
      empty: "",
      bare: "",
    });
    expect(Object.getPrototypeOf(params)).toBeNull();
  });

  it("keeps a leading '?' as part of the first key, as a form parser does", () => {
    expect(Object.keys(parseFormBody("?a=1"))).toEqual(["?a"]);
  });

  it("parses an empty body to no parameters", () => {
    expect(Object.keys(parseFormBody(""))).toEqual([]);
  });

  it("rejects a key given twice", () => {
    expect(codeOf(() => parseFormBody("a=1&b=2&a=1"))).toBe("duplicate_key");
    expect(codeOf(() => parseFormBody("a=1&%61=2"))).toBe("duplicate_key");
  });

  it("keeps __proto__ as a plain key", () => {
    const params = parseFormBody("__proto__=x");
    expect(Object.getOwnPropertyDescriptor(params, "__proto__")?.value).toBe("x");
    expect(Object.getPrototypeOf(params)).toBeNull();
  });
});

// ----- arbitraries for JSON text ------------------------------------------------------------------

const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  "\\": "\\\\",
  "/": "\\/",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
};

/** Writes a JSON string, choosing per UTF-16 unit between literal, short and \u escapes. */
function encodeJsonString(text: string, choices: readonly number[], offset: number): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    const ch = text[i]!;
    const choice = choices.length === 0 ? 0 : choices[(offset + i) % choices.length]!;
    const mustEscape = ch === '"' || ch === "\\" || unit < 0x20;
    const hex = unit.toString(16).padStart(4, "0");
    if (choice === 1 || (mustEscape && choice !== 2 && SHORT_ESCAPES[ch] === undefined)) out += `\\u${hex}`;
    else if (choice === 2) out += `\\u${hex.toUpperCase()}`;
    else if (SHORT_ESCAPES[ch] !== undefined && (mustEscape || choice === 3)) out += SHORT_ESCAPES[ch];
    else out += ch;
  }
  return `${out}"`;
}

const whitespace = fc.stringMatching(/^[ \t\n\r]{0,2}$/);

const numberLiteral: fc.Arbitrary<string> = fc.oneof(
  flatNumber.map((n) => JSON.stringify(n)),
  fc
    .tuple(
      fc.constantFrom("", "-"),
      fc.oneof(fc.constant("0"), fc.stringMatching(/^[1-9][0-9]{0,16}$/)),
      fc.oneof(fc.constant(""), fc.stringMatching(/^\.[0-9]{1,12}$/)),
      fc.oneof(fc.constant(""), fc.stringMatching(/^[eE][+-]?[0-9]{1,2}$/)),
    )
    .map((parts) => parts.join("")),
);

const jsonValue = fc.oneof(
  { arbitrary: wildString().map((s) => ({ kind: "string" as const, s })), weight: 3 },
  { arbitrary: numberLiteral.map((s) => ({ kind: "number" as const, s })), weight: 2 },
  {
    arbitrary: fc.constantFrom("true", "false", "null").map((s) => ({ kind: "word" as const, s })),
    weight: 1,
  },
);

/** A valid flat JSON object, written with random escapes and spacing, and its number literals. */
const flatDocument = fc
  .tuple(
    fc.uniqueArray(fc.tuple(flatKey, jsonValue, whitespace, whitespace, whitespace, whitespace), {
      selector: (e) => e[0],
      maxLength: 8,
    }),
    fc.array(fc.nat(3), { maxLength: 16 }),
    whitespace,
    whitespace,
  )
  .map(([entries, choices, lead, trail]) => {
    const literals: Record<string, string> = Object.create(null);
    let offset = 0;
    const members = entries.map(([key, value, w1, w2, w3, w4]) => {
      offset += 7;
      const keyText = encodeJsonString(key, choices, offset);
      let valueText = value.s;
      if (value.kind === "string") valueText = encodeJsonString(value.s, choices, offset + 3);
      if (value.kind === "number") literals[key] = value.s;
      return `${w1}${keyText}${w2}:${w3}${valueText}${w4}`;
    });
    return { raw: `${lead}{${members.join(",")}${members.length === 0 ? lead : ""}}${trail}`, literals };
  })
  .filter(({ raw }) => {
    // Huge exponents overflow to Infinity, which parseFlatJson refuses on purpose.
    const parsed = JSON.parse(raw) as Record<string, unknown>;
    return Object.values(parsed).every((v) => typeof v !== "number" || Number.isFinite(v));
  });

const anyJsonChar = fc.constantFrom(
  "{",
  "}",
  "[",
  "]",
  '"',
  ":",
  ",",
  "\\",
  "u",
  "0",
  "-",
  ".",
  "e",
  " ",
  "x",
  "\n",
);

const jsonSoup = fc
  .tuple(
    fc.boolean(),
    fc.array(
      fc.constantFrom(
        "{",
        "}",
        "[",
        "]",
        '"',
        ":",
        ",",
        "\\",
        '"a"',
        '"b"',
        '"\\u0061"',
        '"\\uD83D\\uDE00"',
        '"\\uD83D"',
        "0",
        "12",
        "-",
        ".5",
        "e3",
        "true",
        "false",
        "null",
        " ",
        "\n",
        "\u0001",
      ),
      { maxLength: 16 },
    ),
  )
  .map(([wrap, parts]) => (wrap ? `{${parts.join("")}}` : parts.join("")));
