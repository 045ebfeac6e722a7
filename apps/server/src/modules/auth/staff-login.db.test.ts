import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../common/errors.js";
import { dummyPasswordHash, verifyPassword } from "../../infra/crypto/hashing.js";
import { createTestApp, seedTenant, TEST_PASSWORD, type TestApp } from "../../test/test-app.js";
import { createTenant, createUser } from "../tenants/create-tenant.js";
import { loginStaff } from "./login.js";

// staff e-mail is unique per tenant, so one person may be staff at several
// tenants. The back-office login may name the tenant ("company code", the slug), as the portal
// login does. Every login checks exactly one password (login.ts): without a code, the oldest
// active account of the e-mail, so neither the answer nor the scrypt work tells someone without
// the password whether the e-mail is staff at 0, 1 or several tenants.

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t?.close());

const login = (payload: Record<string, string>) =>
  t.app.inject({ method: "POST", url: "/api/auth/login", payload });

let n = 0;
const uniqueSlug = (tag: string) => `${tag}${Date.now().toString(36)}${n++}`;

/** loginStaff with a verify function that records each hash it is asked to check. */
async function countedLogin(input: { email: string; password: string; tenant?: string }) {
  const checked: string[] = [];
  const counting = (password: string, stored: string) => {
    checked.push(stored);
    return verifyPassword(password, stored);
  };
  const outcome = await loginStaff(t.ctx, input, { verifyPassword: counting }).then(
    (r) => ({ status: 200, slug: r.me.tenant.slug }),
    (err: unknown) => {
      if (err instanceof AppError) return { status: err.statusCode, code: err.code };
      throw err;
    },
  );
  return { checked, outcome };
}

/** The stored hash of a user, to tell which account a login checked. */
const hashOf = async (id: string) =>
  (await t.ctx.db.selectFrom("users").select("password_hash").where("id", "=", id).executeTakeFirstOrThrow())
    .password_hash;

describe("back-office login with the same e-mail at several tenants", () => {
  it("checks one password for an e-mail at three tenants without a company code, right or wrong", async () => {
    const email = `three.${uniqueSlug("e")}@example.test`;
    const ids: string[] = [];
    for (const s of [await seedTenant(t), await seedTenant(t), await seedTenant(t)]) {
      ids.push(
        (
          await createUser(t.ctx, s.tenantId, {
            email,
            name: "Tri",
            password: "tris password",
            role: "viewer",
          })
        ).id,
      );
    }
    const oldest = await hashOf(ids[0]!);
    for (const password of ["not tris password", "tris password"]) {
      const { checked } = await countedLogin({ email, password });
      expect(checked).toEqual([oldest]);
    }
    const unknown = await countedLogin({ email: `nobody.${uniqueSlug("e")}@example.test`, password: "x" });
    expect(unknown.checked).toEqual([dummyPasswordHash()]);
  });

  it("logs in to the oldest active account without a code, and to any account with its code", async () => {
    const a = await seedTenant(t);
    const b = await seedTenant(t);
    const email = `pat.${a.slug}@example.test`;
    await createUser(t.ctx, a.tenantId, { email, name: "Pat A", password: "password of A", role: "finance" });
    await createUser(t.ctx, b.tenantId, { email, name: "Pat B", password: "password of B", role: "viewer" });
    const toA = await login({ email, password: "password of A" });
    expect(toA.statusCode).toBe(200);
    expect(toA.json().me).toMatchObject({ role: "finance", tenant: { slug: a.slug } });
    // B's password without a code is checked against A's account only: a wrong password there.
    const withoutCode = await login({ email: email.toUpperCase(), password: "password of B", tenant: "" });
    expect(withoutCode.statusCode).toBe(401);
    expect(withoutCode.json()).toEqual((await login({ email, password: "wrong" })).json());
    const toB = await login({
      email: email.toUpperCase(),
      password: "password of B",
      tenant: ` ${b.slug.toUpperCase()} `,
    });
    expect(toB.statusCode).toBe(200);
    expect(toB.json().me).toMatchObject({ role: "viewer", tenant: { slug: b.slug } });
  });

  it("answers a wrong password, an unknown e-mail and a wrong company code alike", async () => {
    const a = await seedTenant(t);
    const b = await seedTenant(t);
    const email = `kim.${a.slug}@example.test`;
    for (const s of [a, b]) {
      await createUser(t.ctx, s.tenantId, { email, name: "Kim", password: "kims password", role: "viewer" });
    }
    const answers = await Promise.all([
      login({ email, password: "not kims password" }),
      login({ email, password: "not kims password", tenant: a.slug }),
      login({ email: "nobody@nowhere.test", password: "kims password" }),
      login({ email: "nobody@nowhere.test", password: "kims password", tenant: a.slug }),
      login({ email, password: "kims password", tenant: "no-such-company" }),
      // B's owner's password is right, but for another company than the one named.
      login({ email: `owner@${b.slug}.test`, password: TEST_PASSWORD, tenant: a.slug }),
    ]);
    for (const r of answers) {
      expect(r.statusCode).toBe(401);
      expect(r.json()).toEqual(answers[0]!.json());
    }
  });

  it("skips a disabled account when choosing the one to check", async () => {
    const a = await seedTenant(t);
    const b = await seedTenant(t);
    const email = `lee.${a.slug}@example.test`;
    const gone = await createUser(t.ctx, a.tenantId, {
      email,
      name: "Lee",
      password: "lees password",
      role: "owner",
    });
    await createUser(t.ctx, b.tenantId, { email, name: "Lee", password: "lees password", role: "viewer" });
    await t.ctx.db.updateTable("users").set({ disabled: 1 }).where("id", "=", gone.id).execute();
    const res = await login({ email, password: "lees password" });
    expect(res.statusCode).toBe(200);
    expect(res.json().me.tenant.id).toBe(b.tenantId);
    expect((await login({ email, password: "lees password", tenant: a.slug })).statusCode).toBe(401);
  });

  it("agrees with the model, one password checked, for any spread of one e-mail over tenants", async () => {
    const passwords = ["first password", "second password"] as const;
    const account = fc.record({
      password: fc.constantFrom(0, 1),
      disabled: fc.boolean(),
      // A few distinct instants, so that ties (broken by id, creation order) occur too.
      createdAt: fc.integer({ min: 1, max: 3 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(account, { minLength: 0, maxLength: 3 }),
        fc.constantFrom(0, 1),
        fc.option(fc.nat(3), { nil: undefined }),
        async (accounts, tried, named) => {
          const email = `${uniqueSlug("m")}@example.test`;
          const made: {
            slug: string;
            id: string;
            hash: string;
            password: number;
            disabled: boolean;
            createdAt: number;
          }[] = [];
          for (const acc of accounts) {
            const slug = uniqueSlug("p");
            const { tenantId } = await createTenant(t.ctx, {
              slug,
              name: slug,
              owner: { email: `owner@${slug}.test`, name: "O", password: TEST_PASSWORD },
            });
            const u = await createUser(t.ctx, tenantId, {
              email,
              name: "P",
              password: passwords[acc.password],
              role: "viewer",
            });
            await t.ctx.db
              .updateTable("users")
              .set({ disabled: acc.disabled ? 1 : 0, created_at: acc.createdAt })
              .where("id", "=", u.id)
              .execute();
            made.push({ ...acc, slug, id: u.id, hash: await hashOf(u.id) });
          }
          const tenant = named === undefined ? undefined : (made[named]?.slug ?? "no-such-company");
          const { checked, outcome } = await countedLogin({
            email,
            password: passwords[tried],
            ...(tenant ? { tenant } : {}),
          });

          // The model: the one account looked at is the named tenant's, or else the oldest
          // active one (created_at, then id); it logs in only if active with the password tried.
          const byAge = made
            .filter((m) => !m.disabled)
            .sort((x, y) => x.createdAt - y.createdAt || (x.id < y.id ? -1 : 1));
          const target = tenant ? made.find((m) => m.slug === tenant) : byAge[0];
          expect(checked).toEqual([target?.hash ?? dummyPasswordHash()]);
          if (target && !target.disabled && target.password === tried) {
            expect(outcome).toEqual({ status: 200, slug: target.slug });
          } else {
            expect(outcome).toEqual({ status: 401, code: "unauthenticated" });
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});
