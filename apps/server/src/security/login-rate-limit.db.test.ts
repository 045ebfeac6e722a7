import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../app.js";
import { type AppContext, createAppContext } from "../app-context.js";
import { fixedClock } from "../common/clock.js";
import { BACKGROUND_JOBS } from "../main.js";
import { pruneLoginAttemptsJob } from "../modules/auth/login-throttle.js";
import { createClient } from "../modules/clients/create-client.js";
import { createUser } from "../modules/tenants/create-tenant.js";
import { createTestApp, seedTenant, TEST_PASSWORD, type TestApp } from "../test/test-app.js";

/**
 * Password guessing is limited per (address, account), per account across addresses and per
 * address across accounts. The attempt is reserved in the database before the password is
 * checked, so parallel requests, and several server processes, cannot check more than the limit.
 */
const PAIR = 5;
const ACCOUNT = 8;
const IP = 12;

let t: TestApp;
let s: Awaited<ReturnType<typeof seedTenant>>;
/** A second server process on the same database (its own pool, its own memory). */
let other: { app: FastifyInstance; ctx: AppContext };
const clock = fixedClock(Date.now());
let ipSeq = 0;
/** A fresh source address per test, so that tests do not share counters. */
const freshIp = () => `10.1.${Math.floor(++ipSeq / 250)}.${ipSeq % 250}`;

beforeAll(async () => {
  t = await createTestApp({
    clock,
    env: {
      LOGIN_RATE_LIMIT_PER_MINUTE: String(PAIR),
      LOGIN_RATE_LIMIT_PER_ACCOUNT_PER_MINUTE: String(ACCOUNT),
      LOGIN_RATE_LIMIT_PER_IP_PER_MINUTE: String(IP),
    },
  });
  s = await seedTenant(t);
  const ctx = createAppContext(t.ctx.config, { clock, logger: t.ctx.logger });
  other = { app: await buildApp(ctx), ctx };
  await other.app.ready();
});
afterAll(async () => {
  await other?.app.close();
  await other?.ctx.close();
  await t?.close();
});

const staffLogin = (email: string, password: string, ip = "127.0.0.1", app = t.app) =>
  app.inject({ method: "POST", url: "/api/auth/login", payload: { email, password }, remoteAddress: ip });
const portalLogin = (email: string, password: string, ip = "127.0.0.1", app = t.app) =>
  app.inject({
    method: "POST",
    url: "/api/portal/auth/login",
    payload: { tenant: s.slug, email, password },
    remoteAddress: ip,
  });
const statuses = (rs: LightMyRequestResponse[]) => {
  const n: Record<number, number> = {};
  for (const r of rs) n[r.statusCode] = (n[r.statusCode] ?? 0) + 1;
  return n;
};
async function newStaff(name: string): Promise<string> {
  const email = `${name}@${s.slug}.test`;
  await createUser(t.ctx, s.tenantId, { email, name, password: TEST_PASSWORD, role: "viewer" });
  return email;
}

describe("login brute force", () => {
  it("answers 429 with Retry-After to the 6th bad back-office login for the same email, even with the right password", async () => {
    const email = await newStaff("target");
    for (let i = 1; i <= PAIR; i++) {
      const res = await staffLogin(email, `wrong guess ${i}`);
      expect(res.statusCode, `attempt ${i}`).toBe(401);
    }
    const sixth = await staffLogin(email, "wrong guess 6");
    expect(sixth.statusCode).toBe(429);
    expect(sixth.json().error.code).toBe("rate_limited");
    const retryAfter = Number(sixth.headers["retry-after"]);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
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
    for (let i = 1; i <= PAIR; i++)
      expect((await portalLogin("brute@example.com", `nope ${i}`)).statusCode).toBe(401);
    const sixth = await portalLogin("brute@example.com", "client password 1");
    expect(sixth.statusCode).toBe(429);
    expect(sixth.json().error.code).toBe("rate_limited");
    expect(sixth.headers["retry-after"]).toMatch(/^\d+$/);
  });

  it("counts failures only, and a success does not erase them", async () => {
    const email = await newStaff("often");
    const ip = freshIp();
    for (let i = 0; i < 2 * PAIR; i++)
      expect((await staffLogin(email, TEST_PASSWORD, ip)).statusCode).toBe(200);
    for (let i = 0; i < PAIR - 1; i++)
      expect((await staffLogin(email, "typo typo", ip)).statusCode).toBe(401);
    // The owner logs in from here and from elsewhere: the failures before stay counted.
    expect((await staffLogin(email, TEST_PASSWORD, ip)).statusCode).toBe(200);
    expect((await staffLogin(email, TEST_PASSWORD, freshIp())).statusCode).toBe(200);
    expect((await staffLogin(email, "typo typo", ip)).statusCode).toBe(401);
    expect((await staffLogin(email, "typo typo", ip)).statusCode).toBe(429);
    expect((await staffLogin(email, TEST_PASSWORD, ip)).statusCode).toBe(429);
  });

  it("counts unknown emails too, so probing for accounts is limited as well", async () => {
    const ip = freshIp();
    for (let i = 1; i <= PAIR; i++)
      expect((await staffLogin("ghost@nowhere.test", "x", ip)).statusCode).toBe(401);
    expect((await staffLogin("ghost@nowhere.test", "x", ip)).statusCode).toBe(429);
  });
});

describe("parallel guessing: the attempt is reserved before the password is checked", () => {
  it("checks at most the limit of 60 parallel wrong passwords sent through two server processes", async () => {
    const email = await newStaff("parallel");
    const ip = freshIp();
    const rs = await Promise.all(
      Array.from({ length: 60 }, (_, i) => staffLogin(email, `guess ${i}`, ip, i % 2 ? other.app : t.app)),
    );
    expect(statuses(rs)).toEqual({ 401: PAIR, 429: 60 - PAIR });
    for (const r of rs.filter((x) => x.statusCode === 429)) expect(r.headers["retry-after"]).toMatch(/^\d+$/);
  });

  it("99 wrong and 1 right at once: at most the limit are checked, and the right one fails once the limit is reached", async () => {
    const email = await newStaff("ninetynine");
    const ip = freshIp();
    const rs = await Promise.all([
      ...Array.from({ length: 99 }, (_, i) => staffLogin(email, `guess ${i}`, ip, i % 2 ? other.app : t.app)),
      staffLogin(email, TEST_PASSWORD, ip),
    ]);
    const n = statuses(rs);
    // A success frees its own reservation (successes are not failures), so one more guess may
    // have been checked after it; never more.
    expect(n[401] ?? 0).toBeLessThanOrEqual(PAIR);
    expect((n[401] ?? 0) + (n[200] ?? 0)).toBeGreaterThanOrEqual(PAIR);
    expect(n[429]).toBe(100 - (n[401] ?? 0) - (n[200] ?? 0));
    expect((await staffLogin(email, TEST_PASSWORD, ip)).statusCode).toBe(429);
  });

  it("limits an account across addresses: 30 addresses at once get at most the account's limit", async () => {
    const email = await newStaff("spread");
    const rs = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        staffLogin(email, `guess ${i}`, freshIp(), i % 2 ? other.app : t.app),
      ),
    );
    expect(statuses(rs)).toEqual({ 401: ACCOUNT, 429: 30 - ACCOUNT });
    // The account is now limited from every address, whatever the password.
    expect((await staffLogin(email, TEST_PASSWORD, freshIp())).statusCode).toBe(429);
  });

  it("limits an address across accounts: 30 emails at once from one address get at most its limit", async () => {
    const ip = freshIp();
    const rs = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        staffLogin(`probe-${i}@nowhere.test`, "x", ip, i % 2 ? other.app : t.app),
      ),
    );
    expect(statuses(rs)).toEqual({ 401: IP, 429: 30 - IP });
    expect((await staffLogin(`finance@${s.slug}.test`, TEST_PASSWORD, ip)).statusCode).toBe(429);
    // Another address is not affected.
    expect((await staffLogin(`finance@${s.slug}.test`, TEST_PASSWORD, freshIp())).statusCode).toBe(200);
  });

  it("limits parallel portal logins the same way", async () => {
    await createClient(
      t.ctx,
      s.tenantId,
      { name: "P", email: "parallel@example.com", password: "client password 1" },
      { type: "system", id: null },
    );
    const ip = freshIp();
    const rs = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        portalLogin("parallel@example.com", `nope ${i}`, ip, i % 2 ? other.app : t.app),
      ),
    );
    expect(statuses(rs)).toEqual({ 401: PAIR, 429: 40 - PAIR });
  });
});

describe("windows", () => {
  it("a locked account opens again after the window, and old counts are pruned", async () => {
    const email = await newStaff("window");
    const ip = freshIp();
    for (let i = 0; i < PAIR; i++) expect((await staffLogin(email, "wrong", ip)).statusCode).toBe(401);
    expect((await staffLogin(email, TEST_PASSWORD, ip)).statusCode).toBe(429);
    clock.advance(61_000);
    expect((await staffLogin(email, TEST_PASSWORD, ip)).statusCode).toBe(200);
    const count = async () =>
      Number(
        (
          await t.ctx.db
            .selectFrom("login_attempts")
            .select((eb) => eb.fn.countAll().as("n"))
            .executeTakeFirstOrThrow()
        ).n,
      );
    expect(await count()).toBeGreaterThan(0);
    clock.advance(61_000);
    await pruneLoginAttemptsJob(t.ctx);
    expect(await count()).toBe(0);
    // Every server process runs it with the other periodic jobs (EXPIRY_SWEEP_SECONDS).
    expect(BACKGROUND_JOBS).toContain(pruneLoginAttemptsJob);
  });
});
