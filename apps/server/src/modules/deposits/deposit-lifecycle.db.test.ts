import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppContext, createAppContext } from "../../app-context.js";
import { type Api1Stub, startApi1Stub, successAnswer } from "../../test/api1-stub.js";
import {
  depositRow,
  insertDeposit,
  sendSignedCallback,
  type TestDeposit,
} from "../../test/callback-client.js";
import {
  insertClient,
  insertIntegration,
  insertMethod,
  insertPaymentSetup,
  type PaymentFixture,
  USD,
} from "../../test/payment-fixtures.js";
import { paymentInvariantsAfterEach } from "../../test/payment-invariants.js";
import { createTestApp, loginClient, type Session, seedTenant, type TestApp } from "../../test/test-app.js";
import { testDbKind } from "../../test/test-database.js";
import { expireDeposits } from "./expire-deposits.js";

// Issue 4 items that the other deposit tests left loose: the method's own TTL, language and
// device from the request, the token never stored even when a tenant backend echoes it, the
// back office validating exactly like the portal, idempotency keys scoped per client, every list
// filter against a second integration and method, the whole detail timeline of a real deposit,
// and the expiry sweep run by two server processes (separate pools) at once.

let t: TestApp;
let tenant: Awaited<ReturnType<typeof seedTenant>>;
let stub: Api1Stub;
let fx: PaymentFixture;
let portal: Session;

beforeAll(async () => {
  t = await createTestApp({ configOverrides: { allowPrivateAppUrls: true } });
  tenant = await seedTenant(t);
  stub = await startApi1Stub();
  fx = await insertPaymentSetup(t.ctx, tenant.tenantId, {
    appUrl: stub.url,
    ttlSeconds: 600,
    customParams: [
      { key: "custom_1", label: "Bank", type: "select", required: true, options: ["abc", "xyz"], order: 1 },
    ],
  });
  stub.token = fx.token;
  portal = await loginClient(t.app, tenant.slug, fx.clientEmail, fx.clientPassword);
});
afterAll(async () => {
  await stub?.close();
  await t?.close();
});
paymentInvariantsAfterEach(() => t?.ctx);

const body = (over: Record<string, unknown> = {}) => ({
  methodId: fx.methodId,
  currency: "USD",
  amount: "100.00",
  fields: { custom_1: "abc" },
  ...over,
});
const createPortal = (over: Record<string, unknown> = {}, key?: string, s: Session = portal) =>
  s.inject({
    method: "POST",
    url: "/api/portal/deposits",
    payload: body(over),
    headers: key ? { "idempotency-key": key } : {},
  });
const row = (orderNo: string) =>
  t.ctx.db.selectFrom("deposits").selectAll().where("order_no", "=", orderNo).executeTakeFirstOrThrow();
const asTestDeposit = async (orderNo: string): Promise<TestDeposit> => {
  const r = await row(orderNo);
  return {
    id: r.id,
    orderNo,
    tenantId: r.tenant_id,
    clientId: r.client_id,
    currency: r.currency,
    decimals: r.decimals,
    amountMinor: BigInt(r.amount_minor),
    feeMinor: BigInt(r.fee_minor),
    creditMinor: BigInt(r.credit_minor),
  };
};

describe("creating a deposit", () => {
  it("gives the order its method's TTL (600 s here, not a default)", async () => {
    const res = await createPortal();
    expect(res.statusCode, res.body).toBe(201);
    const r = await row(res.json().orderNo);
    expect(r.expires_at - r.created_at).toBe(600_000);
  });

  it("sends language and device from the request, over the client's own language", async () => {
    const res = await createPortal({ language: "DE-at", device: "pc" });
    expect(res.statusCode, res.body).toBe(201);
    expect(stub.requests.at(-1)?.json).toMatchObject({ language: "de-at", device: "pc" });
    expect(await row(res.json().orderNo)).toMatchObject({ language: "de-at", device: "pc" });
    // Without them: the client's stored language, and no device at all.
    await createPortal();
    expect(stub.requests.at(-1)?.json).toMatchObject({ language: "en-us" });
    expect(stub.requests.at(-1)?.json).not.toHaveProperty("device");
  });

  it("never stores the token when the tenant backend echoes it back (success and failure)", async () => {
    // The token sits across the 4 KiB cut of the stored response, and in the tenant's msg.
    const padding = "x".repeat(4096 - 10 - '{"padding":"","echo":"'.length);
    const echo = (status: number, result: boolean) => () => ({
      status,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        padding,
        echo: fx.token,
        result,
        msg: result ? "" : `rejected token ${fx.token}`,
        data: result ? { url: "https://pay.example.com/p/1" } : null,
      }),
    });
    try {
      stub.respond = echo(200, true);
      const ok = await createPortal();
      expect(ok.statusCode, ok.body).toBe(201);
      stub.respond = echo(200, false);
      const ko = await createPortal();
      expect(ko.statusCode, ko.body).toBe(502);
      expect(ko.body).not.toContain(fx.token);
      expect(ko.json().error.message).toBe("rejected token [redacted]");
      stub.respond = echo(500, false);
      expect((await createPortal()).statusCode).toBe(502);
    } finally {
      stub.respond = successAnswer;
    }
    const stored = JSON.stringify([
      await t.ctx.db.selectFrom("deposit_events").selectAll().execute(),
      await t.ctx.db.selectFrom("deposits").selectAll().execute(),
    ]);
    expect(stored).toContain("[redacted]");
    expect(stored).not.toContain(fx.token);
    expect(stored).not.toContain(fx.token.slice(0, 10));
    expect(t.logs.join("\n")).not.toContain(fx.token);
  });
});

describe("the back office creates deposits under the portal's rules", () => {
  const staffCreate = (over: Record<string, unknown>) =>
    tenant.finance.post("/api/admin/deposits", { clientId: fx.clientId, ...body(over) });
  const issues = async (over: Record<string, unknown>) => {
    const res = await staffCreate(over);
    expect(res.statusCode, res.body).toBe(400);
    return (res.json().error.issues as { path: string }[]).map((i) => i.path);
  };

  it("refuses what the portal refuses, with the same field paths, without calling API-1", async () => {
    const calls = stub.requests.length;
    expect(await issues({ amount: "9.99" })).toEqual(["amount"]);
    expect(await issues({ amount: "5000.01" })).toEqual(["amount"]);
    expect(await issues({ amount: "10.001" })).toEqual(["amount"]);
    expect(await issues({ currency: "EUR" })).toEqual(["currency"]);
    expect(await issues({ fields: {} })).toEqual(["fields.custom_1"]);
    expect(await issues({ fields: { custom_1: "nope" } })).toEqual(["fields.custom_1"]);
    expect(await issues({ fields: { custom_1: "abc", other: "1" } })).toEqual(["fields.other"]);
    expect(stub.requests.length).toBe(calls);
  });

  it("computes the fee and uses the method the CLIENT may see: hidden from its group → 404, disabled → 400", async () => {
    const ok = await staffCreate({ amount: "200.00" });
    expect(ok.statusCode, ok.body).toBe(201);
    // 2.5 % of 200.00 + 0.30 = 5.30
    expect(await row(ok.json().orderNo)).toMatchObject({
      fee_minor: 530,
      credit_minor: 19_470,
      created_by: tenant.finance.me.id,
    });

    const vipOnly = await insertMethod(t.ctx, tenant.tenantId, fx.integrationId);
    await t.ctx.db
      .updateTable("deposit_methods")
      .set({ visibility: "groups", client_groups: '["vip"]' })
      .where("id", "=", vipOnly)
      .execute();
    expect((await staffCreate({ methodId: vipOnly, fields: { custom_1: "abc" } })).statusCode).toBe(404);

    const off = await insertMethod(t.ctx, tenant.tenantId, fx.integrationId, { enabled: false });
    const res = await staffCreate({ methodId: off });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.issues.map((i: { path: string }) => i.path)).toEqual(["methodId"]);
  });
});

describe("idempotency keys are scoped per (tenant, client)", () => {
  it("the same key from another client is another order; from the same client with other content, 409", async () => {
    const other = await insertClient(t.ctx, tenant.tenantId);
    const otherPortal = await loginClient(t.app, tenant.slug, other.clientEmail, other.clientPassword);
    const a = await createPortal({ amount: "33" }, "shared-key");
    const b = await createPortal({ amount: "33" }, "shared-key", otherPortal);
    expect([a.statusCode, b.statusCode]).toEqual([201, 201]);
    expect(a.json().orderNo).not.toBe(b.json().orderNo);
    const again = await createPortal({ amount: "33" }, "shared-key", otherPortal);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ orderNo: b.json().orderNo, replayed: true });
    const changed = await createPortal({ amount: "34" }, "shared-key", otherPortal);
    expect(changed.statusCode).toBe(409);
    expect(changed.json().error).toMatchObject({ code: "idempotency_key_reused" });
  });
});

describe("back-office list and detail", () => {
  it("filters by method and by integration against a second one of each", async () => {
    const second = await insertIntegration(t.ctx, tenant.tenantId, { appUrl: stub.url });
    const secondMethod = await insertMethod(t.ctx, tenant.tenantId, second.integrationId, {
      currencies: [USD],
    });
    const sameIntegrationMethod = await insertMethod(t.ctx, tenant.tenantId, fx.integrationId);
    const ins = (methodId: string, integrationId: string) =>
      insertDeposit(t.ctx, { ...fx, methodId, integrationId });
    const onSecond = await ins(secondMethod, second.integrationId);
    const onSibling = await ins(sameIntegrationMethod, fx.integrationId);
    const list = async (q: string) =>
      ((await tenant.viewer.get(`/api/admin/deposits?limit=100&${q}`)).json().items as { id: string }[]).map(
        (d) => d.id,
      );
    expect(await list(`integrationId=${second.integrationId}`)).toEqual([onSecond.id]);
    expect(await list(`methodId=${secondMethod}`)).toEqual([onSecond.id]);
    expect(await list(`methodId=${sameIntegrationMethod}`)).toEqual([onSibling.id]);
    const first = await list(`integrationId=${fx.integrationId}`);
    expect(first).toContain(onSibling.id);
    expect(first).not.toContain(onSecond.id);
    expect(await list(`integrationId=${fx.integrationId}&methodId=${secondMethod}`)).toEqual([]);
    // By currency: the dashboard's per-currency figures open the list filtered so.
    const inEur = await insertDeposit(t.ctx, fx, { currency: "EUR" });
    expect(await list("currency=EUR")).toEqual([inEur.id]);
    expect(await list("currency=USD")).toEqual(expect.arrayContaining([onSecond.id, onSibling.id]));
    expect(await list("currency=USD")).not.toContain(inEur.id);
    expect(await list("currency=GBP")).toEqual([]);
  });

  it("shows the whole timeline of a real deposit: created, API-1, each callback with its verdict, status changes, the credit", async () => {
    const created = await createPortal({ amount: "50.00" });
    const dep = await asTestDeposit(created.json().orderNo);
    expect((await sendSignedCallback(t.app, fx, dep, { status: 2 })).statusCode).toBe(204);
    expect((await sendSignedCallback(t.app, fx, dep, { status: 1 })).statusCode).toBe(204);
    expect((await sendSignedCallback(t.app, fx, dep, { status: 1 })).statusCode).toBe(204);
    expect((await sendSignedCallback(t.app, fx, dep, { status: 0 })).statusCode).toBe(400);

    const res = await tenant.viewer.get(`/api/admin/deposits/${dep.id}`);
    expect(res.statusCode, res.body).toBe(200);
    const d = res.json();
    const summary = (d.timeline as { kind: string; data: Record<string, unknown> }[]).map((e) =>
      e.kind === "callback"
        ? `callback:${e.data.status}:${e.data.verdict}`
        : e.kind === "status_change"
          ? `status:${e.data.from}>${e.data.to}`
          : e.kind,
    );
    // Each callback stands before the status change and credit it caused.
    expect(summary).toEqual([
      "created",
      "api1_call",
      "callback:2:accepted",
      "status:pending>processing",
      "callback:1:accepted",
      "status:processing>succeeded",
      "ledger",
      "callback:1:duplicate",
      "callback:0:review",
      "review",
    ]);
    expect(d).toMatchObject({
      status: "succeeded",
      amount: "50.00",
      credit: "48.45",
      ledgerEntry: { amount: "48.45", kind: "deposit" },
      transactionId: `tx-${dep.orderNo}`,
      paidAmount: "50.00",
    });
    expect((d.callbacks as { verdict: string }[]).map((c) => c.verdict).sort()).toEqual([
      "accepted",
      "accepted",
      "duplicate",
      "review",
    ]);
  });
});

describe("the expiry sweep with two server processes", () => {
  it.skipIf(testDbKind() !== "postgres")(
    "expires each overdue order exactly once when two processes sweep at once (separate pools; PostgreSQL only)",
    async () => {
      const ctx2: AppContext = createAppContext(t.ctx.config, { logger: t.ctx.logger });
      try {
        const overdue = [];
        for (let i = 0; i < 90; i++) {
          overdue.push(await insertDeposit(t.ctx, fx, { expires_at: Date.now() - 1_000 - i }));
        }
        const notYet = await insertDeposit(t.ctx, fx, { expires_at: Date.now() + 60_000 });
        const sweeps = [t.ctx, ctx2, t.ctx, ctx2, t.ctx, ctx2].map((c) =>
          expireDeposits(c, { batchSize: 7 }),
        );
        const results = await Promise.all(sweeps);
        expect(results.reduce((n, r) => n + r.expired, 0)).toBe(90);
        const events = await t.ctx.db
          .selectFrom("deposit_events")
          .select(["deposit_id", "data"])
          .where("kind", "=", "status_change")
          .where(
            "deposit_id",
            "in",
            overdue.map((d) => d.id),
          )
          .execute();
        expect(events).toHaveLength(90);
        expect(new Set(events.map((e) => e.deposit_id)).size).toBe(90);
        for (const d of overdue) expect((await depositRow(t.ctx, d.id)).status).toBe("expired");
        expect((await depositRow(t.ctx, notYet.id)).status).toBe("pending");
      } finally {
        await ctx2.close();
      }
    },
  );
});
