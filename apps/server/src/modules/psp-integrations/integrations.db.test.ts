import { verify } from "@psphub/protocol";
import type { InjectOptions, LightMyRequestResponse } from "fastify";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { fixedClock } from "../../common/clock.js";
import { insertDeposit } from "../../test/callback-client.js";
import { insertMethod, insertPaymentSetup } from "../../test/payment-fixtures.js";
import { createTestApp, seedTenant, type TestApp } from "../../test/test-app.js";
import { acceptedTokens } from "./integration-model.js";
import { SAMPLE_TOKEN } from "./preview-api1.js";

const T0 = Date.UTC(2025, 0, 15, 12, 0, 0);
const HOUR = 3_600_000;
const clock = fixedClock(T0);
const BASE = "/api/admin/integrations";

let t: TestApp;
type Seeded = Awaited<ReturnType<typeof seedTenant>>;
let a: Seeded;
let b: Seeded;
/** Every response of this file, to prove no body but reveal's and rotation's ever carries a token. */
const seen: { method: string; url: string; status: number; body: string }[] = [];

beforeAll(async () => {
  t = await createTestApp({ clock });
  const inject = t.app.inject.bind(t.app) as (o: InjectOptions) => Promise<LightMyRequestResponse>;
  (t.app as unknown as { inject: typeof inject }).inject = async (o: InjectOptions) => {
    const res = await inject(o);
    seen.push({ method: String(o.method), url: String(o.url), status: res.statusCode, body: res.body });
    return res;
  };
  a = await seedTenant(t);
  b = await seedTenant(t);
});
afterAll(async () => t?.close());

const valid = (over: Record<string, unknown> = {}) => ({
  name: "Main PSP",
  appUrl: "https://psp.example.com/",
  ...over,
});

async function create(over: Record<string, unknown> = {}, s: Seeded = a) {
  const res = await s.owner.post(BASE, valid(over));
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

const issuePaths = (res: LightMyRequestResponse): string[] =>
  (res.json().error.issues ?? []).map((i: { path: string }) => i.path);

async function auditRows(action: string, targetId?: string) {
  let q = t.ctx.db.selectFrom("audit_log").selectAll().where("action", "=", action);
  if (targetId) q = q.where("target_id", "=", targetId);
  return q.execute();
}

describe("PSP integrations: CRUD", () => {
  it("creates with defaults, generated merchant_id and callback URL", async () => {
    const res = await a.owner.post(BASE, valid());
    expect(res.statusCode).toBe(201);
    const i = res.json();
    expect(i).toMatchObject({
      name: "Main PSP",
      enabled: true,
      appUrl: "https://psp.example.com",
      api1TimeoutMs: 10_000,
      amountPolicy: "exact",
      callbackUrl: "https://crm.test/api/psp",
      customParams: [],
      tokenRotatedAt: null,
      previousTokenValidUntil: null,
      createdAt: T0,
      updatedAt: T0,
    });
    expect(i.merchantId).toMatch(/^[0-9a-f]{32}$/);
    expect(i.paramConfig.amount).toEqual({ key: "amount", enabled: true });
    expect(Object.keys(i.paramConfig)).toHaveLength(11);
    expect(i).not.toHaveProperty("token");
    expect(i).not.toHaveProperty("tokenEnc");

    const audit = await auditRows("integration.create", i.id);
    expect(audit).toHaveLength(1);
    expect(audit[0]!.tenant_id).toBe(a.tenantId);
    expect(audit[0]!.actor_type).toBe("user");
    expect(JSON.parse(audit[0]!.after!).merchantId).toBe(i.merchantId);
  });

  it("stores the token encrypted, never as plain text", async () => {
    const i = await create();
    const row = await t.ctx.db
      .selectFrom("psp_integrations")
      .selectAll()
      .where("id", "=", i.id)
      .executeTakeFirstOrThrow();
    const token = t.ctx.secretBox.open(row.token_enc);
    expect(token.length).toBeGreaterThanOrEqual(43); // 256 bits, base64url
    expect(row.token_enc).not.toContain(token);
    expect(row.token_enc.startsWith("v1.")).toBe(true);
    const revealed = await a.owner.post(`${BASE}/${i.id}/reveal`);
    expect(revealed.json().token).toBe(token);
  });

  it("lists, gets, updates, enables and disables, auditing each change", async () => {
    const i = await create({
      name: "To change",
      api1TimeoutMs: 5_000,
      amountPolicy: "review",
      enabled: false,
    });
    expect(i).toMatchObject({ api1TimeoutMs: 5_000, amountPolicy: "review", enabled: false });

    const list = await a.viewer.get(BASE);
    expect(list.statusCode).toBe(200);
    const found = list.json().items.find((x: { id: string }) => x.id === i.id);
    expect(found).toMatchObject({ name: "To change", enabled: false, merchantId: i.merchantId });

    const got = await a.finance.get(`${BASE}/${i.id}`);
    expect(got.statusCode).toBe(200);
    expect(got.json()).toEqual(i);

    clock.advance(1_000);
    const up = await a.admin.patch(`${BASE}/${i.id}`, {
      name: "Changed",
      appUrl: "https://pay.example.org/base/",
      api1TimeoutMs: 60_000,
      amountPolicy: "credit_paid",
    });
    expect(up.statusCode, up.body).toBe(200);
    expect(up.json()).toMatchObject({
      name: "Changed",
      appUrl: "https://pay.example.org/base",
      api1TimeoutMs: 60_000,
      amountPolicy: "credit_paid",
      merchantId: i.merchantId,
      updatedAt: T0 + 1_000,
      createdAt: i.createdAt,
    });
    const [upd] = await auditRows("integration.update", i.id);
    expect(JSON.parse(upd!.before!)).toMatchObject({ name: "To change", amountPolicy: "review" });
    expect(JSON.parse(upd!.after!)).toMatchObject({ name: "Changed", amountPolicy: "credit_paid" });

    const en = await a.owner.post(`${BASE}/${i.id}/enable`);
    expect(en.statusCode).toBe(200);
    expect(en.json().enabled).toBe(true);
    const dis = await a.admin.post(`${BASE}/${i.id}/disable`);
    expect(dis.json().enabled).toBe(false);
    expect((await a.owner.get(`${BASE}/${i.id}`)).json().enabled).toBe(false);
    expect(await auditRows("integration.enable", i.id)).toHaveLength(1);
    expect(await auditRows("integration.disable", i.id)).toHaveLength(1);

    // No change, no audit record.
    await a.admin.post(`${BASE}/${i.id}/disable`);
    await a.admin.patch(`${BASE}/${i.id}`, { name: "Changed" });
    expect(await auditRows("integration.disable", i.id)).toHaveLength(1);
    expect(await auditRows("integration.update", i.id)).toHaveLength(1);
  });

  it("validates field ranges", async () => {
    for (const bad of [
      { name: "" },
      { name: "x".repeat(121) },
      { api1TimeoutMs: 999 },
      { api1TimeoutMs: 60_001 },
      { amountPolicy: "whatever" },
    ]) {
      const res = await a.owner.post(BASE, valid(bad));
      expect(res.statusCode, JSON.stringify(bad)).toBe(400);
    }
    expect((await a.owner.get(`${BASE}/no-such-id`)).statusCode).toBe(404);
  });
});

describe("PSP integrations: OpenAPI", () => {
  it("documents every route, and no response schema but reveal's and rotation's lists a token", async () => {
    const res = await t.app.inject({ method: "GET", url: "/openapi.json" });
    expect(res.statusCode).toBe(200);
    const paths = res.json().paths as Record<string, Record<string, { responses: unknown }>>;
    for (const p of [
      "",
      "/{id}",
      "/{id}/enable",
      "/{id}/disable",
      "/{id}/reveal",
      "/{id}/rotate-token",
      "/{id}/impact",
      "/api1-preview",
    ]) {
      expect(paths).toHaveProperty([`${BASE}${p}`]);
    }
    for (const [path, ops] of Object.entries(paths)) {
      if (!path.startsWith(BASE) || path.endsWith("/reveal") || path.endsWith("/rotate-token")) continue;
      expect(JSON.stringify(ops), path).not.toMatch(/"token"/);
    }
  });
});

describe("PSP integrations: access", () => {
  it("lets viewer and finance read but not write, reveal or rotate", async () => {
    const i = await create();
    for (const role of ["viewer", "finance"] as const) {
      const s = a[role];
      expect((await s.get(BASE)).statusCode).toBe(200);
      expect((await s.get(`${BASE}/${i.id}`)).statusCode).toBe(200);
      expect((await s.post(BASE, valid())).statusCode).toBe(403);
      expect((await s.patch(`${BASE}/${i.id}`, { name: "x" })).statusCode).toBe(403);
      expect((await s.post(`${BASE}/${i.id}/enable`)).statusCode).toBe(403);
      expect((await s.post(`${BASE}/${i.id}/disable`)).statusCode).toBe(403);
      const rev = await s.post(`${BASE}/${i.id}/reveal`);
      expect(rev.statusCode).toBe(403);
      expect(rev.body).not.toContain('token"');
      expect((await s.post(`${BASE}/${i.id}/rotate-token`, {})).statusCode).toBe(403);
    }
    expect(await auditRows("integration.reveal", i.id)).toHaveLength(0);
  });

  it("reveals to owner and admin, audited without the secret", async () => {
    const i = await create();
    for (const role of ["owner", "admin"] as const) {
      const res = await a[role].post(`${BASE}/${i.id}/reveal`);
      expect(res.statusCode).toBe(200);
      expect(res.headers["cache-control"]).toBe("no-store");
      const body = res.json();
      expect(Object.keys(body).sort()).toEqual(["callbackUrl", "merchantId", "token"]);
      expect(body.merchantId).toBe(i.merchantId);
      expect(body.callbackUrl).toBe("https://crm.test/api/psp");
      const audits = await auditRows("integration.reveal", i.id);
      expect(JSON.stringify(audits)).not.toContain(body.token);
    }
    const audits = await auditRows("integration.reveal", i.id);
    expect(audits.map((x) => x.actor_id).sort()).toEqual([a.owner.me.id, a.admin.me.id].sort());
  });

  it("answers 404 to another tenant on every route, and hides it from the list", async () => {
    const i = await create();
    const o = b.owner;
    expect((await o.get(`${BASE}/${i.id}`)).statusCode).toBe(404);
    expect((await o.patch(`${BASE}/${i.id}`, { name: "Stolen" })).statusCode).toBe(404);
    expect((await o.post(`${BASE}/${i.id}/enable`)).statusCode).toBe(404);
    expect((await o.post(`${BASE}/${i.id}/disable`)).statusCode).toBe(404);
    expect((await o.post(`${BASE}/${i.id}/reveal`)).statusCode).toBe(404);
    expect((await o.post(`${BASE}/${i.id}/rotate-token`, {})).statusCode).toBe(404);
    const list = await o.get(BASE);
    expect(list.json().items.map((x: { id: string }) => x.id)).not.toContain(i.id);
    // Nothing changed and nothing was audited under either tenant.
    const still = await a.owner.get(`${BASE}/${i.id}`);
    expect(still.json()).toEqual(i);
    const rows = await t.ctx.db.selectFrom("audit_log").selectAll().where("target_id", "=", i.id).execute();
    expect(rows.map((r) => r.action)).toEqual(["integration.create"]);
  });
});

describe("PSP integrations: what disabling affects", () => {
  it("counts the enabled methods and open orders of that integration only, and 404s another tenant", async () => {
    const fx = await insertPaymentSetup(t.ctx, a.tenantId);
    await insertMethod(t.ctx, a.tenantId, fx.integrationId);
    await insertMethod(t.ctx, a.tenantId, fx.integrationId, { enabled: false });
    const deleted = await insertMethod(t.ctx, a.tenantId, fx.integrationId);
    await t.ctx.db.updateTable("deposit_methods").set({ deleted_at: T0 }).where("id", "=", deleted).execute();
    for (const status of ["pending", "pending", "processing", "succeeded", "failed", "expired"] as const) {
      await insertDeposit(t.ctx, fx, { status });
    }
    // The same tenant's other integration, and another tenant's: none of theirs counts.
    const other = await insertPaymentSetup(t.ctx, a.tenantId);
    await insertDeposit(t.ctx, other, { status: "pending" });
    const foreign = await insertPaymentSetup(t.ctx, b.tenantId);
    await insertDeposit(t.ctx, foreign, { status: "pending" });

    const url = `${BASE}/${fx.integrationId}/impact`;
    for (const s of [a.owner, a.viewer, a.finance]) {
      const res = await s.get(url);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toEqual({ depositMethods: 2, pendingOrders: 3 });
    }
    expect((await a.owner.get(`${BASE}/${other.integrationId}/impact`)).json()).toEqual({
      depositMethods: 1,
      pendingOrders: 1,
    });

    // Tenant isolation: B gets exactly the answer an unknown id gets.
    const fromB = await b.owner.get(url);
    const unknown = await b.owner.get(`${BASE}/00000000-0000-4000-8000-000000000000/impact`);
    expect(fromB.statusCode).toBe(404);
    expect(fromB.json()).toEqual(unknown.json());
    expect((await b.owner.get(`${BASE}/${foreign.integrationId}/impact`)).json()).toEqual({
      depositMethods: 1,
      pendingOrders: 1,
    });
  });

  it("answers zeros for an integration with nothing on it", async () => {
    const i = await create();
    expect((await a.owner.get(`${BASE}/${i.id}/impact`)).json()).toEqual({
      depositMethods: 0,
      pendingOrders: 0,
    });
  });
});

describe("PSP integrations: token rotation", () => {
  afterEach(() => clock.set(T0));

  it("accepts both tokens inside the grace period and only the new one after it", async () => {
    const i = await create();
    const t1 = (await a.owner.post(`${BASE}/${i.id}/reveal`)).json().token;
    // Sessions last 8 h on this clock: stay inside that, and rewind afterwards.
    clock.set(T0 + HOUR);
    const now = clock.now();
    const rot = await a.admin.post(`${BASE}/${i.id}/rotate-token`, { graceHours: 2 });
    expect(rot.statusCode, rot.body).toBe(200);
    expect(rot.json()).toEqual({
      token: expect.any(String),
      tokenRotatedAt: now,
      previousTokenValidUntil: now + 2 * HOUR,
    });
    expect(rot.headers["cache-control"]).toBe("no-store");
    const t2 = (await a.owner.post(`${BASE}/${i.id}/reveal`)).json().token;
    expect(t2).not.toBe(t1);
    // The rotation's answer shows the new token once: the one reveal now gives.
    expect(rot.json().token).toBe(t2);

    const row = () =>
      t.ctx.db.selectFrom("psp_integrations").selectAll().where("id", "=", i.id).executeTakeFirstOrThrow();
    expect(acceptedTokens(await row(), t.ctx.secretBox, clock.now())).toEqual([t2, t1]);
    expect((await a.viewer.get(`${BASE}/${i.id}`)).json()).toMatchObject({
      tokenRotatedAt: now,
      previousTokenValidUntil: now + 2 * HOUR,
    });

    clock.advance(2 * HOUR - 1);
    expect(acceptedTokens(await row(), t.ctx.secretBox, clock.now())).toEqual([t2, t1]);
    clock.advance(1);
    expect(acceptedTokens(await row(), t.ctx.secretBox, clock.now())).toEqual([t2]);
    expect((await a.viewer.get(`${BASE}/${i.id}`)).json().previousTokenValidUntil).toBeNull();

    const [audit] = await auditRows("integration.rotate_token", i.id);
    expect(audit!.actor_id).toBe(a.admin.me.id);
    expect(audit!.after).not.toContain(t1);
    expect(audit!.after).not.toContain(t2);
    expect(JSON.parse(audit!.after!)).toMatchObject({ rotatedAt: now, previousValidUntil: now + 2 * HOUR });
  });

  it("defaults the grace to TOKEN_GRACE_HOURS, allows 0, refuses more than 720 h", async () => {
    const i = await create();
    const def = await a.owner.post(`${BASE}/${i.id}/rotate-token`);
    expect(def.statusCode, def.body).toBe(200);
    expect(def.json().previousTokenValidUntil).toBe(clock.now() + 24 * HOUR);

    const t2 = (await a.owner.post(`${BASE}/${i.id}/reveal`)).json().token;
    const zero = await a.owner.post(`${BASE}/${i.id}/rotate-token`, { graceHours: 0 });
    expect(zero.json().previousTokenValidUntil).toBeNull();
    const row = await t.ctx.db
      .selectFrom("psp_integrations")
      .selectAll()
      .where("id", "=", i.id)
      .executeTakeFirstOrThrow();
    expect(row.prev_token_enc).toBeNull();
    const accepted = acceptedTokens(row, t.ctx.secretBox, clock.now());
    expect(accepted).toHaveLength(1);
    expect(accepted).not.toContain(t2);

    for (const graceHours of [721, -1, "2"]) {
      expect((await a.owner.post(`${BASE}/${i.id}/rotate-token`, { graceHours })).statusCode).toBe(400);
    }
  });

  it("takes the default grace from TOKEN_GRACE_HOURS", async () => {
    const other = await createTestApp({ clock, env: { TOKEN_GRACE_HOURS: "2.5" } });
    try {
      const s = await seedTenant(other);
      const i = (await s.owner.post(BASE, valid())).json();
      const old = (await s.owner.post(`${BASE}/${i.id}/reveal`)).json().token;
      const rot = await s.owner.post(`${BASE}/${i.id}/rotate-token`);
      expect(rot.json().previousTokenValidUntil).toBe(clock.now() + 2.5 * HOUR);
      const row = () =>
        other.ctx.db
          .selectFrom("psp_integrations")
          .selectAll()
          .where("id", "=", i.id)
          .executeTakeFirstOrThrow();
      clock.advance(2.5 * HOUR - 1);
      expect(acceptedTokens(await row(), other.ctx.secretBox, clock.now())).toContain(old);
      clock.advance(1);
      expect(acceptedTokens(await row(), other.ctx.secretBox, clock.now())).not.toContain(old);
    } finally {
      await other.close();
    }
  });
});

describe("PSP integrations: API-1 parameter configuration", () => {
  it("renames and disables optional parameters", async () => {
    const i = await create({
      paramConfig: {
        amount: { key: "amt" },
        device: { enabled: false },
        user_name: { key: "name", enabled: true },
      },
    });
    expect(i.paramConfig.amount).toEqual({ key: "amt", enabled: true });
    expect(i.paramConfig.device).toEqual({ key: "device", enabled: false });
    expect(i.paramConfig.user_name).toEqual({ key: "name", enabled: true });
    // PATCH merges over the current configuration.
    const up = await a.owner.patch(`${BASE}/${i.id}`, { paramConfig: { email: { key: "mail" } } });
    expect(up.statusCode, up.body).toBe(200);
    expect(up.json().paramConfig).toMatchObject({ amount: { key: "amt" }, email: { key: "mail" } });
  });

  const refused: [string, Record<string, unknown>, string][] = [
    ["disabling amount", { paramConfig: { amount: { enabled: false } } }, "paramConfig.amount.enabled"],
    [
      "disabling merchant_id",
      { paramConfig: { merchant_id: { enabled: false } } },
      "paramConfig.merchant_id.enabled",
    ],
    ["renaming to sign", { paramConfig: { amount: { key: "sign" } } }, "paramConfig.amount.key"],
    ["an empty key", { paramConfig: { user_name: { key: "" } } }, "paramConfig.user_name.key"],
    ["a key with a space", { paramConfig: { email: { key: "e mail" } } }, "paramConfig.email.key"],
    ["two standard keys alike", { paramConfig: { email: { key: "phone" } } }, "paramConfig.phone.key"],
    [
      "a disabled parameter's key reused",
      { paramConfig: { device: { enabled: false }, language: { key: "device" } } },
      "paramConfig.device.key",
    ],
    [
      "a custom key colliding with a standard one",
      { customParams: [{ key: "email", label: "Mail", type: "text", required: false }] },
      "customParams.0.key",
    ],
    [
      "a custom key colliding with a renamed standard one",
      {
        paramConfig: { amount: { key: "amt" } },
        customParams: [{ key: "amt", label: "A", type: "text", required: false }],
      },
      "customParams.0.key",
    ],
    [
      "two custom keys alike",
      {
        customParams: [
          { key: "bank", label: "Bank", type: "text", required: false },
          { key: "bank", label: "Bank 2", type: "text", required: false },
        ],
      },
      "customParams.1.key",
    ],
    [
      "an empty custom key",
      { customParams: [{ key: "", label: "Bank", type: "text", required: false }] },
      "customParams.0.key",
    ],
    [
      "a custom key named sign",
      { customParams: [{ key: "sign", label: "Bank", type: "text", required: false }] },
      "customParams.0.key",
    ],
  ];
  it.each(refused)("refuses %s", async (_what, body, path) => {
    const res = await a.owner.post(BASE, valid(body));
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error.code).toBe("validation_failed");
    expect(issuePaths(res)).toContain(path);
  });

  it("refuses an unknown standard parameter name", async () => {
    const res = await a.owner.post(BASE, valid({ paramConfig: { amonut: { key: "x" } } }));
    expect(res.statusCode).toBe(400);
  });

  it("refuses a bad configuration on update and leaves the integration unchanged", async () => {
    const i = await create();
    const res = await a.owner.patch(`${BASE}/${i.id}`, {
      name: "Should not stick",
      paramConfig: { currency: { enabled: false } },
    });
    expect(res.statusCode).toBe(400);
    expect(issuePaths(res)).toEqual(["paramConfig.currency.enabled"]);
    expect((await a.owner.get(`${BASE}/${i.id}`)).json()).toEqual(i);
  });
});

describe("PSP integrations: custom parameters", () => {
  it("defaults keys to custom_<n> and order to position; keeps given keys", async () => {
    const i = await create({
      customParams: [
        { label: "Bank name", type: "text", required: true },
        { key: "custom_5", label: "Account", type: "number", required: false },
        { label: "Bank", type: "select", required: true, options: ["A Bank", " B Bank "] },
        { key: "iban", label: "IBAN", type: "text", required: false, order: 0 },
      ],
    });
    expect(i.customParams).toEqual([
      { key: "custom_6", label: "Bank name", type: "text", required: true, order: 0 },
      { key: "iban", label: "IBAN", type: "text", required: false, order: 0 },
      { key: "custom_5", label: "Account", type: "number", required: false, order: 1 },
      {
        key: "custom_7",
        label: "Bank",
        type: "select",
        required: true,
        options: ["A Bank", "B Bank"],
        order: 2,
      },
    ]);
    // Adding one on update (with the existing keys sent back) takes the next free key.
    const up = await a.owner.patch(`${BASE}/${i.id}`, {
      customParams: [
        ...i.customParams,
        { label: "Phone 2", type: "phone", required: false },
        { label: "Mail", type: "email", required: true },
      ],
    });
    expect(up.statusCode, up.body).toBe(200);
    expect(up.json().customParams.map((p: { key: string }) => p.key)).toEqual(
      expect.arrayContaining(["custom_8", "custom_9"]),
    );
    expect(up.json().customParams).toHaveLength(6);
    // All five types, as stored and as read back.
    const types = (await a.owner.get(`${BASE}/${i.id}`))
      .json()
      .customParams.map((p: { type: string }) => p.type);
    expect([...new Set(types)].sort()).toEqual(["email", "number", "phone", "select", "text"]);
  });

  it.each([
    ["a select without options", { label: "X", type: "select", required: true }, "customParams.0.options"],
    [
      "a select with empty options",
      { label: "X", type: "select", required: true, options: [] },
      "customParams.0.options",
    ],
    [
      "an empty option",
      { label: "X", type: "select", required: true, options: ["a", " "] },
      "customParams.0.options",
    ],
    [
      "duplicate options",
      { label: "X", type: "select", required: true, options: ["a", "a"] },
      "customParams.0.options",
    ],
    [
      "51 options",
      { label: "X", type: "select", required: true, options: Array.from({ length: 51 }, (_, n) => `o${n}`) },
      "customParams.0.options",
    ],
    [
      "options on a text parameter",
      { label: "X", type: "text", required: true, options: ["a"] },
      "customParams.0.options",
    ],
  ])("refuses %s", async (_what, param, path) => {
    const res = await a.owner.post(BASE, valid({ customParams: [param] }));
    expect(res.statusCode).toBe(400);
    expect(issuePaths(res)).toContain(path);
  });

  it("refuses an unknown type and an empty label at the edge", async () => {
    for (const p of [
      { label: "X", type: "date", required: true },
      { label: "", type: "text", required: true },
      { label: "X", type: "text" },
    ]) {
      expect((await a.owner.post(BASE, valid({ customParams: [p] }))).statusCode).toBe(400);
    }
  });
});

describe("PSP integrations: APP_URL policy", () => {
  it.each([
    "http://psp.example.com",
    "https://127.0.0.1/",
    "https://10.1.2.3/",
    "https://192.168.0.10:8443",
    "https://[::1]/",
    "https://169.254.169.254/",
    "http://2130706433/",
    "https://2130706433/",
    "https://user:pw@psp.example.com/",
    "ftp://psp.example.com/",
    "not a url",
  ])("refuses %s on create and update", async (appUrl) => {
    const res = await a.owner.post(BASE, valid({ appUrl }));
    expect(res.statusCode, res.body).toBe(400);
    expect(issuePaths(res)).toEqual(["appUrl"]);
  });

  it("refuses on update too", async () => {
    const i = await create();
    const res = await a.owner.patch(`${BASE}/${i.id}`, { appUrl: "https://127.0.0.1:9000" });
    expect(res.statusCode).toBe(400);
    expect(issuePaths(res)).toEqual(["appUrl"]);
    expect((await a.owner.get(`${BASE}/${i.id}`)).json().appUrl).toBe(i.appUrl);
  });

  it("allows loopback http where the deployment allows private APP_URLs", async () => {
    const dev = await createTestApp({ configOverrides: { allowPrivateAppUrls: true } });
    try {
      const s = await seedTenant(dev);
      const res = await s.owner.post(BASE, valid({ appUrl: "http://127.0.0.1:8080" }));
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json().appUrl).toBe("http://127.0.0.1:8080");
    } finally {
      await dev.close();
    }
  });
});

describe("PSP integrations: API-1 preview", () => {
  it("shows the default body, signed with the sample token", async () => {
    const res = await a.viewer.post(`${BASE}/api1-preview`, {});
    expect(res.statusCode, res.body).toBe(200);
    const p = res.json();
    expect(p.sampleToken).toBe(SAMPLE_TOKEN);
    expect(p.body).toMatchObject({
      merchant_id: "0123456789abcdef0123456789abcdef",
      amount: 100,
      currency: "USD",
      sign: p.sign,
    });
    expect(Object.keys(p.body)).toHaveLength(12);
    expect(p.sign).toMatch(/^[0-9A-F]{40}$/);
    expect(p.stringA.startsWith("amount=100&currency=USD&device=pc&email=")).toBe(true);
    // The body as sent on the wire verifies with the sample token, and only with it.
    const raw = JSON.stringify(p.body);
    expect(raw).toContain('"amount":100,');
    expect(verify(raw, SAMPLE_TOKEN)).toBe(true);
    expect(verify(raw, "another-token")).toBe(false);
  });

  it("follows renamed keys, disabled parameters, custom parameters and a given merchant_id", async () => {
    const merchantId = "f".repeat(32);
    const res = await a.finance.post(`${BASE}/api1-preview`, {
      merchantId,
      paramConfig: { amount: { key: "Amount" }, device: { enabled: false }, email: { enabled: false } },
      customParams: [
        { label: "Bank", type: "text", required: true },
        { key: "acct", label: "Account", type: "text", required: false },
        { key: "bank", label: "Bank", type: "select", options: ["hsbc", "citi"], required: true },
        { key: "ref", label: "Reference", type: "number", required: false },
      ],
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().body.bank).toBe("hsbc");
    expect(res.json().body.ref).toBe("12345");
    const { body, stringA, sign } = res.json();
    expect(body.Amount).toBe(100);
    expect(body).not.toHaveProperty("amount");
    expect(body).not.toHaveProperty("device");
    expect(body).not.toHaveProperty("email");
    expect(body.custom_1).toBe("sample");
    expect(body.acct).toBe("sample");
    expect(body.merchant_id).toBe(merchantId);
    expect(
      stringA.startsWith("Amount=100&acct=sample&bank=hsbc&currency=USD&custom_1=sample&language=en-us&"),
    ).toBe(true);
    expect(verify(JSON.stringify(body), SAMPLE_TOKEN)).toBe(true);
    expect(verify(body, SAMPLE_TOKEN, sign)).toBe(true);
  });

  it("refuses an invalid configuration with field paths", async () => {
    const res = await a.viewer.post(`${BASE}/api1-preview`, { paramConfig: { order_no: { key: "sign" } } });
    expect(res.statusCode).toBe(400);
    expect(issuePaths(res)).toEqual(["paramConfig.order_no.key"]);
  });
});

describe("PSP integrations: the token stays secret", () => {
  it("appears in no response but reveal and rotation, in no log line and in no audit record", async () => {
    const rows = await t.ctx.db.selectFrom("psp_integrations").selectAll().execute();
    const tokens = new Set<string>();
    for (const r of rows) {
      tokens.add(t.ctx.secretBox.open(r.token_enc));
      if (r.prev_token_enc) tokens.add(t.ctx.secretBox.open(r.prev_token_enc));
    }
    const shows = (s: (typeof seen)[number]) =>
      (s.url.endsWith("/reveal") || s.url.endsWith("/rotate-token")) && s.status === 200;
    for (const s of seen) {
      if (shows(s)) tokens.add(JSON.parse(s.body).token);
    }
    expect(tokens.size).toBeGreaterThan(5);
    expect(seen.length).toBeGreaterThan(50);
    const reveals = seen.filter((s) => s.url.endsWith("/reveal") && s.status === 200);
    expect(reveals.length).toBeGreaterThan(3);
    for (const s of seen) {
      if (shows(s)) continue;
      for (const tok of tokens) expect(s.body.includes(tok), `${s.method} ${s.url}`).toBe(false);
    }
    const logs = t.logs.join("\n");
    const audit = JSON.stringify(await t.ctx.db.selectFrom("audit_log").selectAll().execute());
    for (const tok of tokens) {
      expect(logs.includes(tok)).toBe(false);
      expect(audit.includes(tok)).toBe(false);
    }
  });
});
