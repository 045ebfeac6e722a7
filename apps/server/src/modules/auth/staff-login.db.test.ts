import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, seedTenant, TEST_PASSWORD, type TestApp } from "../../test/test-app.js";
import { createTenant, createUser } from "../tenants/create-tenant.js";

// Issue 14 item 8: staff e-mail is unique per tenant, so one person may be staff at several
// tenants. The back-office login then names the tenant ("company code", the slug), as the
// portal login does: optional when the e-mail and password match one account, required when
// they match several, and never telling anything to someone without the password.

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t?.close());

const login = (payload: Record<string, string>) =>
  t.app.inject({ method: "POST", url: "/api/auth/login", payload });

/** The company codes a `tenant_required` answer offers (only those the password opens). */
const codesIn = (message: string) => (message.split("one of ")[1] ?? "").split(", ").sort();

let n = 0;
const uniqueSlug = (tag: string) => `${tag}${Date.now().toString(36)}${n++}`;

describe("back-office login with the same e-mail at several tenants", () => {
  it("needs no company code when the password matches one of them", async () => {
    const a = await seedTenant(t);
    const b = await seedTenant(t);
    const email = `pat.${a.slug}@example.test`;
    await createUser(t.ctx, a.tenantId, { email, name: "Pat A", password: "password of A", role: "finance" });
    await createUser(t.ctx, b.tenantId, { email, name: "Pat B", password: "password of B", role: "viewer" });
    const toA = await login({ email, password: "password of A" });
    expect(toA.statusCode).toBe(200);
    expect(toA.json().me).toMatchObject({ role: "finance", tenant: { slug: a.slug } });
    const toB = await login({ email: email.toUpperCase(), password: "password of B", tenant: "" });
    expect(toB.statusCode).toBe(200);
    expect(toB.json().me).toMatchObject({ role: "viewer", tenant: { slug: b.slug } });
  });

  it("asks for the company code when the password matches several, then logs in to the one named", async () => {
    const a = await seedTenant(t);
    const b = await seedTenant(t);
    const email = `sam.${a.slug}@example.test`;
    for (const s of [a, b]) {
      await createUser(t.ctx, s.tenantId, { email, name: "Sam", password: "same password", role: "admin" });
    }
    const res = await login({ email, password: "same password" });
    expect(res.statusCode).toBe(400);
    const error = res.json().error;
    expect(error.code).toBe("tenant_required");
    expect(error.issues).toEqual([{ path: "tenant", message: error.message }]);
    expect(error.message).toContain("company code");
    expect(codesIn(error.message)).toEqual([a.slug, b.slug].sort());
    expect(res.cookies.find((c) => c.name === "psphub_session")).toBeUndefined();

    for (const s of [a, b]) {
      const ok = await login({ email, password: "same password", tenant: ` ${s.slug.toUpperCase()} ` });
      expect(ok.statusCode).toBe(200);
      expect(ok.json().me.tenant.id).toBe(s.tenantId);
    }
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

  it("skips a disabled account among several", async () => {
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

  it("agrees with the model for any spread of one e-mail over tenants, passwords and disabled flags", async () => {
    const passwords = ["first password", "second password"] as const;
    const account = fc.record({ password: fc.constantFrom(0, 1), disabled: fc.boolean() });
    await fc.assert(
      fc.asyncProperty(
        fc.array(account, { minLength: 0, maxLength: 3 }),
        fc.constantFrom(0, 1),
        fc.option(fc.nat(3), { nil: undefined }),
        async (accounts, tried, named) => {
          const email = `${uniqueSlug("m")}@example.test`;
          const slugs: string[] = [];
          for (const acc of accounts) {
            const slug = uniqueSlug("p");
            slugs.push(slug);
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
            if (acc.disabled)
              await t.ctx.db.updateTable("users").set({ disabled: 1 }).where("id", "=", u.id).execute();
          }
          const tenant = named === undefined ? undefined : (slugs[named] ?? "no-such-company");
          const res = await login({ email, password: passwords[tried], ...(tenant ? { tenant } : {}) });
          const matching = accounts
            .map((acc, i) => ({ ...acc, slug: slugs[i]! }))
            .filter((acc) => acc.password === tried && !acc.disabled && (!tenant || acc.slug === tenant));
          if (matching.length === 0) {
            expect(res.statusCode).toBe(401);
          } else if (matching.length === 1) {
            expect(res.statusCode).toBe(200);
            expect(res.json().me.tenant.slug).toBe(matching[0]!.slug);
          } else {
            expect(res.statusCode).toBe(400);
            expect(res.json().error.code).toBe("tenant_required");
            expect(codesIn(res.json().error.message)).toEqual(matching.map((m) => m.slug).sort());
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});
