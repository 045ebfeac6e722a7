import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256Hex } from "../../infra/crypto/hashing.js";
import { createTestApp, loginStaff, seedTenant, TEST_PASSWORD, type TestApp } from "../../test/test-app.js";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t?.close());

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const auditActions = async (tenantId: string) =>
  (
    await t.ctx.db
      .selectFrom("audit_log")
      .select(["action", "target_id", "before", "after"])
      .where("tenant_id", "=", tenantId)
      .orderBy("created_at")
      .execute()
  ).map((a) => a.action);

describe("users", () => {
  it("lists the tenant's users for owners only, without password hashes", async () => {
    const s = await seedTenant(t);
    await seedTenant(t);
    const res = await s.owner.get("/api/admin/users");
    expect(res.statusCode).toBe(200);
    const items = res.json().items;
    expect(items.map((u: { role: string }) => u.role).sort()).toEqual([
      "admin",
      "finance",
      "owner",
      "viewer",
    ]);
    expect(items[0]).toEqual({
      id: expect.any(String),
      email: `owner@${s.slug}.test`,
      name: "Owner",
      role: "owner",
      disabled: false,
      createdAt: expect.any(Number),
    });
    expect(res.body).not.toContain("scrypt");
    for (const role of ["admin", "finance", "viewer"] as const) {
      expect((await s[role].get("/api/admin/users")).statusCode).toBe(403);
    }
  });

  it("creates a user who can log in, and refuses a taken email", async () => {
    const s = await seedTenant(t);
    const body = { email: `New@${s.slug}.test`, name: "New", password: "new password 12", role: "finance" };
    const res = await s.owner.post("/api/admin/users", body);
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ email: `new@${s.slug}.test`, role: "finance", disabled: false });
    expect(res.body).not.toContain("new password");
    const session = await loginStaff(t.app, `new@${s.slug}.test`, "new password 12");
    expect((await session.get("/api/auth/me")).json().me.role).toBe("finance");
    const dup = await s.owner.post("/api/admin/users", body);
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error.code).toBe("email_taken");
    expect(
      (await s.owner.post("/api/admin/users", { ...body, email: "x@y.test", password: "short" })).statusCode,
    ).toBe(400);
    const audit = await t.ctx.db
      .selectFrom("audit_log")
      .selectAll()
      .where("tenant_id", "=", s.tenantId)
      .where("target_id", "=", res.json().id)
      .executeTakeFirstOrThrow();
    expect(audit).toMatchObject({ action: "user.create", actor_type: "user", actor_id: s.owner.me.id });
    expect(audit.after).not.toContain("new password");
  });

  // Staff e-mail is unique per tenant: a 409 across tenants would tell tenant A that an address
  // is staff at some other tenant (and let A reserve it).
  it("creates a user whose email is staff at another tenant; 409 only within the same tenant", async () => {
    const a = await seedTenant(t);
    const b = await seedTenant(t);
    const body = {
      email: `owner@${b.slug}.test`,
      name: "Same address",
      password: "another password",
      role: "viewer",
    };
    const res = await a.owner.post("/api/admin/users", body);
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ email: `owner@${b.slug}.test`, role: "viewer" });
    const again = await a.owner.post("/api/admin/users", {
      ...body,
      email: `Owner@${b.slug.toUpperCase()}.test`,
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe("email_taken");
    // B's owner is untouched and still logs in to B with B's password.
    const bOwner = await loginStaff(t.app, `owner@${b.slug}.test`, TEST_PASSWORD);
    expect(bOwner.me.tenant.id).toBe(b.tenantId);
  });

  it("renames and changes roles, and audits the change", async () => {
    const s = await seedTenant(t);
    const res = await s.owner.patch(`/api/admin/users/${s.viewer.me.id}`, { name: "Vera", role: "admin" });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ name: "Vera", role: "admin", disabled: false });
    // The role applies to the existing session at once.
    expect((await s.viewer.get("/api/admin/audit")).statusCode).toBe(200);
    const row = await t.ctx.db
      .selectFrom("audit_log")
      .selectAll()
      .where("action", "=", "user.update")
      .where("target_id", "=", s.viewer.me.id)
      .executeTakeFirstOrThrow();
    expect(JSON.parse(row.before!)).toMatchObject({ name: "viewer", role: "viewer" });
    expect(JSON.parse(row.after!)).toMatchObject({ name: "Vera", role: "admin" });
  });

  it("refuses to demote or disable the last active owner (409 last_owner)", async () => {
    const s = await seedTenant(t);
    const me = s.owner.me.id;
    for (const body of [{ role: "admin" }, { disabled: true }, { role: "viewer", disabled: true }]) {
      const res = await s.owner.patch(`/api/admin/users/${me}`, body);
      expect(res.statusCode).toBe(409);
      expect(res.json().error.code).toBe("last_owner");
    }
    // A second owner makes it possible; a disabled owner does not count.
    await s.owner.patch(`/api/admin/users/${s.admin.me.id}`, { role: "owner", disabled: true });
    expect((await s.owner.patch(`/api/admin/users/${me}`, { role: "admin" })).statusCode).toBe(409);
    await s.owner.patch(`/api/admin/users/${s.admin.me.id}`, { disabled: false });
    expect((await s.owner.patch(`/api/admin/users/${me}`, { role: "admin" })).statusCode).toBe(200);
    // Now the former admin is the last owner.
    const other = await loginStaff(t.app, `admin@${s.slug}.test`, TEST_PASSWORD);
    const res = await other.patch(`/api/admin/users/${s.admin.me.id}`, { disabled: true });
    expect(res.json().error.code).toBe("last_owner");
    // Renaming the last owner is fine.
    expect((await other.patch(`/api/admin/users/${s.admin.me.id}`, { name: "Boss" })).statusCode).toBe(200);
  });

  it("ends a disabled user's sessions and refuses its login", async () => {
    const s = await seedTenant(t);
    const second = await loginStaff(t.app, `finance@${s.slug}.test`, TEST_PASSWORD);
    const res = await s.owner.patch(`/api/admin/users/${s.finance.me.id}`, { disabled: true });
    expect(res.json().disabled).toBe(true);
    expect((await s.finance.get("/api/auth/me")).statusCode).toBe(401);
    expect((await second.get("/api/auth/me")).statusCode).toBe(401);
    const sessions = await t.ctx.db
      .selectFrom("sessions")
      .select("id_hash")
      .where("subject_id", "=", s.finance.me.id)
      .execute();
    expect(sessions).toEqual([]);
    const login = await t.app.inject({
      method: "POST",
      url: "/api/auth/login",
      payload: { email: `finance@${s.slug}.test`, password: TEST_PASSWORD },
    });
    expect(login.statusCode).toBe(401);
    await s.owner.patch(`/api/admin/users/${s.finance.me.id}`, { disabled: false });
    await loginStaff(t.app, `finance@${s.slug}.test`, TEST_PASSWORD);
  });

  it("answers 404 for another tenant's user", async () => {
    const a = await seedTenant(t);
    const b = await seedTenant(t);
    const res = await b.owner.patch(`/api/admin/users/${a.viewer.me.id}`, { disabled: true });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe("not_found");
    expect((await a.viewer.get("/api/auth/me")).statusCode).toBe(200);
  });
});

describe("API keys", () => {
  it("issues a key once, stores only its hash and prefix, and lists it without the key", async () => {
    const s = await seedTenant(t);
    const res = await s.owner.post("/api/admin/api-keys", { name: "Reporting", role: "viewer" });
    expect(res.statusCode).toBe(201);
    const created = res.json();
    expect(created).toEqual({
      id: expect.any(String),
      name: "Reporting",
      role: "viewer",
      prefix: expect.any(String),
      key: expect.stringMatching(/^psk_[A-Za-z0-9_-]{43}$/),
    });
    expect(created.prefix).toBe(created.key.slice(4, 12));
    const row = await t.ctx.db
      .selectFrom("api_keys")
      .selectAll()
      .where("id", "=", created.id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      tenant_id: s.tenantId,
      key_hash: sha256Hex(created.key),
      prefix: created.prefix,
      created_by: s.owner.me.id,
      revoked_at: null,
    });
    expect(JSON.stringify(row)).not.toContain(created.key.slice(4));

    const list = await s.owner.get("/api/admin/api-keys");
    expect(list.json().items).toEqual([
      {
        id: created.id,
        name: "Reporting",
        role: "viewer",
        prefix: created.prefix,
        createdBy: s.owner.me.id,
        createdAt: expect.any(Number),
        lastUsedAt: null,
        revokedAt: null,
        status: "active",
        effectiveRole: "viewer",
      },
    ]);
    expect(list.body).not.toContain(created.key.slice(4));
    expect(list.body).not.toContain(row.key_hash);
  });

  it("authenticates with its role: a viewer key reads but cannot write", async () => {
    const s = await seedTenant(t);
    const key = (await s.owner.post("/api/admin/api-keys", { name: "ro", role: "viewer" })).json().key;
    const read = await t.app.inject({ method: "GET", url: "/api/admin/clients", headers: bearer(key) });
    expect(read.statusCode).toBe(200);
    const write = await t.app.inject({
      method: "POST",
      url: "/api/admin/clients",
      headers: bearer(key),
      payload: { name: "Nope", email: "nope@example.com" },
    });
    expect(write.statusCode).toBe(403);
    expect(
      (await t.app.inject({ method: "GET", url: "/api/admin/users", headers: bearer(key) })).statusCode,
    ).toBe(403);
    const used = (await s.owner.get("/api/admin/api-keys")).json().items[0];
    expect(used.lastUsedAt).toEqual(expect.any(Number));

    const rw = (await s.owner.post("/api/admin/api-keys", { name: "rw", role: "finance" })).json().key;
    const ok = await t.app.inject({
      method: "POST",
      url: "/api/admin/clients",
      headers: bearer(rw),
      payload: { name: "Yes", email: "yes@example.com" },
    });
    expect(ok.statusCode).toBe(201);
    const audit = await t.ctx.db
      .selectFrom("audit_log")
      .select(["actor_type", "actor_id"])
      .where("action", "=", "client.create")
      .where("tenant_id", "=", s.tenantId)
      .executeTakeFirstOrThrow();
    expect(audit.actor_type).toBe("api_key");
  });

  it("revokes a key: it answers 401 at once; revoking twice is a no-op", async () => {
    const s = await seedTenant(t);
    const created = (await s.owner.post("/api/admin/api-keys", { name: "tmp", role: "admin" })).json();
    const get = () =>
      t.app.inject({ method: "GET", url: "/api/admin/clients", headers: bearer(created.key) });
    expect((await get()).statusCode).toBe(200);
    const revoked = await s.owner.delete(`/api/admin/api-keys/${created.id}`);
    expect(revoked.statusCode).toBe(204);
    expect(revoked.body).toBe("");
    const res = await get();
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe("unauthenticated");
    expect((await s.owner.delete(`/api/admin/api-keys/${created.id}`)).statusCode).toBe(204);
    const listed = (await s.owner.get("/api/admin/api-keys")).json().items[0];
    expect(listed).toMatchObject({ revokedAt: expect.any(Number), status: "revoked", effectiveRole: null });
    expect(await auditActions(s.tenantId)).toEqual(
      expect.arrayContaining(["api_key.create", "api_key.revoke"]),
    );
    const revokes = await t.ctx.db
      .selectFrom("audit_log")
      .select("id")
      .where("action", "=", "api_key.revoke")
      .where("tenant_id", "=", s.tenantId)
      .execute();
    expect(revokes).toHaveLength(1);
  });

  it("answers 404 for another tenant's key and leaves it working", async () => {
    const a = await seedTenant(t);
    const b = await seedTenant(t);
    const created = (await a.owner.post("/api/admin/api-keys", { name: "a", role: "viewer" })).json();
    const res = await b.owner.delete(`/api/admin/api-keys/${created.id}`);
    expect(res.statusCode).toBe(404);
    expect((await b.owner.get("/api/admin/api-keys")).json().items).toEqual([]);
    const still = await t.app.inject({
      method: "GET",
      url: "/api/admin/clients",
      headers: bearer(created.key),
    });
    expect(still.statusCode).toBe(200);
  });

  // A key acts with at most its creator's current role, and not at all while the creator is
  // disabled; otherwise this key could still create an owner.
  it("stops working while its creator is disabled, shows as suspended, and works again on re-enable", async () => {
    const s = await seedTenant(t);
    await s.owner.patch(`/api/admin/users/${s.admin.me.id}`, { role: "owner" });
    const created = (await s.owner.post("/api/admin/api-keys", { name: "ops", role: "owner" })).json();
    const asKey = (method: "GET" | "POST", url: string, payload?: object) =>
      t.app.inject({ method, url, headers: bearer(created.key), payload });
    expect((await asKey("GET", "/api/admin/users")).statusCode).toBe(200);

    expect((await s.admin.patch(`/api/admin/users/${s.owner.me.id}`, { disabled: true })).statusCode).toBe(
      200,
    );
    const newOwner = await asKey("POST", "/api/admin/users", {
      email: `intruder@${s.slug}.test`,
      name: "Intruder",
      password: "intruder password",
      role: "owner",
    });
    expect(newOwner.statusCode).toBe(401);
    expect(newOwner.json().error.message).toContain("suspended");
    expect((await asKey("GET", "/api/admin/clients")).statusCode).toBe(401);
    const users = (await s.admin.get("/api/admin/users")).json().items;
    expect(users.map((u: { email: string }) => u.email)).not.toContain(`intruder@${s.slug}.test`);
    const listed = (await s.admin.get("/api/admin/api-keys")).json().items[0];
    expect(listed).toMatchObject({ id: created.id, role: "owner", status: "suspended", effectiveRole: null });

    // Decision: disabling suspends, it does not revoke; re-enabling the creator revives the key.
    await s.admin.patch(`/api/admin/users/${s.owner.me.id}`, { disabled: false });
    expect((await asKey("GET", "/api/admin/users")).statusCode).toBe(200);
    expect((await s.admin.get("/api/admin/api-keys")).json().items[0]).toMatchObject({
      status: "active",
      effectiveRole: "owner",
    });
  });

  it("acts with at most its creator's current role, and the list says so", async () => {
    const s = await seedTenant(t);
    await s.owner.patch(`/api/admin/users/${s.admin.me.id}`, { role: "owner" });
    const ownerKey = (await s.owner.post("/api/admin/api-keys", { name: "o", role: "owner" })).json();
    const viewerKey = (await s.owner.post("/api/admin/api-keys", { name: "v", role: "viewer" })).json();
    const as = (key: string, method: "GET" | "POST", url: string, payload?: object) =>
      t.app.inject({ method, url, headers: bearer(key), payload });

    await s.admin.patch(`/api/admin/users/${s.owner.me.id}`, { role: "finance" });
    expect((await as(ownerKey.key, "GET", "/api/admin/users")).statusCode).toBe(403);
    expect(
      (await as(ownerKey.key, "POST", "/api/admin/api-keys", { name: "x", role: "owner" })).statusCode,
    ).toBe(403);
    // Still what a finance user may do.
    const client = await as(ownerKey.key, "POST", "/api/admin/clients", { name: "C", email: "c@key.test" });
    expect(client.statusCode).toBe(201);
    // A key below its creator's role keeps its own, lower role.
    expect(
      (await as(viewerKey.key, "POST", "/api/admin/clients", { name: "D", email: "d@key.test" })).statusCode,
    ).toBe(403);
    const byId = Object.fromEntries(
      (await s.admin.get("/api/admin/api-keys")).json().items.map((k: { id: string }) => [k.id, k]),
    );
    expect(byId[ownerKey.id]).toMatchObject({ role: "owner", status: "limited", effectiveRole: "finance" });
    expect(byId[viewerKey.id]).toMatchObject({ role: "viewer", status: "active", effectiveRole: "viewer" });

    await s.admin.patch(`/api/admin/users/${s.owner.me.id}`, { role: "owner" });
    expect((await as(ownerKey.key, "GET", "/api/admin/users")).statusCode).toBe(200);
  });

  it("binds a key issued with an API key to that key's user", async () => {
    const s = await seedTenant(t);
    await s.owner.patch(`/api/admin/users/${s.admin.me.id}`, { role: "owner" });
    const first = (await s.owner.post("/api/admin/api-keys", { name: "first", role: "owner" })).json();
    const second = await t.app.inject({
      method: "POST",
      url: "/api/admin/api-keys",
      headers: bearer(first.key),
      payload: { name: "second", role: "admin" },
    });
    expect(second.statusCode).toBe(201);
    const listed = (await s.admin.get("/api/admin/api-keys")).json().items;
    expect(listed.find((k: { id: string }) => k.id === second.json().id).createdBy).toBe(s.owner.me.id);
    await s.admin.patch(`/api/admin/users/${s.owner.me.id}`, { disabled: true });
    const res = await t.app.inject({
      method: "GET",
      url: "/api/admin/clients",
      headers: bearer(second.json().key),
    });
    expect(res.statusCode).toBe(401);
  });

  it("is for owners only and validates the role", async () => {
    const s = await seedTenant(t);
    expect((await s.admin.post("/api/admin/api-keys", { name: "x", role: "viewer" })).statusCode).toBe(403);
    expect((await s.owner.post("/api/admin/api-keys", { name: "x", role: "root" })).statusCode).toBe(400);
    expect((await s.owner.post("/api/admin/api-keys", { name: "", role: "viewer" })).statusCode).toBe(400);
  });
});
