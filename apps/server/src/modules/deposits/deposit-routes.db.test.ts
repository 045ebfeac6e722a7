import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api1Stub, startApi1Stub } from "../../test/api1-stub.js";
import { postLedgerEntry } from "../../test/ledger-postings.js";
import {
  insertClient,
  insertMethod,
  insertPaymentSetup,
  type PaymentFixture,
} from "../../test/payment-fixtures.js";
import { paymentInvariantsAfterEach } from "../../test/payment-invariants.js";
import { createTestApp, loginClient, type Session, seedTenant, type TestApp } from "../../test/test-app.js";

/** The deposit routes: portal and back office, tenant isolation, cancel, the live status stream. */

let t: TestApp;
let a: Awaited<ReturnType<typeof seedTenant>>;
let b: Awaited<ReturnType<typeof seedTenant>>;
let stub: Api1Stub;
let fa: PaymentFixture;
let fb: PaymentFixture;
let portalA: Session;
let portalA2: Session;
let portalB: Session;
let clientA2: { clientId: string };

beforeAll(async () => {
  t = await createTestApp({ configOverrides: { allowPrivateAppUrls: true } });
  a = await seedTenant(t);
  b = await seedTenant(t);
  stub = await startApi1Stub();
  fa = await insertPaymentSetup(t.ctx, a.tenantId, {
    appUrl: stub.url,
    customParams: [
      { key: "custom_2", label: "Reference", type: "text", required: false, order: 2 },
      { key: "custom_1", label: "Bank", type: "select", required: true, options: ["abc", "xyz"], order: 1 },
    ],
  });
  fb = await insertPaymentSetup(t.ctx, b.tenantId, { appUrl: stub.url });
  portalA = await loginClient(t.app, a.slug, fa.clientEmail, fa.clientPassword);
  portalB = await loginClient(t.app, b.slug, fb.clientEmail, fb.clientPassword);
  const c2 = await insertClient(t.ctx, a.tenantId);
  clientA2 = c2;
  portalA2 = await loginClient(t.app, a.slug, c2.clientEmail, c2.clientPassword);
});
afterAll(async () => {
  await stub?.close();
  await t?.close();
});
paymentInvariantsAfterEach(() => t?.ctx);

// The stub checks one token; tenant A's integration is the one exercised over API-1 here.
beforeAll(() => {
  stub.token = fa.token;
});

const createA = (amount = "100", s: Session = portalA) =>
  s.inject({
    method: "POST",
    url: "/api/portal/deposits",
    payload: { methodId: fa.methodId, currency: "USD", amount, fields: { custom_1: "abc" } },
  });

describe("portal deposit methods", () => {
  it("lists usable methods in display order with decimal-text currencies and derived fields", async () => {
    await t.ctx.db
      .updateTable("deposit_methods")
      .set({ sort_order: 5, field_labels: JSON.stringify({ custom_1: "Your bank" }) })
      .where("id", "=", fa.methodId)
      .execute();
    const first = await insertMethod(t.ctx, a.tenantId, fa.integrationId, {
      currencies: [
        {
          code: "JPY",
          decimals: 0,
          minMinor: 100n,
          maxMinor: 90_000n,
          feePercentBps: 0,
          feeFixedMinor: 0n,
          feeMaxMinor: null,
        },
      ],
    });
    await t.ctx.db
      .updateTable("deposit_methods")
      .set({ sort_order: 1, name: "Bank transfer" })
      .where("id", "=", first)
      .execute();
    const disabled = await insertMethod(t.ctx, a.tenantId, fa.integrationId, { enabled: false });
    const hidden = await insertMethod(t.ctx, a.tenantId, fa.integrationId);
    await t.ctx.db
      .updateTable("deposit_methods")
      .set({ visibility: "groups", client_groups: '["vip"]' })
      .where("id", "=", hidden)
      .execute();
    const deleted = await insertMethod(t.ctx, a.tenantId, fa.integrationId);
    await t.ctx.db.updateTable("deposit_methods").set({ deleted_at: 1 }).where("id", "=", deleted).execute();

    const res = await portalA.get("/api/portal/deposit-methods");
    expect(res.statusCode, res.body).toBe(200);
    const items = res.json().items;
    expect(items.map((m: { id: string }) => m.id)).toEqual([first, fa.methodId]);
    expect(items).not.toContainEqual(expect.objectContaining({ id: disabled }));
    expect(items[0].currencies).toEqual([
      {
        code: "JPY",
        decimals: 0,
        min: "100",
        max: "90000",
        feePercent: "0.00",
        feeFixed: "0",
        feeMax: null,
        accountCurrency: null,
      },
    ]);
    expect(items[1]).toEqual({
      id: fa.methodId,
      name: "Card",
      currencies: [
        {
          code: "USD",
          decimals: 2,
          min: "10.00",
          max: "5000.00",
          feePercent: "2.50",
          feeFixed: "0.30",
          feeMax: "20.00",
          accountCurrency: null,
        },
      ],
      fields: [
        { key: "custom_1", label: "Your bank", type: "select", required: true, options: ["abc", "xyz"] },
        { key: "custom_2", label: "Reference", type: "text", required: false, options: [] },
      ],
      temporarilyUnavailable: false,
      fallbackMethodId: null,
    });

    // the vip method appears once the client is in the group; tenant B sees only its own
    await t.ctx.db
      .updateTable("clients")
      .set({ client_group: "vip" })
      .where("id", "=", fa.clientId)
      .execute();
    const vip = (await portalA.get("/api/portal/deposit-methods"))
      .json()
      .items.map((m: { id: string }) => m.id);
    expect(vip).toContain(hidden);
    await t.ctx.db.updateTable("clients").set({ client_group: null }).where("id", "=", fa.clientId).execute();
    const other = (await portalB.get("/api/portal/deposit-methods"))
      .json()
      .items.map((m: { id: string }) => m.id);
    expect(other).toEqual([fb.methodId]);

    // a disabled integration hides its methods
    await t.ctx.db
      .updateTable("psp_integrations")
      .set({ enabled: 0 })
      .where("id", "=", fb.integrationId)
      .execute();
    expect((await portalB.get("/api/portal/deposit-methods")).json().items).toEqual([]);
    await t.ctx.db
      .updateTable("psp_integrations")
      .set({ enabled: 1 })
      .where("id", "=", fb.integrationId)
      .execute();
  });

  it("needs a portal session", async () => {
    expect((await t.app.inject({ method: "GET", url: "/api/portal/deposit-methods" })).statusCode).toBe(401);
    expect((await a.owner.get("/api/portal/deposit-methods")).statusCode).toBe(401);
  });
});

describe("portal deposits", () => {
  it("lists the client's own deposits newest first with paging; never another's", async () => {
    const made: string[] = [];
    for (const amount of ["11", "12", "13"]) {
      const r = await createA(amount);
      expect(r.statusCode, r.body).toBe(201);
      made.push(r.json().orderNo);
      await new Promise((r) => setTimeout(r, 5));
    }
    await createA("14", portalA2);
    const page1 = await portalA.get("/api/portal/deposits?limit=2");
    expect(page1.statusCode).toBe(200);
    const body = page1.json();
    expect(body.total).toBeGreaterThanOrEqual(3);
    expect(body.items.map((d: { orderNo: string }) => d.orderNo)).toEqual([made[2], made[1]]);
    expect(body.items[0]).toEqual({
      orderNo: made[2],
      methodId: fa.methodId,
      status: "pending",
      amount: "13.00",
      fee: "0.63",
      credit: "12.37",
      currency: "USD",
      creditCurrency: "USD",
      quote: null,
      methodName: "Card",
      paymentUrl: `https://pay.example.com/p/${made[2]}`,
      failure: null,
      underReview: false,
      createdAt: expect.any(Number),
      updatedAt: expect.any(Number),
      finalizedAt: null,
    });
    const page2 = (await portalA.get("/api/portal/deposits?limit=2&offset=2")).json();
    expect(page2.items[0].orderNo).toBe(made[0]);
    const all = (await portalA.get("/api/portal/deposits?limit=100")).json();
    expect(all.items.every((d: { amount: string }) => d.amount !== "14.00")).toBe(true);
    expect((await portalA.get("/api/portal/deposits?limit=101")).statusCode).toBe(400);
  });

  it("answers 404 for another client's or another tenant's order", async () => {
    const mine = (await createA("15")).json().orderNo;
    expect((await portalA.get(`/api/portal/deposits/${mine}`)).statusCode).toBe(200);
    expect((await portalA2.get(`/api/portal/deposits/${mine}`)).statusCode).toBe(404);
    expect((await portalB.get(`/api/portal/deposits/${mine}`)).statusCode).toBe(404);
    expect((await portalB.post(`/api/portal/deposits/${mine}/cancel`)).statusCode).toBe(404);
    expect((await portalB.get(`/api/portal/deposits/${mine}/events`)).statusCode).toBe(404);
    expect((await portalB.get("/api/portal/deposits")).json().items).toEqual([]);
  });

  it("cancels an open order once; a final one answers 409", async () => {
    const orderNo = (await createA("16")).json().orderNo;
    const res = await portalA.post(`/api/portal/deposits/${orderNo}/cancel`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      orderNo,
      status: "cancelled",
      paymentUrl: null,
      finalizedAt: expect.any(Number),
    });
    const again = await portalA.post(`/api/portal/deposits/${orderNo}/cancel`);
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe("deposit_final");
    const row = await t.ctx.db
      .selectFrom("deposits")
      .select("id")
      .where("order_no", "=", orderNo)
      .executeTakeFirstOrThrow();
    const ev = await t.ctx.db
      .selectFrom("deposit_events")
      .select(["kind", "data"])
      .where("deposit_id", "=", row.id)
      .execute();
    expect(ev.map((e) => (e.kind === "status_change" ? JSON.parse(e.data) : null)).filter(Boolean)).toEqual([
      { from: "pending", to: "cancelled", cause: "cancel" },
    ]);
    // no CSRF header → refused
    const c = (await createA("17")).json().orderNo;
    expect(
      (await portalA.inject({ method: "POST", url: `/api/portal/deposits/${c}/cancel`, csrf: false }))
        .statusCode,
    ).toBe(403);
  });

  it("streams the status as server-sent events until it is final", async () => {
    const orderNo = (await createA("18")).json().orderNo;
    const streamed = portalA.get(`/api/portal/deposits/${orderNo}/events`);
    await new Promise((r) => setTimeout(r, 1200));
    await t.ctx.db
      .updateTable("deposits")
      .set({ status: "succeeded", finalized_at: Date.now(), updated_at: Date.now() })
      .where("order_no", "=", orderNo)
      .execute();
    const res = await streamed;
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/event-stream/);
    const events = res.body
      .split("\n\n")
      .filter((b) => b.startsWith("event:"))
      .map((b) => {
        const [ev, data] = b.split("\n");
        return { event: ev?.slice(7), data: JSON.parse(data?.slice(6) ?? "null") };
      });
    expect(events[0]).toMatchObject({ event: "status", data: { orderNo, status: "pending" } });
    expect(events.at(-2)).toMatchObject({
      event: "status",
      data: { orderNo, status: "succeeded", paymentUrl: null },
    });
    expect(events.at(-1)).toEqual({ event: "end", data: { reason: "final" } });
    expect(res.body).not.toContain("failureReason");
  });
});

describe("back office", () => {
  it("creates a deposit on a client's behalf with deposits:create", async () => {
    const payload = {
      clientId: fa.clientId,
      methodId: fa.methodId,
      currency: "USD",
      amount: "55.5",
      fields: { custom_1: "xyz" },
    };
    const res = await a.finance.inject({
      method: "POST",
      url: "/api/admin/deposits",
      payload,
      headers: { "idempotency-key": "staff-1" },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({
      id: expect.any(String),
      status: "pending",
      paymentUrl: expect.any(String),
    });
    const row = await t.ctx.db
      .selectFrom("deposits")
      .selectAll()
      .where("id", "=", res.json().id)
      .executeTakeFirstOrThrow();
    expect(row.created_by).toBe(a.finance.me.id);
    expect(row.amount_minor).toBe(5550);
    expect(stub.requests.at(-1)?.rawBody).toMatch(/"amount":55\.5[,}]/);
    const again = await a.finance.inject({
      method: "POST",
      url: "/api/admin/deposits",
      payload,
      headers: { "idempotency-key": "staff-1" },
    });
    expect(again.statusCode).toBe(200);
    expect(again.json().id).toBe(res.json().id);

    expect((await a.viewer.post("/api/admin/deposits", payload)).statusCode).toBe(403);
    // a client of another tenant is not found
    const cross = await a.finance.post("/api/admin/deposits", { ...payload, clientId: fb.clientId });
    expect(cross.statusCode).toBe(404);
    // staff of B cannot use A's method for B's client
    const crossMethod = await b.finance.post("/api/admin/deposits", { ...payload, clientId: fb.clientId });
    expect(crossMethod.statusCode).toBe(404);
    const missing = await a.finance.post("/api/admin/deposits", { ...payload, clientId: undefined });
    expect(missing.statusCode).toBe(400);
  });

  it("lists with filters and a total, scoped to the tenant", async () => {
    const x = (await createA("21")).json().orderNo;
    const res = await a.viewer.get(`/api/admin/deposits?orderNo=${x}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      total: 1,
      items: [
        {
          orderNo: x,
          amount: "21.00",
          clientName: "Jane Client",
          methodName: "Card",
          integrationName: "Test PSP",
        },
      ],
    });
    expect(res.json().items[0]).not.toHaveProperty("timeline");

    const all = (await a.viewer.get("/api/admin/deposits?limit=100")).json();
    expect(all.total).toBe(all.items.length);
    const cancelled = (await a.viewer.get("/api/admin/deposits?status=cancelled")).json();
    expect(cancelled.items.every((d: { status: string }) => d.status === "cancelled")).toBe(true);
    expect(cancelled.total).toBeGreaterThan(0);
    const byClient = (await a.viewer.get(`/api/admin/deposits?clientId=${clientA2.clientId}`)).json();
    expect(byClient.items.map((d: { clientId: string }) => d.clientId)).toEqual([clientA2.clientId]);
    const byIntegration = (
      await a.viewer.get(`/api/admin/deposits?integrationId=${fa.integrationId}&methodId=${fa.methodId}`)
    ).json();
    expect(byIntegration.total).toBe(all.total);
    const future = (await a.viewer.get(`/api/admin/deposits?from=${Date.now() + 60_000}`)).json();
    expect(future).toEqual({ items: [], total: 0 });
    const past = (await a.viewer.get("/api/admin/deposits?to=1")).json();
    expect(past.total).toBe(0);
    const paged = (await a.viewer.get("/api/admin/deposits?limit=1&offset=1")).json();
    expect(paged.items).toHaveLength(1);
    expect(paged.total).toBe(all.total);
    expect((await a.viewer.get("/api/admin/deposits?status=nope")).statusCode).toBe(400);

    // tenant B's staff sees none of A's deposits
    const bList = (await b.owner.get("/api/admin/deposits?limit=100")).json();
    expect(bList.items.some((d: { orderNo: string }) => d.orderNo === x)).toBe(false);
    expect((await b.owner.get(`/api/admin/deposits?orderNo=${x}`)).json().total).toBe(0);
  });

  it("shows one deposit with its typed timeline, ledger credit and callback logs; 404 across tenants", async () => {
    const created = (await createA("30")).json();
    const row = await t.ctx.db
      .selectFrom("deposits")
      .selectAll()
      .where("order_no", "=", created.orderNo)
      .executeTakeFirstOrThrow();
    const now = Date.now();
    await t.ctx.db.transaction().execute(async (trx) => {
      await trx
        .updateTable("deposits")
        .set({
          status: "succeeded",
          paid_amount_minor: 3000,
          transaction_id: "tx-1",
          psp_time: now,
          finalized_at: now,
        })
        .where("id", "=", row.id)
        .execute();
      await postLedgerEntry(trx, {
        tenantId: a.tenantId,
        clientId: fa.clientId,
        currency: "USD",
        amountMinor: 2895n,
        kind: "deposit",
        depositId: row.id,
        now,
      });
    });
    await t.ctx.db
      .insertInto("callback_logs")
      .values({
        id: "cb-1",
        tenant_id: a.tenantId,
        integration_id: fa.integrationId,
        deposit_id: row.id,
        merchant_id: fa.merchantId,
        order_no: row.order_no,
        content_type: "application/json",
        raw_body: '{"status":1}',
        verdict: "accepted",
        error_type: null,
        http_status: 204,
        remote_addr: "127.0.0.1",
        created_at: now,
      })
      .execute();

    const res = await a.viewer.get(`/api/admin/deposits/${row.id}`);
    expect(res.statusCode, res.body).toBe(200);
    const d = res.json();
    expect(d).toMatchObject({
      id: row.id,
      orderNo: row.order_no,
      status: "succeeded",
      amount: "30.00",
      fee: "1.05",
      credit: "28.95",
      paidAmount: "30.00",
      transactionId: "tx-1",
      pspTime: now,
      failureReason: null,
      fields: { custom_1: "abc" },
      ledgerEntry: { amount: "28.95", kind: "deposit" },
      callbacks: [
        {
          id: "cb-1",
          verdict: "accepted",
          errorType: null,
          httpStatus: 204,
          rawBody: '{"status":1}',
          source: "callback",
        },
      ],
    });
    expect(d.timeline.map((e: { kind: string }) => e.kind)).toEqual(["created", "api1_call"]);
    expect(d.timeline[1].data).toMatchObject({
      outcome: "ok",
      httpStatus: 200,
      request: { sign: expect.any(String) },
    });

    // Each field under the method's label, else the integration's (custom_1 is "Bank" there).
    const labelled = async (fieldLabels: Record<string, string>) => {
      await t.ctx.db
        .updateTable("deposit_methods")
        .set({ field_labels: JSON.stringify(fieldLabels) })
        .where("id", "=", fa.methodId)
        .execute();
      return (await a.viewer.get(`/api/admin/deposits/${row.id}`)).json().enteredFields;
    };
    const kept = await t.ctx.db
      .selectFrom("deposit_methods")
      .select("field_labels")
      .where("id", "=", fa.methodId)
      .executeTakeFirstOrThrow();
    expect(await labelled({})).toEqual([{ key: "custom_1", label: "Bank", value: "abc" }]);
    expect(await labelled({ custom_1: "IBAN" })).toEqual([{ key: "custom_1", label: "IBAN", value: "abc" }]);
    await labelled(JSON.parse(kept.field_labels));

    expect((await b.owner.get(`/api/admin/deposits/${row.id}`)).statusCode).toBe(404);
    expect((await b.owner.post(`/api/admin/deposits/${row.id}/cancel`, {})).statusCode).toBe(404);
  });

  it("cancels with deposits:resolve, audited; 409 when final", async () => {
    const { orderNo } = (await createA("40")).json();
    const row = await t.ctx.db
      .selectFrom("deposits")
      .select("id")
      .where("order_no", "=", orderNo)
      .executeTakeFirstOrThrow();
    expect((await a.viewer.post(`/api/admin/deposits/${row.id}/cancel`, {})).statusCode).toBe(403);
    const res = await a.finance.post(`/api/admin/deposits/${row.id}/cancel`, { comment: "client asked" });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().status).toBe("cancelled");
    expect(res.json().timeline.map((e: { kind: string }) => e.kind)).toEqual([
      "created",
      "api1_call",
      "status_change",
      "manual",
    ]);
    const audit = await t.ctx.db
      .selectFrom("audit_log")
      .selectAll()
      .where("target_id", "=", row.id)
      .execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      action: "deposit.cancel",
      actor_type: "user",
      actor_id: a.finance.me.id,
      tenant_id: a.tenantId,
    });
    expect((await a.finance.post(`/api/admin/deposits/${row.id}/cancel`, {})).statusCode).toBe(409);
    // without a body at all
    const { orderNo: o2 } = (await createA("41")).json();
    const r2 = await t.ctx.db
      .selectFrom("deposits")
      .select("id")
      .where("order_no", "=", o2)
      .executeTakeFirstOrThrow();
    const noBody = await a.owner.inject({ method: "POST", url: `/api/admin/deposits/${r2.id}/cancel` });
    expect(noBody.statusCode, noBody.body).toBe(200);
  });

  it("every deposit route declares its access rule", () => {
    const routes = t.app.routeTable.filter(
      (r) => r.url.includes("/deposits") || r.url.includes("deposit-methods"),
    );
    expect(routes.map((r) => `${r.method} ${r.url} ${JSON.stringify(r.access)}`)).toEqual(
      expect.arrayContaining([
        'GET /api/portal/deposit-methods "client"',
        'POST /api/portal/deposits "client"',
        'GET /api/portal/deposits "client"',
        'GET /api/portal/deposits/:orderNo "client"',
        'GET /api/portal/deposits/:orderNo/events "client"',
        'POST /api/portal/deposits/:orderNo/cancel "client"',
        'POST /api/admin/deposits {"staff":"deposits:create"}',
        'GET /api/admin/deposits {"staff":"deposits:read"}',
        'GET /api/admin/deposits/:id {"staff":"deposits:read"}',
        'POST /api/admin/deposits/:id/cancel {"staff":"deposits:resolve"}',
      ]),
    );
  });
});
