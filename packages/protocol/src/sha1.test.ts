import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { constantTimeEqual, nodeCrypto, sha1Hex, sha1Node, sha1Pure, utf8, xorEqual } from "./sha1.js";
import { RUNS } from "./test-arbitraries.js";

// FIPS 180 / RFC 3174 test vectors.
const KNOWN: Array<[string, string]> = [
  ["", "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709"],
  ["abc", "A9993E364706816ABA3E25717850C26C9CD0D89D"],
  ["abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "84983E441C3BD26EBAAE4AA1F95129E5E54670F1"],
  ["The quick brown fox jumps over the lazy dog", "2FD4E1C67A2D28FCED849EE1BB76E7391B93EB12"],
];

describe("sha1", () => {
  it("has node:crypto in this test runtime, so both paths are really compared", () => {
    expect(nodeCrypto()).not.toBeNull();
  });

  it.each(KNOWN)("pure and native agree with the standard vector for %j", (text, digest) => {
    expect(sha1Pure(utf8(text))).toBe(digest);
    expect(sha1Node(utf8(text))).toBe(digest);
    expect(sha1Hex(text)).toBe(digest);
  });

  it("pure path hashes a million 'a' correctly (multi-block, long length field)", () => {
    expect(sha1Pure(new Uint8Array(1_000_000).fill(0x61))).toBe("34AA973CD4C4DAA4F61EEB2BDBAD27316534016F");
  });

  it("pure path handles every padding boundary around one and two blocks", () => {
    for (let length = 0; length <= 130; length++) {
      const bytes = new Uint8Array(length).map((_, i) => (i * 31 + 7) & 0xff);
      expect(sha1Pure(bytes)).toBe(sha1Node(bytes));
    }
  });

  it("property: both paths agree on the UTF-8 bytes of any string", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (text) => {
        const bytes = utf8(text);
        expect(sha1Pure(bytes)).toBe(sha1Node(bytes));
      }),
      RUNS,
    );
  });

  it("property: both paths agree on any bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(sha1Pure(bytes)).toBe(sha1Node(bytes));
      }),
      RUNS,
    );
  });
});

describe("constant-time comparison", () => {
  it("xorEqual compares every byte and the lengths", () => {
    expect(xorEqual(utf8("ABCD"), utf8("ABCD"))).toBe(true);
    expect(xorEqual(utf8("ABCD"), utf8("ABCE"))).toBe(false);
    expect(xorEqual(utf8("ABCD"), utf8("XBCD"))).toBe(false);
    expect(xorEqual(utf8("ABC"), utf8("ABCD"))).toBe(false);
    expect(xorEqual(utf8(""), utf8(""))).toBe(true);
  });

  it("constantTimeEqual answers like xorEqual, false for different lengths", () => {
    expect(constantTimeEqual(utf8("ABCD"), utf8("ABCD"))).toBe(true);
    expect(constantTimeEqual(utf8("ABCD"), utf8("ABCE"))).toBe(false);
    expect(constantTimeEqual(utf8("ABC"), utf8("ABCD"))).toBe(false);
  });

  it("property: xorEqual and the native timingSafeEqual agree", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 20, maxLength: 20 }),
        fc.uint8Array({ minLength: 20, maxLength: 20 }),
        (a, b) => {
          expect(xorEqual(a, b)).toBe(constantTimeEqual(a, b));
          expect(xorEqual(a, a.slice())).toBe(true);
        },
      ),
      RUNS,
    );
  });
});
