import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "../modules/clients/create-client.js";
import { createUser } from "../modules/tenants/create-tenant.js";
import { createTestApp, seedTenant, TEST_PASSWORD, type TestApp } from "../test/test-app.js";

/** Password guessing is limited per address and email: the 6th attempt in a minute answers 429. */
let t: TestApp;
let s: Awaited<ReturnType<typeof seedTenant>>;
beforeAll(async () => {
  t = await createTestApp({ env: { LOGIN_RATE_LIMIT_PER_MINUTE: "5" } });
  s = await seedTenant(t);
});
afterAll(async () => t?.close());

const staffLogin = (email: string, password: string) =>
  t.app.inject({ method: "POST", url: "/api/auth/login", payload: { email, password } });
const portalLogin = (email: string, password: string) =>
  t.app.inject({
    method: "POST",
    url: "/api/portal/auth/login",
    payload: { tenant: s.slug, email, password },
  });

describe("login brute force", () => {
  it("answers 429 to the 6th bad back-office login for the same email within a minute, even with the right password", async () => {
    const email = `target@${s.slug}.test`;
    await createUser(t.ctx, s.tenantId, { email, name: "Target", password: TEST_PASSWORD, role: "viewer" });
    for (let i = 1; i <= 5; i++) {
      const res = await staffLogin(email, `wrong guess ${i}`);
      expect(res.statusCode, `attempt ${i}`).toBe(401);
    }
    const sixth = await staffLogin(email, "wrong guess 6");
    expect(sixth.statusCode).toBe(429);
    expect(sixth.json().error.code).toBe("rate_limited");
    expect((await staffLogin(email, TEST_PASSWORD)).statusCode).toBe(429);
    // The same email in another case is the same account, so the same counter.
    expect((await staffLogin(email.toUpperCase(), "wrong guess 7")).statusCode).toBe(429);
    // Other accounts are not locked out by someone guessing this one.
    expect((await staffLogin(`finance@${s.slug}.test`, TEST_PASSWORD)).statusCode).toBe(200);
  });

  it("limits portal logins the same way", async () => {
    await createClient(
      t.ctx,
      s.tenantId,
      { name: "C", email: "brute@example.com", password: "client password 1" },
      { type: "system", id: null },
    );
    for (let i = 1; i <= 5; i++)
      expect((await portalLogin("brute@example.com", `nope ${i}`)).statusCode).toBe(401);
    const sixth = await portalLogin("brute@example.com", "client password 1");
    expect(sixth.statusCode).toBe(429);
    expect(sixth.json().error.code).toBe("rate_limited");
  });

  it("counts only failures: many good logins never lock an account out, and a success clears the count", async () => {
    const email = `often@${s.slug}.test`;
    await createUser(t.ctx, s.tenantId, { email, name: "Often", password: TEST_PASSWORD, role: "viewer" });
    for (let i = 0; i < 8; i++) expect((await staffLogin(email, TEST_PASSWORD)).statusCode).toBe(200);
    for (let i = 0; i < 4; i++) expect((await staffLogin(email, "typo typo")).statusCode).toBe(401);
    expect((await staffLogin(email, TEST_PASSWORD)).statusCode).toBe(200);
    for (let i = 0; i < 4; i++) expect((await staffLogin(email, "typo typo")).statusCode).toBe(401);
    expect((await staffLogin(email, TEST_PASSWORD)).statusCode).toBe(200);
  });

  it("counts unknown emails too, so probing for accounts is limited as well", async () => {
    for (let i = 1; i <= 5; i++) expect((await staffLogin("ghost@nowhere.test", "x")).statusCode).toBe(401);
    expect((await staffLogin("ghost@nowhere.test", "x")).statusCode).toBe(429);
  });
});
