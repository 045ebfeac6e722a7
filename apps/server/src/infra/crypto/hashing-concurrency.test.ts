import { randomBytes, scryptSync } from "node:crypto";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AppError } from "../../common/errors.js";
import { scryptProbe } from "../../test/scrypt-probe.js";

// The process-wide cap on scrypt work (PASSWORD_HASH_CONCURRENCY, PASSWORD_HASH_QUEUE_LIMIT),
// read once by hashing.ts from the environment: 2 at once, 6 waiting, in this file.
vi.hoisted(() => {
  process.env.PASSWORD_HASH_CONCURRENCY = "2";
  process.env.PASSWORD_HASH_QUEUE_LIMIT = "6";
});
vi.mock("node:crypto", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:crypto")>();
  const { probedScrypt } = await import("../../test/scrypt-probe.js");
  const scrypt = probedScrypt(real.scrypt as never) as unknown as typeof real.scrypt;
  return { ...real, default: { ...real, scrypt }, scrypt };
});
const { dummyPasswordHash, hashPassword, verifyPassword } = await import("./hashing.js");

function storedHash(password: string): string {
  const salt = randomBytes(16);
  const key = scryptSync(password, salt, 32, { N: 1024, r: 8, p: 1 });
  return ["scrypt", 1024, 8, 1, salt.toString("base64url"), key.toString("base64url")].join("$");
}

/** Waits (without a clock) until the condition holds: scrypt runs on libuv's threads. */
async function until(condition: () => boolean) {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

afterEach(() => {
  scryptProbe.releaseHeld();
});

describe("password hashing: a process-wide cap on scrypt work", () => {
  it("8 verifications at once (real and dummy hashes) run at most 2 at a time, in the order they came, each with its right answer", async () => {
    scryptProbe.reset();
    const pw = Array.from({ length: 8 }, (_, i) => `password ${i}`);
    const stored = pw.map((p, i) => (i % 3 === 2 ? dummyPasswordHash() : storedHash(p)));
    const answers = await Promise.all(
      pw.map((p, i) => verifyPassword(i % 2 ? `${p}!` : p, stored[i] as string)),
    );
    expect(scryptProbe.maxInFlight).toBeLessThanOrEqual(2);
    expect(scryptProbe.started).toEqual(pw.map((p, i) => (i % 2 ? `${p}!` : p)));
    expect(answers).toEqual(pw.map((_, i) => i % 2 === 0 && i % 3 !== 2));
  });

  it("hashing new passwords shares the same cap as verifying", async () => {
    scryptProbe.reset();
    const work = [
      hashPassword("a"),
      verifyPassword("b", storedHash("b")),
      hashPassword("c"),
      verifyPassword("d", dummyPasswordHash()),
      hashPassword("e"),
    ];
    const [h1, ok, , dummy] = await Promise.all(work);
    expect(scryptProbe.maxInFlight).toBeLessThanOrEqual(2);
    expect(scryptProbe.started).toEqual(["a", "b", "c", "d", "e"]);
    expect(await verifyPassword("a", h1 as string)).toBe(true);
    expect([ok, dummy]).toEqual([true, false]);
  });

  it("with 2 running and 6 waiting, one more is refused with 503 password_hashing_busy and Retry-After, without running scrypt; the others then finish", async () => {
    scryptProbe.reset();
    scryptProbe.hold = true;
    const stored = storedHash("right");
    const passwords = ["right", "wrong", "right", "wrong", "right", "right", "wrong", "right"];
    const admitted = passwords.map((p) => verifyPassword(p, stored));
    await until(() => scryptProbe.held.length >= 2);
    const refusal = verifyPassword("right", stored).then(
      () => "answered",
      (err: unknown) => err,
    );
    // The refused check never reached scrypt: only the two running ones did.
    expect(scryptProbe.started).toEqual(["right", "wrong"]);
    const refused = await refusal;
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ statusCode: 503, code: "password_hashing_busy" });
    expect((refused as { retryAfterSeconds?: number }).retryAfterSeconds).toBeGreaterThan(0);
    await expect(hashPassword("new")).rejects.toMatchObject({ code: "password_hashing_busy" });
    scryptProbe.releaseHeld();
    expect(await Promise.all(admitted)).toEqual(passwords.map((p) => p === "right"));
    expect(scryptProbe.started).toEqual(passwords);
    expect(scryptProbe.maxInFlight).toBeLessThanOrEqual(2);
  });
});
