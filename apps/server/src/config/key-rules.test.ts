import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";
import { decodeKey, MIN_DISTINCT_KEY_BYTES, weakKeyProblem } from "./key-rules.js";

const b64 = (bytes: Uint8Array | number[]) => Buffer.from(bytes).toString("base64");
const configError = (env: Record<string, string>): string => {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error("loadConfig accepted the environment");
};

describe("ENCRYPTION_KEY: 32 random bytes in canonical base64", () => {
  it("accepts keys made as the README says (openssl rand -base64 32)", () => {
    for (let i = 0; i < 2_000; i++) {
      const key = randomBytes(32);
      expect(loadConfig({ ENCRYPTION_KEY: key.toString("base64") }).encryptionKey?.equals(key)).toBe(true);
    }
  });

  it("refuses all-zero, repeated and few-valued keys, and bytes in a constant step", () => {
    const weak = [
      Buffer.alloc(32),
      Buffer.alloc(32, 7),
      Buffer.alloc(32, 0xff),
      Buffer.from(Array.from({ length: 32 }, (_, i) => i % 2)),
      Buffer.from("abcdabcdabcdabcdabcdabcdabcdabcd"),
      Buffer.from(Array.from({ length: 32 }, (_, i) => i)),
      Buffer.from(Array.from({ length: 32 }, (_, i) => (200 + 7 * i) % 256)),
    ];
    for (const key of weak) {
      expect(weakKeyProblem(key)).not.toBeNull();
      expect(configError({ ENCRYPTION_KEY: key.toString("base64") })).toMatch(
        /ENCRYPTION_KEY: .*(random|distinct)/,
      );
    }
  });

  it("refuses any key with fewer than 16 distinct byte values", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 255 }), {
          minLength: 1,
          maxLength: MIN_DISTINCT_KEY_BYTES - 1,
        }),
        fc.array(fc.nat(), { minLength: 32, maxLength: 32 }),
        (values, picks) => {
          const key = Buffer.from(picks.map((p) => values[p % values.length]!));
          expect(weakKeyProblem(key)).toMatch(/distinct/);
          configError({ ENCRYPTION_KEY: key.toString("base64") });
        },
      ),
    );
  });

  it("refuses base64 with characters outside the alphabet, which Buffer.from would skip", () => {
    const good = randomBytes(32).toString("base64");
    // Each of these decodes to the same 32 bytes with Buffer.from(…, "base64").
    for (const bad of [
      `${good.slice(0, 10)}!${good.slice(10)}`,
      ` ${good}`,
      `${good.slice(0, 20)}\n${good.slice(20)}`,
      `${good.slice(0, 5)}*${good.slice(5)}`,
    ]) {
      expect(Buffer.from(bad, "base64").equals(Buffer.from(good, "base64"))).toBe(true);
      expect(decodeKey(bad)).toEqual({ problem: expect.stringMatching(/base64/) });
      expect(configError({ ENCRYPTION_KEY: bad })).toContain("ENCRYPTION_KEY");
    }
    fc.assert(
      fc.property(
        fc.nat({ max: 44 }),
        fc.constantFrom(..."!@#$%^&*()_-.,;:~ \t\n'\"?<>[]{}|\\`"),
        (at, ch) => {
          const bad = good.slice(0, at) + ch + good.slice(at);
          expect("problem" in decodeKey(bad)).toBe(true);
        },
      ),
    );
  });

  it("refuses other lengths and non-canonical padding bits", () => {
    for (const bad of [
      b64(randomBytes(31)),
      b64(randomBytes(33)),
      b64(randomBytes(16)),
      randomBytes(32).toString("hex"),
    ])
      expect("problem" in decodeKey(bad)).toBe(true);
    // The last character of 32 bytes in base64 carries 4 bits; a non-zero spare bit is not canonical.
    const good = randomBytes(32).toString("base64");
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const last = alphabet.indexOf(good[42]!);
    const odd = `${good.slice(0, 42)}${alphabet[last | 1]}=`;
    if (odd !== good) expect("problem" in decodeKey(odd)).toBe(true);
  });

  it("holds ENCRYPTION_KEY_PREVIOUS to the format but not to the strength rule, so a weak key can be rotated away", () => {
    const weak = Buffer.alloc(32, 7);
    const current = randomBytes(32);
    const c = loadConfig({
      ENCRYPTION_KEY: current.toString("base64"),
      ENCRYPTION_KEY_PREVIOUS: weak.toString("base64"),
    });
    expect(c.previousEncryptionKey?.equals(weak)).toBe(true);
    expect(
      configError({
        ENCRYPTION_KEY: current.toString("base64"),
        ENCRYPTION_KEY_PREVIOUS: `!${weak.toString("base64")}`,
      }),
    ).toContain("ENCRYPTION_KEY_PREVIOUS");
    // A previous key is only read beside a current one.
    expect(configError({ ENCRYPTION_KEY_PREVIOUS: current.toString("base64") })).toContain(
      "ENCRYPTION_KEY_PREVIOUS",
    );
  });
});
