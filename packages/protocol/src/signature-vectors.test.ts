import { describe, expect, it, vi } from "vitest";
import vectorsFile from "../test-fixtures/signature-vectors.json" with { type: "json" };
import { ProtocolError } from "./errors.js";
import { parseFlatJson } from "./flat-json.js";
import { sha1Hex } from "./sha1.js";
import { type FlatParams, sign, stringA, verify, verifyDetailed } from "./signature.js";

interface Vector {
  name: string;
  token: string;
  body: string;
  string_a: string;
  sign: string;
  string_a_from_parsed_numbers?: string;
  sign_from_parsed_numbers?: string;
}

interface MustFail {
  name: string;
  why: string;
  token: string;
  body: string;
  /** What the broken signer signed, when the mistake is in StringA. */
  string_a_signed?: string;
  sign: string;
}

// The protocol's test vectors (docs/psp-open-api.md#signature-vectors): every implementation must pass all.
const vectors: Vector[] = vectorsFile.vectors;
const mustFail: MustFail[] = vectorsFile.must_fail;

/** Flips one hex digit of a signature, keeping it well-formed. */
function flipDigit(signature: string, index: number): string {
  const c = signature[index]!;
  const replacement = c === "0" ? "1" : "0";
  return signature.slice(0, index) + replacement + signature.slice(index + 1);
}

describe("signature vectors", () => {
  it("has the vectors", () => {
    expect(vectors.length).toBeGreaterThanOrEqual(12);
  });

  describe.each(vectors.map((v) => [v.name, v] as const))("%s", (_name, v) => {
    it("StringA over the literal-preserving parse equals string_a", () => {
      const { params, literals } = parseFlatJson(v.body);
      expect(stringA(params, { literals })).toBe(v.string_a);
    });

    it("sign equals the vector's sign", () => {
      const { params, literals } = parseFlatJson(v.body);
      expect(sign(params, v.token, { literals })).toBe(v.sign);
    });

    it("verify(raw body) accepts the sign, also in lower case", () => {
      expect(verify(v.body, v.token, v.sign)).toBe(true);
      expect(verify(v.body, v.token, v.sign.toLowerCase())).toBe(true);
    });

    it("verify(raw body) accepts the sign taken from the body itself", () => {
      const withSign = `${v.body.slice(0, -1).replace(/,"sign":"[^"]*"/, "")},"sign":"${v.sign}"}`;
      expect(verify(withSign, v.token)).toBe(true);
    });

    it("accepts sign_from_parsed_numbers, and JSON.parse params give string_a_from_parsed_numbers", () => {
      const parsed = JSON.parse(v.body) as FlatParams;
      if (v.sign_from_parsed_numbers === undefined) {
        // No number whose literal differs from String(n): both forms coincide.
        expect(stringA(parsed)).toBe(v.string_a);
        expect(verify(parsed, v.token, v.sign)).toBe(true);
        return;
      }
      expect(verify(v.body, v.token, v.sign_from_parsed_numbers)).toBe(true);
      expect(stringA(parsed)).toBe(v.string_a_from_parsed_numbers);
      expect(sign(parsed, v.token)).toBe(v.sign_from_parsed_numbers);
      expect(verify(parsed, v.token, v.sign_from_parsed_numbers)).toBe(true);
      // Parsed params have lost the literal text: the literal-form sign cannot verify there.
      expect(verify(parsed, v.token, v.sign)).toBe(false);
      const detail = verifyDetailed(v.body, v.token, v.sign);
      expect(detail).toMatchObject({
        valid: true,
        stringA: v.string_a,
        stringAParsed: v.string_a_from_parsed_numbers,
      });
    });

    // Guards against a verifier that always passes (docs/failure-modes.md#failure-mode-11).
    it("refuses forged signs (failure mode 11)", () => {
      for (const index of [0, 17, 39]) expect(verify(v.body, v.token, flipDigit(v.sign, index))).toBe(false);
      expect(verify(v.body, `${v.token}x`, v.sign)).toBe(false);
      expect(verify(v.body, v.token.slice(1), v.sign)).toBe(false);
      expect(verify(v.body, v.token, "0".repeat(40))).toBe(false);
      expect(verify(v.body, v.token, v.sign.slice(0, 39))).toBe(false);
      expect(verify(v.body, v.token, `${v.sign}0`)).toBe(false);
      expect(verify(v.body, v.token, "")).toBe(false);
      expect(verify(v.body, v.token, ` ${v.sign}`)).toBe(false);
      expect(verify(v.body, "", v.sign)).toBe(false);
      // A sign of the same body under another token, and of another body under this token.
      const { params, literals } = parseFlatJson(v.body);
      expect(verify(v.body, v.token, sign(params, "another-token", { literals }))).toBe(false);
      const other = vectors.find((w) => w.sign !== v.sign && w.sign_from_parsed_numbers !== v.sign)!;
      expect(verify(v.body, v.token, other.sign)).toBe(false);
      expect(verifyDetailed(v.body, v.token, flipDigit(v.sign, 5))).toMatchObject({
        valid: false,
        reason: "mismatch",
        stringA: v.string_a,
      });
    });

    it("refuses the body when one signed value was changed", () => {
      // Insert one character into the first string value.
      const tampered = v.body.replace(/":"(.)/, '":"$1x');
      expect(tampered).not.toBe(v.body);
      expect(verify(tampered, v.token, v.sign)).toBe(false);
    });
  });

  describe.each(mustFail)("must fail: $name", (m) => {
    it(`is refused: ${m.why}`, () => {
      expect(verify(m.body, m.token, m.sign)).toBe(false);
      expect(verifyDetailed(m.body, m.token, m.sign)).toMatchObject({ valid: false, reason: "mismatch" });
    });
    if (m.string_a_signed !== undefined) {
      const signed = m.string_a_signed;
      it("is the sign of the mistaken StringA, which is neither form of the body's", () => {
        expect(sha1Hex(signed + m.token)).toBe(m.sign);
        const { params, literals } = parseFlatJson(m.body);
        expect(signed).not.toBe(stringA(params, { literals }));
        expect(signed).not.toBe(stringA(params));
      });
    }
  });

  it("has must-fail vectors for forged signs, a dropped zero and a wrong number form", () => {
    const names = mustFail.map((m) => m.name);
    for (const n of ["forged-one-digit", "dropped-zero", "zeros-added", "float-arithmetic"])
      expect(names).toContain(n);
  });

  it("a malformed raw body throws ProtocolError rather than verifying", () => {
    const v = vectors[0]!;
    expect(() => verify(`${v.body}x`, v.token, v.sign)).toThrow(ProtocolError);
    expect(() => verify(v.body.replace('"currency":"USD"', '"currency":["USD"]'), v.token, v.sign)).toThrow(
      expect.objectContaining({ code: "nested_value" }),
    );
    expect(() => verify(v.body.replace("{", '{"currency":"EUR",'), v.token, v.sign)).toThrow(
      expect.objectContaining({ code: "duplicate_key" }),
    );
  });
});

describe("signature vectors without node:crypto (the browser path)", () => {
  it("pure SHA-1 and the XOR comparison give the same answers", async () => {
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process!;
    const spy = vi.spyOn(proc, "getBuiltinModule").mockReturnValue(undefined);
    vi.resetModules();
    try {
      const sha1 = await import("./sha1.js");
      const fresh = await import("./signature.js");
      const json = await import("./flat-json.js");
      expect(sha1.nodeCrypto()).toBeNull();
      for (const v of vectors) {
        const { params, literals } = json.parseFlatJson(v.body);
        expect(fresh.sign(params, v.token, { literals })).toBe(v.sign);
        expect(fresh.verify(v.body, v.token, v.sign)).toBe(true);
        expect(fresh.verify(v.body, v.token, flipDigit(v.sign, 20))).toBe(false);
        if (v.sign_from_parsed_numbers)
          expect(fresh.verify(v.body, v.token, v.sign_from_parsed_numbers)).toBe(true);
      }
    } finally {
      spy.mockRestore();
      vi.resetModules();
    }
  });
});
