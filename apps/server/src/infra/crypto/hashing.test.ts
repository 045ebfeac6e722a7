import { randomBytes, scryptSync } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ConfigError,
  loadConfig,
  passwordHashLimitsFrom,
  SCRYPT_N_FLOOR,
  scryptCostFrom,
} from "../../config/config.js";
import * as hashing from "./hashing.js";

const { hashPassword, verifyPassword } = hashing;
/** A stored hash made by node's scrypt directly, as another version of the server would have. */
function storedHash(password: string, N: number): string {
  const salt = randomBytes(16);
  const key = scryptSync(password, salt, 32, { N, r: 8, p: 1, maxmem: 256 * 1024 * 1024 });
  return ["scrypt", N, 8, 1, salt.toString("base64url"), key.toString("base64url")].join("$");
}

describe("password hashing cost", () => {
  it("hashes and verifies at N = 2^17 (r = 8, p = 1), which needs more than node's default memory ceiling", async () => {
    const stored = await hashPassword("correct horse battery", 2 ** 17);
    expect(stored.split("$").slice(0, 4)).toEqual(["scrypt", String(2 ** 17), "8", "1"]);
    expect(await verifyPassword("correct horse battery", stored)).toBe(true);
    expect(await verifyPassword("correct horse batterY", storedHash("correct horse battery", 2 ** 17))).toBe(
      false,
    );
    // Three full-cost hashes: 2.4 s on an idle host, past the 5 s default on a loaded CI one.
  }, 30_000);

  it("asks for 2^17 by default, refuses less outside tests, and accepts less only with NODE_ENV=test", () => {
    expect(SCRYPT_N_FLOOR).toBe(2 ** 17);
    expect(scryptCostFrom({})).toBe(2 ** 17);
    expect(scryptCostFrom({ PSPHUB_SCRYPT_N: String(2 ** 18) })).toBe(2 ** 18);
    expect(scryptCostFrom({ PSPHUB_SCRYPT_N: "1024", NODE_ENV: "test" })).toBe(1024);
    for (const env of [
      { PSPHUB_SCRYPT_N: "16384" },
      { PSPHUB_SCRYPT_N: "1024", NODE_ENV: "production" },
      { PSPHUB_SCRYPT_N: "100000" },
      { PSPHUB_SCRYPT_N: "512", NODE_ENV: "test" },
      { PSPHUB_SCRYPT_N: "lots" },
    ]) {
      expect(() => scryptCostFrom(env), JSON.stringify(env)).toThrow(ConfigError);
      expect(() => loadConfig(env), JSON.stringify(env)).toThrow(/PSPHUB_SCRYPT_N/);
    }
    expect(() => loadConfig({ PSPHUB_SCRYPT_N: "1024", NODE_ENV: "test" })).not.toThrow();
  });

  it("password hashing limits: 2 at once and 100 waiting by default, 1..16 and 0..10000, anything else refused", () => {
    expect(passwordHashLimitsFrom({})).toEqual({ concurrency: 2, queueLimit: 100 });
    expect(
      passwordHashLimitsFrom({ PASSWORD_HASH_CONCURRENCY: "16", PASSWORD_HASH_QUEUE_LIMIT: "0" }),
    ).toEqual({ concurrency: 16, queueLimit: 0 });
    for (const env of [
      { PASSWORD_HASH_CONCURRENCY: "0" },
      { PASSWORD_HASH_CONCURRENCY: "17" },
      { PASSWORD_HASH_CONCURRENCY: "1.5" },
      { PASSWORD_HASH_CONCURRENCY: "many" },
      { PASSWORD_HASH_QUEUE_LIMIT: "-1" },
      { PASSWORD_HASH_QUEUE_LIMIT: "10001" },
    ]) {
      const name = Object.keys(env)[0] as string;
      expect(() => passwordHashLimitsFrom(env), JSON.stringify(env)).toThrow(name);
      expect(() => loadConfig(env), JSON.stringify(env)).toThrow(name);
    }
  });

  it("under the test runner new hashes use the runner's lower cost, and the dummy hash has the same cost", async () => {
    // vitest.config.ts sets PSPHUB_SCRYPT_N=1024 and vitest sets NODE_ENV=test.
    expect(hashing.passwordHashCost()).toBe(1024);
    expect((await hashPassword("pw")).split("$")[1]).toBe("1024");
    expect(hashing.dummyPasswordHash().split("$")[1]).toBe("1024");
    expect(await verifyPassword("", hashing.dummyPasswordHash())).toBe(false);
  });

  it("a hash weaker than today's cost needs re-hashing; one at today's cost or above does not", () => {
    fc.assert(
      fc.property(fc.integer({ min: 10, max: 19 }), fc.integer({ min: 10, max: 19 }), (stored, current) => {
        const h = ["scrypt", 2 ** stored, 8, 1, "A".repeat(22), "A".repeat(43)].join("$");
        expect(hashing.needsRehash(h, 2 ** current)).toBe(stored < current);
      }),
    );
    expect(
      hashing.needsRehash(["scrypt", 2 ** 17, 4, 1, "A".repeat(22), "A".repeat(43)].join("$"), 2 ** 17),
    ).toBe(true);
    expect(hashing.needsRehash("not a hash", 2 ** 17)).toBe(true);
  });

  it("verification answers false, never throws, for any stored text", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string(),
          fc
            .tuple(
              fc.constantFrom("scrypt", "bcrypt"),
              fc.oneof(fc.constantFrom("1024", "0", "-1", "abc", "3", "1e3", "99999999999"), fc.string()),
              fc.oneof(fc.constantFrom("8", "0", "x", "1000"), fc.string()),
              fc.oneof(fc.constantFrom("1", "0", "99"), fc.string()),
              fc.oneof(fc.constant("A".repeat(22)), fc.string()),
              fc.oneof(fc.constant("A".repeat(43)), fc.string()),
            )
            .map((parts) => parts.join("$")),
        ),
        async (stored) => {
          expect(await verifyPassword("pw", stored)).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });
});
