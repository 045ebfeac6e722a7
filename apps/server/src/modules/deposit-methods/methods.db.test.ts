import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newClientId, newId, newOrderNo } from "../../common/ids.js";
import { PLAIN_DECIMAL_MESSAGE } from "../../common/plain-decimal.js";
import { createTestApp, seedTenant, type TestApp } from "../../test/test-app.js";
import { NO_QUOTE } from "../fx-quotes/locked-quote.js";
import { computeFee, toDepositMethod } from "./method-model.js";

const BASE = "/api/admin/deposit-methods";
const INTEGRATIONS = "/api/admin/integrations";

let t: TestApp;
type Seeded = Awaited<ReturnType<typeof seedTenant>>;
let a: Seeded;
let b: Seeded;
let integA: { id: string; name: string; customParams: { key: string }[] };
let integB: { id: string };

const usd = {
  code: "USD",
  min: "10.00",
  max: "5000.00",
  feePercent: "2.5",
  feeFixed: "0.30",
  feeMax: "5.00",
};

async function createIntegration(s: Seeded, body: Record<string, unknown> = {}) {
  const res = await s.owner.post(INTEGRATIONS, {
    name: "PSP",
    appUrl: "https://psp.example.com",
    ...body,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

async function createMethod(s: Seeded, body: Record<string, unknown> = {}) {
  const res = await s.owner.post(BASE, {
    name: "Cards",
    integrationId: integA.id,
    currencies: [usd],
    ...body,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

const issuePaths = (res: LightMyRequestResponse): string[] =>
  (res.json().error.issues ?? []).map((i: { path: string }) => i.path);

const audits = (action: string, targetId?: string) => {
  let q = t.ctx.db.selectFrom("audit_log").selectAll().where("action", "=", action);
  if (targetId) q = q.where("target_id", "=", targetId);
  return q.execute();
};

/** A fresh tenant with one integration, for tests that look at the whole list. */
async function freshTenant() {
  const s = await seedTenant(t);
  const integ = await createIntegration(s, { name: "Fresh PSP" });
  return { s, integ };
}

beforeAll(async () => {
  t = await createTestApp();
  a = await seedTenant(t);
  b = await seedTenant(t);
  integA = await createIntegration(a, {
    name: "Bank PSP",
    customParams: [
      { label: "Bank", type: "select", required: true, options: ["A Bank", "B Bank"] },
      { label: "Account", type: "text", required: false },
    ],
  });
  integB = await createIntegration(b, { name: "B's PSP" });
});
afterAll(async () => t?.close());

describe("deposit methods: CRUD", () => {
  it("creates with defaults and shows amounts as decimal text", async () => {
    const res = await a.admin.post(BASE, { name: "Cards", integrationId: integA.id, currencies: [usd] });
    expect(res.statusCode, res.body).toBe(201);
    const m = res.json();
    expect(m).toMatchObject({
      name: "Cards",
      integrationId: integA.id,
      integrationName: "Bank PSP",
      enabled: true,
      visibility: "all",
      clientGroups: [],
      fieldLabels: {},
      orderTtlSeconds: 1800,
      currencies: [
        {
          code: "USD",
          decimals: 2,
          min: "10.00",
          max: "5000.00",
          feePercent: "2.50",
          feeFixed: "0.30",
          feeMax: "5.00",
          conversion: null,
        },
      ],
    });
    expect(m.fields.map((f: { key: string; label: string }) => [f.key, f.label])).toEqual([
      ["custom_1", "Bank"],
      ["custom_2", "Account"],
    ]);
    expect(m.fields[0]).toMatchObject({ type: "select", required: true, options: ["A Bank", "B Bank"] });
    const [audit] = await audits("deposit_method.create", m.id);
    expect(JSON.parse(audit!.after!)).toMatchObject({
      name: "Cards",
      currencies: [{ code: "USD", min: "10.00" }],
    });
  });

  it("stores minor units and basis points; the fee follows them", async () => {
    const m = await createMethod(a);
    const row = await t.ctx.db
      .selectFrom("deposit_methods")
      .selectAll()
      .where("id", "=", m.id)
      .executeTakeFirstOrThrow();
    const [c] = toDepositMethod(row).currencies;
    expect(c).toEqual({
      code: "USD",
      decimals: 2,
      minMinor: 1_000n,
      maxMinor: 500_000n,
      feePercentBps: 250,
      feeFixedMinor: 30n,
      feeMaxMinor: 500n,
    });
    expect(computeFee(10_000n, c!)).toBe(280n); // 100.00 → 2.80
    expect(computeFee(1_000n, c!)).toBe(55n); // 10.00 → 0.55
    expect(computeFee(500_000n, c!)).toBe(500n); // 5000.00 → capped at 5.00
  });

  it("lists in order, gets, updates, enables and disables with audit records", async () => {
    const { s, integ } = await freshTenant();
    const mk = async (name: string) => {
      const res = await s.owner.post(BASE, { name, integrationId: integ.id, currencies: [usd] });
      expect(res.statusCode, res.body).toBe(201);
      return res.json();
    };
    const m1 = await mk("First");
    const m2 = await mk("Second");
    expect([m1.sortOrder, m2.sortOrder]).toEqual([0, 1]);

    const list = await s.viewer.get(BASE);
    expect(list.statusCode).toBe(200);
    expect(list.json().items.map((x: { name: string }) => x.name)).toEqual(["First", "Second"]);
    expect(list.json().items[0].integrationName).toBe("Fresh PSP");
    expect((await s.finance.get(`${BASE}/${m1.id}`)).json()).toEqual(m1);

    const up = await s.admin.patch(`${BASE}/${m1.id}`, {
      name: "First, renamed",
      visibility: "groups",
      clientGroups: ["vip", "vip", "gold"],
      orderTtlSeconds: 3600,
      currencies: [usd, { code: "USDT", decimals: 6, min: "5", max: "10000", feePercent: "1" }],
    });
    expect(up.statusCode, up.body).toBe(200);
    expect(up.json()).toMatchObject({
      name: "First, renamed",
      visibility: "groups",
      clientGroups: ["vip", "gold"],
      orderTtlSeconds: 3600,
    });
    expect(up.json().currencies[1]).toEqual({
      code: "USDT",
      decimals: 6,
      min: "5.000000",
      max: "10000.000000",
      feePercent: "1.00",
      feeFixed: "0.000000",
      feeMax: null,
      conversion: null,
    });
    const [upd] = await audits("deposit_method.update", m1.id);
    expect(JSON.parse(upd!.before!).name).toBe("First");
    expect(JSON.parse(upd!.after!).name).toBe("First, renamed");

    const dis = await s.admin.post(`${BASE}/${m1.id}/disable`);
    expect(dis.statusCode).toBe(200);
    expect(dis.json().enabled).toBe(false);
    expect((await s.owner.post(`${BASE}/${m1.id}/enable`)).json().enabled).toBe(true);
    expect(await audits("deposit_method.disable", m1.id)).toHaveLength(1);
    expect(await audits("deposit_method.enable", m1.id)).toHaveLength(1);
  });

  it("refuses writes to viewer and finance", async () => {
    const m = await createMethod(a);
    for (const role of ["viewer", "finance"] as const) {
      const s = a[role];
      expect((await s.get(BASE)).statusCode).toBe(200);
      expect(
        (await s.post(BASE, { name: "X", integrationId: integA.id, currencies: [usd] })).statusCode,
      ).toBe(403);
      expect((await s.patch(`${BASE}/${m.id}`, { name: "X" })).statusCode).toBe(403);
      expect((await s.post(`${BASE}/${m.id}/disable`)).statusCode).toBe(403);
      expect((await s.delete(`${BASE}/${m.id}`)).statusCode).toBe(403);
      expect((await s.post(`${BASE}/reorder`, { ids: [m.id] })).statusCode).toBe(403);
    }
  });

  it("validates name, visibility groups, TTL and field counts", async () => {
    const bad: [Record<string, unknown>, string | null][] = [
      [{ name: "" }, null],
      [{ currencies: [] }, null],
      [
        {
          currencies: Array.from({ length: 21 }, (_, i) => ({
            ...usd,
            code: `C${String(i).padStart(2, "0")}X`,
          })),
        },
        null,
      ],
      [{ visibility: "groups" }, "clientGroups"],
      [{ visibility: "groups", clientGroups: [] }, "clientGroups"],
      [{ orderTtlSeconds: 59 }, null],
      [{ orderTtlSeconds: 7 * 86400 + 1 }, null],
      [{ currencies: [{ ...usd, code: "usd" }] }, null],
      [{ currencies: [{ ...usd, min: 10 }] }, null],
    ];
    for (const [body, path] of bad) {
      const res = await a.owner.post(BASE, {
        name: "X",
        integrationId: integA.id,
        currencies: [usd],
        ...body,
      });
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      if (path) expect(issuePaths(res)).toContain(path);
    }
    const ok = await a.owner.post(BASE, {
      name: "Week",
      integrationId: integA.id,
      currencies: [usd],
      orderTtlSeconds: 7 * 86400,
    });
    expect(ok.statusCode).toBe(201);
  });
});

describe("deposit methods: currencies", () => {
  const refuse = async (
    currency: Record<string, unknown>,
    path: string,
    extra: Record<string, unknown>[] = [],
  ) => {
    const res = await a.owner.post(BASE, {
      name: "X",
      integrationId: integA.id,
      currencies: [...extra, currency],
    });
    expect(res.statusCode, res.body).toBe(400);
    // Text that is not plain decimal is refused by the route's schema (paths under `body.`).
    expect(issuePaths(res).map((p) => p.replace(/^body\./, ""))).toContain(path);
  };

  it("requires decimals for USDT and accepts it with them", async () => {
    await refuse({ code: "USDT", min: "10", max: "100", feePercent: "0" }, "currencies.0.decimals");
    const m = await createMethod(a, {
      currencies: [
        { code: "USDT", decimals: 6, min: "10.123456", max: "100", feePercent: "0", feeFixed: "1" },
      ],
    });
    expect(m.currencies[0]).toMatchObject({
      code: "USDT",
      decimals: 6,
      min: "10.123456",
      feeFixed: "1.000000",
    });
  });

  it("refuses JPY 1.5 and takes JPY's 0 decimals", async () => {
    await refuse({ code: "JPY", min: "1.5", max: "100000", feePercent: "0" }, "currencies.0.min");
    await refuse(
      { code: "JPY", decimals: 2, min: "100", max: "100000", feePercent: "0" },
      "currencies.0.decimals",
    );
    const m = await createMethod(a, {
      currencies: [
        { code: "JPY", min: "100", max: "1000000", feePercent: "3", feeFixed: "30", feeMax: "500" },
      ],
    });
    expect(m.currencies[0]).toEqual({
      code: "JPY",
      decimals: 0,
      min: "100",
      max: "1000000",
      feePercent: "3.00",
      feeFixed: "30",
      feeMax: "500",
      conversion: null,
    });
  });

  it("refuses min > max, min ≤ 0, excess decimals, bad fees and duplicate codes", async () => {
    await refuse({ ...usd, min: "100.00", max: "99.99" }, "currencies.0.max");
    await refuse({ ...usd, min: "0" }, "currencies.0.min");
    await refuse({ ...usd, min: "-5" }, "currencies.0.min");
    await refuse({ ...usd, max: "5000.001" }, "currencies.0.max");
    await refuse({ ...usd, feePercent: "100.5" }, "currencies.0.feePercent");
    await refuse({ ...usd, feePercent: "2.555" }, "currencies.0.feePercent");
    await refuse({ ...usd, feeFixed: "0.305" }, "currencies.0.feeFixed");
    await refuse({ ...usd, feeMax: "five" }, "currencies.0.feeMax");
    await refuse({ ...usd, min: "10", max: "12.345" }, "currencies.0.max");
  });

  it("takes amounts and fees as plain decimal text only, and says so", async () => {
    for (const text of ["1.0e1", "1,000.00", "+10", " 10", "10.", ".5"]) {
      const res = await a.owner.post(BASE, {
        name: "X",
        integrationId: integA.id,
        currencies: [{ ...usd, min: text }],
      });
      expect(res.statusCode, text).toBe(400);
      expect(res.json().error.issues).toContainEqual({
        path: expect.stringMatching(/(^|\.)currencies\.0\.min$/),
        message: PLAIN_DECIMAL_MESSAGE,
      });
    }
    await refuse(usd, "currencies.1.code", [usd]);
  });
});

describe("deposit methods: deposit fields", () => {
  it("relabels fields per method without changing keys; unknown keys and bad labels are refused", async () => {
    const m = await createMethod(a, { fieldLabels: { custom_2: "  IBAN  " } });
    expect(m.fieldLabels).toEqual({ custom_2: "IBAN" });
    expect(
      m.fields.map((f: { key: string; label: string; defaultLabel: string }) => [
        f.key,
        f.label,
        f.defaultLabel,
      ]),
    ).toEqual([
      ["custom_1", "Bank", "Bank"],
      ["custom_2", "IBAN", "Account"],
    ]);
    for (const [fieldLabels, path] of [
      [{ custom_9: "Nope" }, "fieldLabels.custom_9"],
      [{ email: "Mail" }, "fieldLabels.email"],
      [{ custom_1: "" }, "fieldLabels.custom_1"],
      [{ custom_1: "   " }, "fieldLabels.custom_1"],
      [{ custom_1: "x".repeat(81) }, "fieldLabels.custom_1"],
    ] as const) {
      const res = await a.owner.patch(`${BASE}/${m.id}`, { fieldLabels });
      expect(res.statusCode, JSON.stringify(fieldLabels)).toBe(400);
      expect(issuePaths(res)).toEqual([path]);
    }
    const relabel = await a.owner.patch(`${BASE}/${m.id}`, { fieldLabels: { custom_1: "Your bank" } });
    expect(relabel.json().fields.map((f: { key: string; label: string }) => [f.key, f.label])).toEqual([
      ["custom_1", "Your bank"],
      ["custom_2", "Account"],
    ]);
  });

  it("shows a custom parameter added to the integration after the method was created", async () => {
    const { s, integ } = await freshTenant();
    const created = await s.owner.post(BASE, { name: "M", integrationId: integ.id, currencies: [usd] });
    const m = created.json();
    expect(m.fields).toEqual([]);
    const up = await s.owner.patch(`${INTEGRATIONS}/${integ.id}`, {
      customParams: [{ label: "Wallet address", type: "text", required: true }],
    });
    expect(up.statusCode, up.body).toBe(200);
    const got = (await s.viewer.get(`${BASE}/${m.id}`)).json();
    expect(got.fields).toEqual([
      {
        key: "custom_1",
        label: "Wallet address",
        defaultLabel: "Wallet address",
        type: "text",
        required: true,
        order: 0,
      },
    ]);
    const listed = (await s.viewer.get(BASE)).json().items.find((x: { id: string }) => x.id === m.id);
    expect(listed.fields).toHaveLength(1);
    // Now it can be relabelled for this method.
    const rel = await s.owner.patch(`${BASE}/${m.id}`, { fieldLabels: { custom_1: "USDT address" } });
    expect(rel.json().fields[0]).toMatchObject({ key: "custom_1", label: "USDT address" });
  });

  it("moving to another integration keeps only the labels it knows", async () => {
    const m = await createMethod(a, { fieldLabels: { custom_1: "Your bank", custom_2: "IBAN" } });
    const other = await createIntegration(a, {
      name: "Other",
      customParams: [{ label: "Bank", type: "text", required: true }],
    });
    const res = await a.owner.patch(`${BASE}/${m.id}`, { integrationId: other.id });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      integrationId: other.id,
      integrationName: "Other",
      fieldLabels: { custom_1: "Your bank" },
    });
  });
});

describe("deposit methods: order and deletion", () => {
  it("reorders with a permutation and refuses anything else", async () => {
    const { s, integ } = await freshTenant();
    const ids: string[] = [];
    for (const name of ["A", "B", "C"]) {
      const res = await s.owner.post(BASE, { name, integrationId: integ.id, currencies: [usd] });
      ids.push(res.json().id);
    }
    const [x, y, z] = ids as [string, string, string];
    const res = await s.admin.post(`${BASE}/reorder`, { ids: [z, x, y] });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().items.map((m: { name: string; sortOrder: number }) => [m.name, m.sortOrder])).toEqual([
      ["C", 0],
      ["A", 1],
      ["B", 2],
    ]);
    expect((await s.viewer.get(BASE)).json().items.map((m: { name: string }) => m.name)).toEqual([
      "C",
      "A",
      "B",
    ]);
    const [audit] = await audits("deposit_method.reorder");
    expect(audit).toBeDefined();

    for (const bad of [[z, x], [z, x, y, y], [z, x, x], [z, x, y, "nope"], [z, x, "nope"], []]) {
      const r = await s.owner.post(`${BASE}/reorder`, { ids: bad });
      expect(r.statusCode, JSON.stringify(bad)).toBe(400);
      expect(issuePaths(r)).toEqual(["ids"]);
    }
    // Another tenant's method id is not part of this tenant's permutation.
    const foreign = await createMethod(a);
    expect((await s.owner.post(`${BASE}/reorder`, { ids: [z, x, foreign.id] })).statusCode).toBe(400);
    // A new method goes to the end.
    const d = await s.owner.post(BASE, { name: "D", integrationId: integ.id, currencies: [usd] });
    expect(d.json().sortOrder).toBe(3);
  });

  it("soft-deletes; deleted methods vanish from every route but keep their row", async () => {
    const { s, integ } = await freshTenant();
    const m = (await s.owner.post(BASE, { name: "Gone", integrationId: integ.id, currencies: [usd] })).json();
    const keep = (
      await s.owner.post(BASE, { name: "Kept", integrationId: integ.id, currencies: [usd] })
    ).json();
    const del = await s.admin.delete(`${BASE}/${m.id}`);
    expect(del.statusCode, del.body).toBe(204);
    expect(del.body).toBe("");
    expect((await s.owner.get(`${BASE}/${m.id}`)).statusCode).toBe(404);
    expect((await s.owner.patch(`${BASE}/${m.id}`, { name: "Back" })).statusCode).toBe(404);
    expect((await s.owner.post(`${BASE}/${m.id}/enable`)).statusCode).toBe(404);
    expect((await s.owner.delete(`${BASE}/${m.id}`)).statusCode).toBe(404);
    expect((await s.owner.get(BASE)).json().items.map((x: { id: string }) => x.id)).toEqual([keep.id]);
    // The deleted method is not part of the order any more.
    expect((await s.owner.post(`${BASE}/reorder`, { ids: [keep.id] })).statusCode).toBe(200);
    const row = await t.ctx.db
      .selectFrom("deposit_methods")
      .selectAll()
      .where("id", "=", m.id)
      .executeTakeFirstOrThrow();
    expect(row.deleted_at).not.toBeNull();
    const [audit] = await audits("deposit_method.delete", m.id);
    expect(JSON.parse(audit!.before!).name).toBe("Gone");
  });

  it("refuses to delete a method with pending or processing deposits (method_in_use)", async () => {
    const m = await createMethod(a, { name: "Busy" });
    const now = Date.now();
    const clientId = newClientId();
    await t.ctx.db
      .insertInto("clients")
      .values({
        id: clientId,
        tenant_id: a.tenantId,
        name: "Client",
        email: `${clientId}@example.com`,
        phone: null,
        nationality: null,
        language: null,
        client_group: null,
        password_hash: null,
        disabled: 0,
        created_at: now,
      })
      .execute();
    const deposit = (status: "pending" | "processing" | "succeeded" | "failed") => ({
      id: newId(),
      tenant_id: a.tenantId,
      order_no: newOrderNo(),
      client_id: clientId,
      method_id: m.id,
      integration_id: integA.id,
      currency: "USD",
      decimals: 2,
      amount_minor: 10_000,
      fee_minor: 280,
      credit_minor: 9_720,
      fee_rule_bps: 250,
      fee_rule_fixed_minor: 30,
      fee_rule_max_minor: 2_000,
      paid_amount_minor: null,
      status,
      fields: "{}",
      device: null,
      language: null,
      idempotency_key: null,
      request_hash: null,
      payment_url: null,
      failure_reason: null,
      failure_message: null,
      transaction_id: null,
      psp_time: null,
      created_by: null,
      expires_at: now + 1_800_000,
      created_at: now,
      updated_at: now,
      finalized_at: null,
      status_query_due_at: null,
      status_query_step: 0,
      ...NO_QUOTE,
    });
    const pending = deposit("pending");
    const processing = deposit("processing");
    await t.ctx.db
      .insertInto("deposits")
      .values([deposit("succeeded"), deposit("failed"), pending, processing])
      .execute();

    const res = await a.owner.delete(`${BASE}/${m.id}`);
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe("method_in_use");
    await t.ctx.db
      .updateTable("deposits")
      .set({ status: "succeeded" })
      .where("id", "=", pending.id)
      .execute();
    expect((await a.owner.delete(`${BASE}/${m.id}`)).json().error.code).toBe("method_in_use");
    await t.ctx.db
      .updateTable("deposits")
      .set({ status: "failed" })
      .where("id", "=", processing.id)
      .execute();
    expect((await a.owner.delete(`${BASE}/${m.id}`)).statusCode).toBe(204);
  });
});

describe("deposit methods: tenant isolation", () => {
  it("answers 404 to another tenant on every route", async () => {
    const m = await createMethod(a);
    const o = b.owner;
    expect((await o.get(`${BASE}/${m.id}`)).statusCode).toBe(404);
    expect((await o.patch(`${BASE}/${m.id}`, { name: "Stolen" })).statusCode).toBe(404);
    expect((await o.post(`${BASE}/${m.id}/enable`)).statusCode).toBe(404);
    expect((await o.post(`${BASE}/${m.id}/disable`)).statusCode).toBe(404);
    expect((await o.delete(`${BASE}/${m.id}`)).statusCode).toBe(404);
    expect((await o.get(BASE)).json().items.map((x: { id: string }) => x.id)).not.toContain(m.id);
    expect((await a.owner.get(`${BASE}/${m.id}`)).json()).toEqual(m);
    const rows = await t.ctx.db.selectFrom("audit_log").selectAll().where("target_id", "=", m.id).execute();
    expect(rows.map((r) => r.action)).toEqual(["deposit_method.create"]);
  });

  it("cannot point a method at another tenant's integration", async () => {
    const res = await b.owner.post(BASE, { name: "X", integrationId: integA.id, currencies: [usd] });
    expect(res.statusCode).toBe(400);
    expect(issuePaths(res)).toEqual(["integrationId"]);
    const own = await b.owner.post(BASE, { name: "Mine", integrationId: integB.id, currencies: [usd] });
    expect(own.statusCode).toBe(201);
    const move = await b.owner.patch(`${BASE}/${own.json().id}`, { integrationId: integA.id });
    expect(move.statusCode).toBe(400);
    expect(issuePaths(move)).toEqual(["integrationId"]);
    expect(
      (await b.owner.post(BASE, { name: "X", integrationId: "nope", currencies: [usd] })).statusCode,
    ).toBe(400);
  });
});
