import { describe, expect, it } from "vitest";
import { type AppContext, createAppContext } from "../../app-context.js";
import { loadConfig } from "../../config/config.js";
import { runPsphub, useEnvTestDatabase } from "../../test/cli-env.js";
import { loginStaff } from "../auth/login.js";

// A CLI command creates a tenant with its first owner: the README's command, run
// in-process against an empty database of either kind (it migrates first).

useEnvTestDatabase({ LOG_LEVEL: "silent" });

async function withCtx<T>(fn: (ctx: AppContext) => Promise<T>): Promise<T> {
  const ctx = createAppContext(loadConfig());
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}

const README_ARGS = [
  "tenant",
  "create",
  "--slug",
  "acme",
  "--name",
  "Acme Ltd",
  "--owner-email",
  "Owner@Acme.test",
  "--owner-password",
  "a long password",
];

describe("psphub tenant create", () => {
  it("creates the tenant and its first owner, who can log in, audited as the system", async () => {
    const r = await runPsphub(README_ARGS);
    expect(r.code, r.err).toBe(0);
    const printed = JSON.parse(r.out);
    expect(printed).toEqual({ tenantId: expect.any(String), ownerId: expect.any(String), slug: "acme" });

    await withCtx(async (ctx) => {
      const tenant = await ctx.db
        .selectFrom("tenants")
        .selectAll()
        .where("id", "=", printed.tenantId)
        .executeTakeFirst();
      expect(tenant).toMatchObject({ slug: "acme", name: "Acme Ltd" });
      const owner = await ctx.db
        .selectFrom("users")
        .selectAll()
        .where("id", "=", printed.ownerId)
        .executeTakeFirst();
      expect(owner).toMatchObject({
        tenant_id: printed.tenantId,
        email: "owner@acme.test",
        role: "owner",
        name: "Owner",
      });
      expect(owner?.password_hash).toMatch(/^scrypt\$/);

      const { me } = await loginStaff(ctx, { email: "owner@acme.test", password: "a long password" });
      expect(me).toMatchObject({ role: "owner", tenant: { id: printed.tenantId, slug: "acme" } });
      expect(me.permissions).toContain("users:manage");
      await expect(
        loginStaff(ctx, { email: "owner@acme.test", password: "a wrong password" }),
      ).rejects.toThrow();

      const audit = await ctx.db
        .selectFrom("audit_log")
        .select(["actor_type", "action", "after"])
        .where("tenant_id", "=", printed.tenantId)
        .execute();
      expect(audit).toEqual([
        { actor_type: "system", action: "tenant.create", after: expect.stringContaining('"slug":"acme"') },
      ]);
      expect(JSON.stringify(audit)).not.toContain("a long password");
    });
  });

  it("refuses a taken slug, a short password and a bad slug, creating nothing", async () => {
    const args = (o: { slug: string; email: string; password: string }) => [
      "tenant",
      "create",
      "--slug",
      o.slug,
      "--name",
      "Another Ltd",
      "--owner-email",
      o.email,
      "--owner-password",
      o.password,
    ];
    const taken = await runPsphub(
      args({ slug: "acme", email: "other@acme.test", password: "a long password" }),
    );
    expect(taken.code, taken.err).toBe(1);
    expect(taken.err).toContain("A tenant with that slug");

    const short = await runPsphub(args({ slug: "beta", email: "owner@beta.test", password: "short" }));
    expect(short.code, short.err).toBe(1);
    expect(short.err).toMatch(/owner\.password: must be at least 10 characters/);

    const slug = await runPsphub(
      args({ slug: "Not A Slug", email: "owner@c.test", password: "a long password" }),
    );
    expect(slug.code, slug.err).toBe(1);
    expect(slug.err).toMatch(/\n {2}slug: /);

    await withCtx(async (ctx) => {
      expect(await ctx.db.selectFrom("tenants").select("slug").execute()).toEqual([{ slug: "acme" }]);
      expect(await ctx.db.selectFrom("users").select("email").execute()).toEqual([
        { email: "owner@acme.test" },
      ]);
    });
  });

  it("explains a missing option with the usage", async () => {
    const r = await runPsphub(["tenant", "create", "--slug", "gamma", "--name", "Gamma"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--owner-email is required");
    expect(r.err).toContain("usage: psphub tenant create");
  });
});

// Staff e-mail is unique per tenant, so `user create` takes an address that is
// staff at another tenant, and that person's login names the company code to open it.
describe("psphub user create", () => {
  it("creates a user whose email is staff at another tenant, and refuses it twice in one tenant", async () => {
    const beta = await runPsphub([
      "tenant",
      "create",
      "--slug",
      "beta",
      "--name",
      "Beta",
      "--owner-email",
      "owner@beta.test",
      "--owner-password",
      "a long password",
    ]);
    expect(beta.code, beta.err).toBe(0);
    const create = (tenant: string) =>
      runPsphub([
        "user",
        "create",
        "--tenant",
        tenant,
        "--email",
        "Owner@Acme.test",
        "--password",
        "a long password",
        "--role",
        "viewer",
      ]);
    const r = await create("beta");
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ email: "owner@acme.test", role: "viewer" });
    const again = await create("acme");
    expect(again.code).toBe(1);
    expect(again.err).toContain("A user with that email exists in this company");

    await withCtx(async (ctx) => {
      // Same password at both: without a code the oldest account (acme's owner) opens, with
      // one the company named.
      const first = await loginStaff(ctx, { email: "owner@acme.test", password: "a long password" });
      expect(first.me).toMatchObject({ role: "owner", tenant: { slug: "acme" } });
      const { me } = await loginStaff(ctx, {
        email: "owner@acme.test",
        password: "a long password",
        tenant: "beta",
      });
      expect(me).toMatchObject({ role: "viewer", tenant: { slug: "beta" } });
    });
  });
});
