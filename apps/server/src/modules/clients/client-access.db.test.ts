import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyPassword } from "../../infra/crypto/hashing.js";
import { postLedgerEntry } from "../../test/ledger-postings.js";
import { createTestApp, loginClient, seedTenant, type TestApp } from "../../test/test-app.js";
import { loginClient as loginClientUseCase } from "../auth/login.js";
import { resetClientPassword, setClientDisabled } from "./client-access.js";
import { generatePortalPassword } from "./client-model.js";
import { createClientInput } from "./create-client.js";

let t: TestApp;
let s: Awaited<ReturnType<typeof seedTenant>>;
let other: Awaited<ReturnType<typeof seedTenant>>;
beforeAll(async () => {
  t = await createTestApp();
  s = await seedTenant(t);
  other = await seedTenant(t);
});
afterAll(async () => t?.close());

let n = 0;
async function newClient(password: string | null = "portal password 1") {
  const email = `c${++n}@access.test`;
  const res = await s.owner.post("/api/admin/clients", {
    name: `Client ${n}`,
    email,
    ...(password === null ? {} : { password }),
  });
  expect(res.statusCode).toBe(201);
  return { id: res.json().id as string, email, password: password ?? "" };
}

const portalLogin = (email: string, password: string, tenant = s.slug) =>
  t.app.inject({ method: "POST", url: "/api/portal/auth/login", payload: { tenant, email, password } });

const auditOf = (clientId: string) =>
  t.ctx.db
    .selectFrom("audit_log")
    .selectAll()
    .where("target_id", "=", clientId)
    .orderBy("created_at")
    .orderBy("id")
    .execute();

describe("portal password reset", () => {
  it("gives a generated password shown once, ends the client's sessions, and stores only its hash", async () => {
    const c = await newClient();
    const session = await loginClient(t.app, s.slug, c.email, c.password);
    const bystander = await newClient();
    const bystanderSession = await loginClient(t.app, s.slug, bystander.email, bystander.password);

    const res = await s.admin.post(`/api/admin/clients/${c.id}/reset-password`);
    expect(res.statusCode).toBe(200);
    expect(res.headers["cache-control"]).toBe("no-store");
    const { client, password } = res.json();
    expect(password).toMatch(/^[a-z2-9]{4}(-[a-z2-9]{4}){4}$/);
    expect(client).toMatchObject({ id: c.id, portalAccess: true, disabled: false });

    expect((await session.get("/api/portal/auth/me")).statusCode).toBe(401);
    expect((await bystanderSession.get("/api/portal/auth/me")).statusCode).toBe(200);
    expect((await portalLogin(c.email, c.password)).statusCode).toBe(401);
    await loginClient(t.app, s.slug, c.email, password);

    // Nowhere but in that one answer: not in the client's row, its audit record or a later read.
    const row = await t.ctx.db
      .selectFrom("clients")
      .selectAll()
      .where("id", "=", c.id)
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(password);
    const records = await auditOf(c.id);
    expect(records.map((r) => r.action)).toEqual(["client.create", "client.password_reset"]);
    expect(JSON.stringify(records)).not.toContain(password);
    expect(JSON.parse(records[1]!.after!).password).toBe("[redacted]");
    expect(records[1]!.actor_id).toBe(s.admin.me.id);
    expect((await s.owner.get(`/api/admin/clients/${c.id}`)).body).not.toContain(password);
  });

  it("opens the portal to a client that had no password", async () => {
    const c = await newClient(null);
    expect((await s.viewer.get(`/api/admin/clients/${c.id}`)).json().portalAccess).toBe(false);
    const { password } = (await s.owner.post(`/api/admin/clients/${c.id}/reset-password`)).json();
    await loginClient(t.app, s.slug, c.email, password);
    const [, reset] = await auditOf(c.id);
    expect(JSON.parse(reset!.before!).portalAccess).toBe(false);
    expect(JSON.parse(reset!.after!).portalAccess).toBe(true);
  });

  it("generates passwords of 20 characters from an alphabet without look-alikes", () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { minLength: 20, maxLength: 20 }), (draws) => {
        let i = 0;
        const p = generatePortalPassword((max) => draws[i++]! % max);
        expect(p).toMatch(/^[a-hjkmnp-z2-9]{4}(-[a-hjkmnp-z2-9]{4}){4}$/);
        expect(createClientInput.shape.password.safeParse(p).success).toBe(true);
      }),
    );
    expect(new Set(Array.from({ length: 50 }, () => generatePortalPassword())).size).toBe(50);
  });
});

describe("disable and enable", () => {
  it("ends the sessions and refuses portal logins of a disabled client, keeping its money; enabling lets it in again", async () => {
    const c = await newClient();
    const session = await loginClient(t.app, s.slug, c.email, c.password);
    await t.ctx.db.transaction().execute((trx) =>
      postLedgerEntry(trx, {
        tenantId: s.tenantId,
        clientId: c.id,
        currency: "USD",
        amountMinor: 12_345n,
        kind: "adjustment",
        depositId: null,
        memo: "kept",
        now: t.ctx.clock.now(),
      }),
    );

    const off = await s.owner.post(`/api/admin/clients/${c.id}/disable`);
    expect(off.statusCode).toBe(200);
    expect(off.json()).toMatchObject({ disabled: true, portalAccess: true });
    expect((await session.get("/api/portal/wallets")).statusCode).toBe(401);
    // The answer of a wrong password: a disabled account is not told apart.
    const refused = await portalLogin(c.email, c.password);
    const wrong = await portalLogin(c.email, "not the password");
    expect(refused.statusCode).toBe(401);
    expect(refused.body).toBe(wrong.body);

    const seen = (await s.viewer.get(`/api/admin/clients/${c.id}`)).json();
    expect(seen.disabled).toBe(true);
    expect(seen.wallets.map((w: { balance: string }) => w.balance)).toEqual(["123.45"]);
    expect((await s.viewer.get(`/api/admin/clients?q=${c.email}`)).json().items[0].disabled).toBe(true);

    // Disabling again changes and records nothing.
    expect((await s.owner.post(`/api/admin/clients/${c.id}/disable`)).statusCode).toBe(200);
    const on = await s.admin.post(`/api/admin/clients/${c.id}/enable`);
    expect(on.json().disabled).toBe(false);
    const portal = await loginClient(t.app, s.slug, c.email, c.password);
    expect((await portal.get("/api/portal/wallets")).json().items[0].balance).toBe("123.45");

    const records = await auditOf(c.id);
    expect(records.map((r) => r.action)).toEqual(["client.create", "client.disable", "client.enable"]);
    expect(JSON.parse(records[1]!.before!)).toMatchObject({ disabled: false, name: expect.any(String) });
    expect(JSON.parse(records[1]!.after!)).toMatchObject({ disabled: true });
    expect(records[2]!.actor_id).toBe(s.admin.me.id);
  });
});

describe("a login racing a disable or a reset", () => {
  const sessionsOf = (clientId: string) =>
    t.ctx.db.selectFrom("sessions").select("id_hash").where("subject_id", "=", clientId).execute();

  it("issues no session when the client is disabled or its password reset while the password is checked", async () => {
    const system = { type: "system" as const, id: null };
    for (const change of [
      (id: string) => setClientDisabled(t.ctx, s.tenantId, id, true, system),
      (id: string) => resetClientPassword(t.ctx, s.tenantId, id, system),
    ]) {
      const c = await newClient();
      const login = loginClientUseCase(
        t.ctx,
        { tenant: s.slug, email: c.email, password: c.password },
        {
          verifyPassword: async (password, hash) => {
            const ok = await verifyPassword(password, hash);
            await change(c.id);
            return ok;
          },
        },
      );
      await expect(login).rejects.toMatchObject({ statusCode: 401 });
      expect(await sessionsOf(c.id)).toEqual([]);
    }
  });
});

describe("roles and tenants", () => {
  it("keeps reset, disable and enable to owners and admins (clients:access); finance edits details only", async () => {
    const c = await newClient();
    for (const who of [s.finance, s.viewer]) {
      for (const action of ["reset-password", "disable", "enable"]) {
        const res = await who.post(`/api/admin/clients/${c.id}/${action}`);
        expect(res.statusCode, `${String(who.me.role)} ${action}`).toBe(403);
      }
    }
    expect((await s.finance.patch(`/api/admin/clients/${c.id}`, { phone: "+1 555 0199" })).statusCode).toBe(
      200,
    );
    expect((await s.viewer.patch(`/api/admin/clients/${c.id}`, { phone: "+1 555 0100" })).statusCode).toBe(
      403,
    );
    const keyRes = await s.owner.post("/api/admin/api-keys", { name: "finance script", role: "finance" });
    const key = keyRes.json().key as string;
    const byKey = await t.app.inject({
      method: "POST",
      url: `/api/admin/clients/${c.id}/disable`,
      headers: { authorization: `Bearer ${key}` },
    });
    expect(byKey.statusCode).toBe(403);
    expect((await portalLogin(c.email, c.password)).statusCode).toBe(200);
    expect(await auditOf(c.id).then((r) => r.map((x) => x.action))).toEqual([
      "client.create",
      "client.update",
    ]);
  });

  it("answers another tenant's client as an unknown one and changes nothing of it", async () => {
    const c = await newClient();
    const before = await t.ctx.db
      .selectFrom("clients")
      .selectAll()
      .where("id", "=", c.id)
      .executeTakeFirstOrThrow();
    for (const action of ["reset-password", "disable", "enable"]) {
      const theirs = await other.owner.post(`/api/admin/clients/${c.id}/${action}`);
      const unknown = await other.owner.post(`/api/admin/clients/zzzzzzzz/${action}`);
      expect(theirs.statusCode).toBe(404);
      expect(theirs.body).toBe(unknown.body);
    }
    expect((await other.owner.patch(`/api/admin/clients/${c.id}`, { name: "Mallory" })).statusCode).toBe(404);
    const after = await t.ctx.db
      .selectFrom("clients")
      .selectAll()
      .where("id", "=", c.id)
      .executeTakeFirstOrThrow();
    expect(after).toEqual(before);
    expect((await auditOf(c.id)).map((r) => r.action)).toEqual(["client.create"]);
    expect((await portalLogin(c.email, c.password)).statusCode).toBe(200);
  });
});

describe("nationality", () => {
  it("refuses codes that are no ISO 3166-1 country, on create and on update, naming the field", async () => {
    for (const nationality of ["sp", "uk", "xk", "usa", "Spain"]) {
      const res = await s.owner.post("/api/admin/clients", {
        name: "N",
        email: `n-${nationality}@x.test`,
        nationality,
      });
      expect(res.statusCode, nationality).toBe(400);
      const issue = res.json().error.issues.find((i: { path: string }) => i.path === "body.nationality");
      expect(issue.message).toMatch(/ISO 3166-1 alpha-2/);
    }
    const c = await newClient();
    const bad = await s.owner.patch(`/api/admin/clients/${c.id}`, { nationality: "sp" });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.issues[0].path).toBe("body.nationality");
    const good = await s.owner.patch(`/api/admin/clients/${c.id}`, { nationality: "Es" });
    expect(good.json().nationality).toBe("es");
  });

  it("shows a stored code that is no country as stored, and lets the rest of the client be edited", async () => {
    const c = await newClient();
    // Written before codes were checked.
    await t.ctx.db.updateTable("clients").set({ nationality: "sp" }).where("id", "=", c.id).execute();
    expect((await s.viewer.get(`/api/admin/clients/${c.id}`)).json().nationality).toBe("sp");
    const renamed = await s.owner.patch(`/api/admin/clients/${c.id}`, { name: "Renamed" });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json()).toMatchObject({ name: "Renamed", nationality: "sp" });
    const fixed = await s.owner.patch(`/api/admin/clients/${c.id}`, { nationality: "es" });
    expect(fixed.json().nationality).toBe("es");
  });
});
