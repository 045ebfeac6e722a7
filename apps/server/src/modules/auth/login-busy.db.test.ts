import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { passwordHashingLoad } from "../../infra/crypto/hashing.js";
import { scryptProbe } from "../../test/scrypt-probe.js";
import { createTestApp, seedTenant, TEST_PASSWORD, type TestApp } from "../../test/test-app.js";

// Password hashing is capped per process (PASSWORD_HASH_CONCURRENCY, PASSWORD_HASH_QUEUE_LIMIT;
// infra/crypto/hashing.ts): 2 at once and 3 waiting in this file. A login beyond that is answered
// 503 password_hashing_busy with Retry-After, its password unchecked, whether the account exists
// or not. scrypt is node's real one, observed (and its answers held back) by test/scrypt-probe.ts.
vi.hoisted(() => {
  process.env.PASSWORD_HASH_CONCURRENCY = "2";
  process.env.PASSWORD_HASH_QUEUE_LIMIT = "3";
});
vi.mock("node:crypto", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:crypto")>();
  const { probedScrypt } = await import("../../test/scrypt-probe.js");
  const scrypt = probedScrypt(real.scrypt as never) as unknown as typeof real.scrypt;
  return { ...real, default: { ...real, scrypt }, scrypt };
});

let t: TestApp;
let slug: string;
beforeAll(async () => {
  t = await createTestApp();
  ({ slug } = await seedTenant(t));
});
afterAll(async () => {
  scryptProbe.releaseHeld();
  await t?.close();
});

const staffLogin = (email: string, password: string) =>
  t.app.inject({ method: "POST", url: "/api/auth/login", payload: { email, password } });

/** Waits (without a clock) until the condition holds: logins reach scrypt after database reads. */
async function until(condition: () => boolean) {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

describe("logins when password hashing is saturated", () => {
  it("answers 503 password_hashing_busy with Retry-After and checks no password, for a known or unknown account; the queued logins then finish", async () => {
    scryptProbe.reset();
    scryptProbe.hold = true;
    const queued = [
      staffLogin(`owner@${slug}.test`, TEST_PASSWORD),
      staffLogin(`admin@${slug}.test`, "wrong 1"),
      staffLogin(`nobody@${slug}.test`, "wrong 2"),
      staffLogin(`finance@${slug}.test`, TEST_PASSWORD),
      staffLogin(`viewer@${slug}.test`, "wrong 3"),
    ];
    await until(() => scryptProbe.held.length >= 2 && passwordHashingLoad().waiting === 3);
    expect(passwordHashingLoad()).toEqual({ running: 2, waiting: 3 });

    const refused = [
      await staffLogin(`owner@${slug}.test`, TEST_PASSWORD),
      await staffLogin(`nobody.else@${slug}.test`, "refused 2"),
      await t.app.inject({
        method: "POST",
        url: "/api/portal/auth/login",
        payload: { tenant: slug, email: "client@example.test", password: "refused 3" },
      }),
    ];
    for (const res of refused) {
      expect(res.statusCode, res.body).toBe(503);
      expect(res.headers["retry-after"]).toBe("5");
      expect(res.json().error.code).toBe("password_hashing_busy");
      expect(res.cookies).toEqual([]);
    }
    // Load, not a fault: one warning per refusal, no error and no stack in the log.
    const logged = t.logs.map((l) => JSON.parse(l) as { level: number; msg: string; code?: string });
    expect(logged.filter((l) => l.code === "password_hashing_busy").map((l) => [l.level, l.msg])).toEqual(
      refused.map(() => [40, "busy, refused"]),
    );
    expect(logged.filter((l) => l.level >= 50)).toEqual([]);
    // Only the two running checks reached scrypt; the refused ones were never computed.
    expect(scryptProbe.started).toHaveLength(2);
    expect(scryptProbe.started).not.toContain("refused 2");
    expect(scryptProbe.started).not.toContain("refused 3");

    scryptProbe.releaseHeld();
    const answers = await Promise.all(queued);
    expect(answers.map((r) => r.statusCode)).toEqual([200, 401, 401, 200, 401]);
    expect(scryptProbe.maxInFlight).toBeLessThanOrEqual(2);
    expect(passwordHashingLoad()).toEqual({ running: 0, waiting: 0 });
    // Sent again once the queue has room, the same login succeeds.
    expect((await staffLogin(`owner@${slug}.test`, TEST_PASSWORD)).statusCode).toBe(200);
  });
});
