import { ProtocolError } from "./errors.js";
import type { FlatParams, FlatValue } from "./signature.js";

/** A parsed flat body: the values and, for every number, its exact text in the raw JSON. */
export interface ParsedFlatJson {
  /** Null-prototype object: keys such as `__proto__` are plain own keys. */
  readonly params: FlatParams;
  /** Null-prototype object: key → the number's literal text (`100.0`, `1E2`), numbers only. */
  readonly literals: Record<string, string>;
}

// In unicode mode a well-formed surrogate pair is one code point (not Cs): only lone halves match.
const LONE_SURROGATE = /\p{Cs}/u;

/** Whether `text` holds a lone UTF-16 surrogate (no UTF-8 form, so it cannot be signed). */
export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text);
}

/** `"key"` for messages, cut short so a hostile key cannot flood a log. */
export function describeKey(key: string): string {
  const quoted = JSON.stringify(key);
  return quoted.length > 66 ? `${quoted.slice(0, 64)}…"` : quoted;
}

// Character codes of the JSON grammar.
const TAB = 0x09;
const NEWLINE = 0x0a;
const RETURN = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const PLUS = 0x2b;
const COMMA = 0x2c;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const ONE = 0x31;
const NINE = 0x39;
const COLON = 0x3a;
const UPPER_E = 0x45;
const OPEN_BRACKET = 0x5b;
const BACKSLASH = 0x5c;
const LOWER_E = 0x65;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

const SIMPLE_ESCAPES: Record<string, string> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * Parses a body that must be ONE flat JSON object ("Nested objects and arrays are not allowed in
 * either API": docs/psp-open-api.md#signature-refusals), strictly by the RFC 8259 grammar, and
 * records each number's literal text, which is what gets signed (docs/psp-open-api.md#signature-numbers).
 *
 * Rejects, always with a {@link ProtocolError}: syntax errors and trailing text (`invalid_json`),
 * valid JSON that is not an object (`not_object`), object or array values (`nested_value`),
 * a key given twice (`duplicate_key`: signer and verifier could disagree on the value), numbers
 * out of double range and strings with lone surrogates (`invalid_value`). It never recurses, so
 * no input can exhaust the stack, and runs in time linear in the input.
 */
export function parseFlatJson(raw: string): ParsedFlatJson {
  if (typeof raw !== "string") throw new ProtocolError("invalid_json", "the body must be text");
  const n = raw.length;
  let i = 0;

  const fail = (message: string): never => {
    throw new ProtocolError("invalid_json", `${message} at offset ${i}`);
  };
  const skipWhitespace = (): void => {
    for (; i < n; i++) {
      const c = raw.charCodeAt(i);
      if (c !== SPACE && c !== NEWLINE && c !== RETURN && c !== TAB) return;
    }
  };
  const parseString = (): string => {
    i++; // opening quote
    let out = "";
    let start = i;
    for (;;) {
      if (i >= n) return fail("unterminated string");
      const c = raw.charCodeAt(i);
      if (c === QUOTE) {
        out += raw.slice(start, i);
        i++;
        return out;
      }
      if (c === BACKSLASH) {
        out += raw.slice(start, i);
        const e = raw.charAt(i + 1);
        if (e === "u") {
          let unit = 0;
          for (let k = 2; k < 6; k++) {
            const h = hexValue(raw.charCodeAt(i + k));
            if (h < 0) return fail("bad \\u escape");
            unit = unit * 16 + h;
          }
          out += String.fromCharCode(unit);
          i += 6;
        } else {
          const simple = Object.hasOwn(SIMPLE_ESCAPES, e) ? SIMPLE_ESCAPES[e] : undefined;
          if (simple === undefined) return fail("bad escape");
          out += simple;
          i += 2;
        }
        start = i;
      } else if (c < SPACE) {
        return fail("control character in string");
      } else {
        i++;
      }
    }
  };
  const skipDigits = (): boolean => {
    const from = i;
    while (i < n && isDigit(raw.charCodeAt(i))) i++;
    return i > from;
  };
  const parseNumberText = (): string => {
    const start = i;
    if (raw.charCodeAt(i) === MINUS) i++;
    const first = raw.charCodeAt(i);
    if (first === ZERO) i++;
    else if (first >= ONE && first <= NINE) skipDigits();
    else return fail("bad number");
    if (raw.charCodeAt(i) === DOT) {
      i++;
      if (!skipDigits()) return fail("bad number: digits expected after '.'");
    }
    const e = raw.charCodeAt(i);
    if (e === LOWER_E || e === UPPER_E) {
      i++;
      const sign = raw.charCodeAt(i);
      if (sign === PLUS || sign === MINUS) i++;
      if (!skipDigits()) return fail("bad number: digits expected in exponent");
    }
    return raw.slice(start, i);
  };
  const expectWord = (word: string): void => {
    if (!raw.startsWith(word, i)) fail("unexpected token");
    i += word.length;
  };

  skipWhitespace();
  if (i >= n) fail("empty body");
  const first = raw.charCodeAt(i);
  if (first !== OPEN_BRACE) {
    const c = raw.charAt(i);
    if ('["-tfn'.includes(c) || isDigit(first)) {
      throw new ProtocolError("not_object", "the body must be a JSON object");
    }
    fail("unexpected token");
  }
  i++;

  const params: Record<string, FlatValue> = Object.create(null);
  const literals: Record<string, string> = Object.create(null);

  skipWhitespace();
  if (raw.charCodeAt(i) === CLOSE_BRACE) {
    i++;
  } else {
    for (;;) {
      if (raw.charCodeAt(i) !== QUOTE) fail("key string expected");
      const key = parseString();
      skipWhitespace();
      if (raw.charCodeAt(i) !== COLON) fail("':' expected");
      i++;
      skipWhitespace();

      const c = raw.charCodeAt(i);
      let value: FlatValue;
      let literal: string | undefined;
      if (c === QUOTE) {
        value = parseString();
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        const what = c === OPEN_BRACE ? "an object" : "an array";
        throw new ProtocolError(
          "nested_value",
          `the value of ${describeKey(key)} is ${what}: nested values are not allowed`,
        );
      } else if (c === MINUS || isDigit(c)) {
        literal = parseNumberText();
        value = Number(literal);
        if (!Number.isFinite(value)) {
          throw new ProtocolError("invalid_value", `the number of ${describeKey(key)} is out of range`);
        }
      } else if (c === 0x74 /* t */) {
        expectWord("true");
        value = true;
      } else if (c === 0x66 /* f */) {
        expectWord("false");
        value = false;
      } else if (c === 0x6e /* n */) {
        expectWord("null");
        value = null;
      } else {
        return fail("value expected");
      }

      if (Object.hasOwn(params, key)) {
        throw new ProtocolError("duplicate_key", `the key ${describeKey(key)} appears more than once`);
      }
      if (hasLoneSurrogate(key) || (typeof value === "string" && hasLoneSurrogate(value))) {
        throw new ProtocolError(
          "invalid_value",
          `${describeKey(key)} contains a lone surrogate: it has no UTF-8 form and cannot be signed`,
        );
      }
      params[key] = value;
      if (literal !== undefined) literals[key] = literal;

      skipWhitespace();
      const sep = raw.charCodeAt(i);
      if (sep === COMMA) {
        i++;
        skipWhitespace();
        continue;
      }
      if (sep === CLOSE_BRACE) {
        i++;
        break;
      }
      fail("',' or '}' expected");
    }
  }

  skipWhitespace();
  if (i < n) fail("unexpected text after the object");
  return { params, literals };
}

/**
 * Parses an `application/x-www-form-urlencoded` API-2 body (ours: accepted besides JSON) into
 * string parameters, by the WHATWG rules (`+` is a space, percent-decoding as UTF-8).
 * A key given twice throws `duplicate_key`, as in JSON.
 */
export function parseFormBody(raw: string): Record<string, string> {
  const params: Record<string, string> = Object.create(null);
  let duplicate: string | undefined;
  // The URLSearchParams constructor drops one leading "?"; the form parser does not. A leading
  // "&" makes an empty pair that the parser skips, so the text is read exactly as sent.
  new URLSearchParams(`&${raw}`).forEach((value, key) => {
    if (Object.hasOwn(params, key)) duplicate ??= key;
    else params[key] = value;
  });
  if (duplicate !== undefined) {
    throw new ProtocolError("duplicate_key", `the key ${describeKey(duplicate)} appears more than once`);
  }
  return params;
}
