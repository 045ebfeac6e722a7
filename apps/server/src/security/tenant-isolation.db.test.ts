import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { sign } from "@psphub/protocol";
import type { LightMyRequestResponse } from "fastify";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../common/ids.js";
import type { RouteEntry } from "../http/access.js";
import { openAlert } from "../modules/integration-health/alert-repo.js";
import { insertAssistanceItem } from "../test/assistance-items.js";
import {
  apiKeyCaller,
  brief,
  type Caller,
  Failures,
  fillUrl,
  hasParams,
  isUnsafe,
  label,
  lookalike,
  type MatrixTenant,
  paramNames,
  seedMatrixTenant,
  sessionCaller,
} from "../test/security-matrix.js";
import { createTestApp, loginClient, type Session, type TestApp } from "../test/test-app.js";
import { testDbKind } from "../test/test-database.js";

/**
 * The tenant isolation matrix. Tenant A gets one object of every kind a route parameter can
 * name; for every route with parameters, tenant B (owner session, owner API key, and for portal
 * routes B's client and another client of A) must get exactly the answer an id that exists
 * nowhere gets: 404 not_found, same body. Afterwards tenant A's rows must be unchanged.
 *
 * A route with parameters that has no entry in ROUTE_FIXTURES fails the test, so a new route
 * cannot slip past: map it to a fixture (creating one below if needed), or, for a public route
 * that is not tenant-scoped by its caller, list it in NOT_TENANT_SCOPED with the reason.
 */

type Fixtures = {
  clientId: string;
  /** Another client of A, for the routes that end a client's sessions (reset, disable). */
  spareClientId: string;
  userId: string;
  apiKeyId: string;
  integrationId?: string;
  merchantId?: string;
  token?: string;
  methodId?: string;
  /** A pending deposit of the client, created through the back office. */
  depositId?: string;
  orderNo?: string;
  reviewItemId?: string;
  /** A needs-assistance item (as the status-query schedule flags one) of another pending deposit. */
  assistItemId?: string;
  alertId?: string;
  /** A manual rate source with an EUR → USD rate, and an external one. */
  fxSourceId?: string;
  fxExternalSourceId?: string;
  webhookEndpointId?: string;
  webhookEventId?: string;
  /** A finished conformance run of the integration, with its report. */
  certifyRunId?: string;
  /** A manual withdrawal method, and a withdrawal of the client waiting for its first level. */
  withdrawalMethodId?: string;
  withdrawalId?: string;
};

type RouteFixture = {
  /** Parameter values naming tenant A's object. */
  params: (f: Fixtures) => Record<string, string | undefined>;
  /** Body per method for unsafe routes: valid, so the request reaches the lookup. */
  body?: Partial<Record<string, unknown>>;
  /** The positive check (tenant A may use the id) is skipped, with the reason. */
  noPositiveCheck?: string;
};

const WITHDRAWAL_METHOD = {
  name: "Bank transfer",
  currencies: [{ code: "USD", min: "1.00", max: "1000.00" }],
  fields: [{ key: "iban", label: "IBAN", required: true }],
  approval: { bands: [{ from: "0", levels: 1 }] },
};

const ROUTE_FIXTURES: Record<string, RouteFixture> = {
  "/api/admin/clients/:id": { params: (f) => ({ id: f.clientId }), body: { PATCH: { name: "Mallory" } } },
  "/api/admin/clients/:id/ledger": { params: (f) => ({ id: f.clientId }) },
  "/api/admin/clients/:id/ledger/export.csv": { params: (f) => ({ id: f.clientId }) },
  "/api/admin/clients/:id/reset-password": { params: (f) => ({ id: f.spareClientId }) },
  "/api/admin/clients/:id/disable": { params: (f) => ({ id: f.spareClientId }) },
  "/api/admin/clients/:id/enable": { params: (f) => ({ id: f.spareClientId }) },
  "/api/admin/users/:id": {
    params: (f) => ({ id: f.userId }),
    body: { PATCH: { name: "Mallory", role: "viewer", disabled: true } },
  },
  "/api/admin/api-keys/:id": { params: (f) => ({ id: f.apiKeyId }) },
  "/api/admin/integrations/:id": {
    params: (f) => ({ id: f.integrationId }),
    body: { PATCH: { name: "Mallory", enabled: false } },
  },
  "/api/admin/integrations/:id/enable": { params: (f) => ({ id: f.integrationId }) },
  "/api/admin/integrations/:id/disable": { params: (f) => ({ id: f.integrationId }) },
  "/api/admin/integrations/:id/reveal": { params: (f) => ({ id: f.integrationId }) },
  "/api/admin/integrations/:id/impact": { params: (f) => ({ id: f.integrationId }) },
  "/api/admin/integrations/:id/rotate-token": {
    params: (f) => ({ id: f.integrationId }),
    body: { POST: {} },
  },
  "/api/admin/integrations/:id/callbacks": { params: (f) => ({ id: f.integrationId }) },
  "/api/admin/integrations/:id/callbacks/export.csv": { params: (f) => ({ id: f.integrationId }) },
  "/api/admin/deposit-methods/:id": {
    params: (f) => ({ id: f.methodId }),
    body: { PATCH: { name: "Mallory" } },
  },
  "/api/admin/deposit-methods/:id/enable": { params: (f) => ({ id: f.methodId }) },
  "/api/admin/deposit-methods/:id/disable": { params: (f) => ({ id: f.methodId }) },
  "/api/admin/deposits/:id": { params: (f) => ({ id: f.depositId }) },
  "/api/admin/deposits/:id/cancel": {
    params: (f) => ({ id: f.depositId }),
    body: { POST: { comment: "Mallory" } },
  },
  "/api/admin/deposits/:id/approve": {
    params: (f) => ({ id: f.depositId }),
    body: { POST: { comment: "Mallory" } },
  },
  "/api/admin/deposits/:id/reject": {
    params: (f) => ({ id: f.depositId }),
    body: { POST: { comment: "Mallory" } },
  },
  "/api/admin/review/:id/resolve": {
    params: (f) => ({ id: f.reviewItemId }),
    body: { POST: { action: "credit", comment: "Mallory" } },
  },
  "/api/admin/review/:id/keep-waiting": {
    params: (f) => ({ id: f.assistItemId }),
    body: { POST: { comment: "Mallory" } },
  },
  "/api/admin/review/:id/mark-failed": {
    params: (f) => ({ id: f.assistItemId }),
    body: { POST: { comment: "Mallory" } },
  },
  "/api/admin/review/:id/credit": {
    params: (f) => ({ id: f.assistItemId }),
    body: { POST: { comment: "Mallory" } },
  },
  "/api/admin/review/:id/approve": {
    params: (f) => ({ id: f.assistItemId }),
    body: { POST: { comment: "Mallory" } },
  },
  "/api/admin/review/:id/decline": {
    params: (f) => ({ id: f.assistItemId }),
    body: { POST: { comment: "Mallory" } },
  },
  "/api/admin/review/:id/check-status": {
    params: (f) => ({ id: f.assistItemId }),
    body: { POST: {} },
  },
  "/api/admin/integrations/:id/health": { params: (f) => ({ id: f.integrationId }) },
  "/api/admin/integrations/:id/breaker": { params: (f) => ({ id: f.integrationId }) },
  "/api/admin/integrations/:id/breaker/close": { params: (f) => ({ id: f.integrationId }) },
  "/api/admin/integrations/:id/breaker/mode": {
    params: (f) => ({ id: f.integrationId }),
    body: { PUT: { mode: "on" } },
  },
  "/api/admin/alerts/:id/acknowledge": { params: (f) => ({ id: f.alertId }) },
  "/api/portal/deposits/:orderNo": { params: (f) => ({ orderNo: f.orderNo }) },
  "/api/portal/deposits/:orderNo/events": {
    params: (f) => ({ orderNo: f.orderNo }),
    noPositiveCheck: "a server-sent event stream stays open while the deposit is pending",
  },
  "/api/portal/deposits/:orderNo/cancel": { params: (f) => ({ orderNo: f.orderNo }) },
  // The external source, so that deleting it leaves the manual one to the rate routes.
  "/api/admin/fx/sources/:id": {
    params: (f) => ({ id: f.fxExternalSourceId }),
    body: { PUT: { name: "Mallory" } },
  },
  "/api/admin/fx/sources/:id/key": {
    params: (f) => ({ id: f.fxExternalSourceId }),
  },
  "/api/admin/fx/sources/:id/test": {
    params: (f) => ({ id: f.fxSourceId }),
    body: { POST: { from: "EUR", to: "USD" } },
  },
  "/api/admin/fx/sources/:id/rates": { params: (f) => ({ id: f.fxSourceId }) },
  "/api/admin/fx/sources/:id/rates/:from/:to": {
    params: (f) => ({ id: f.fxSourceId, from: "EUR", to: "USD" }),
    body: { PUT: { rate: "9.99", markupBps: 0 } },
  },
  "/api/admin/webhooks/endpoints/:id": {
    params: (f) => ({ id: f.webhookEndpointId }),
    body: { PUT: { description: "Mallory" } },
  },
  "/api/admin/webhooks/endpoints/:id/disable": {
    params: (f) => ({ id: f.webhookEndpointId }),
    body: { POST: {} },
  },
  "/api/admin/webhooks/endpoints/:id/enable": {
    params: (f) => ({ id: f.webhookEndpointId }),
    body: { POST: { recover: true } },
  },
  "/api/admin/webhooks/endpoints/:id/rotate": {
    params: (f) => ({ id: f.webhookEndpointId }),
    body: { POST: {} },
  },
  "/api/admin/webhooks/endpoints/:id/test": {
    params: (f) => ({ id: f.webhookEndpointId }),
    body: { POST: {} },
  },
  "/api/admin/webhooks/endpoints/:id/deliveries": { params: (f) => ({ id: f.webhookEndpointId }) },
  "/api/admin/webhooks/endpoints/:id/deliveries/:eventId": {
    params: (f) => ({ id: f.webhookEndpointId, eventId: f.webhookEventId }),
  },
  "/api/admin/webhooks/endpoints/:id/deliveries/:eventId/replay": {
    params: (f) => ({ id: f.webhookEndpointId, eventId: f.webhookEventId }),
    body: { POST: {} },
  },
  "/api/admin/webhooks/endpoints/:id/replays": {
    params: (f) => ({ id: f.webhookEndpointId }),
    body: { POST: { from: 0, to: 4102444800000 } },
  },
  "/api/admin/integrations/:id/certify-runs": {
    params: (f) => ({ id: f.integrationId }),
    body: { POST: {} },
  },
  "/api/admin/integrations/:id/certify-runs/:runId": {
    params: (f) => ({ id: f.integrationId, runId: f.certifyRunId }),
  },
  "/api/admin/integrations/:id/certify-runs/:runId/report.html": {
    params: (f) => ({ id: f.integrationId, runId: f.certifyRunId }),
  },
  "/api/admin/withdrawal-methods/:id": {
    params: (f) => ({ id: f.withdrawalMethodId }),
    body: { PUT: WITHDRAWAL_METHOD },
  },
  "/api/admin/withdrawals/:id": { params: (f) => ({ id: f.withdrawalId }) },
  ...Object.fromEntries(
    (
      [
        ["approve", { comment: "Mallory" }],
        ["reject", { comment: "Mallory", clientReason: "Mallory" }],
        ["mark-paid", { reference: "Mallory" }],
        ["start-payout", {}],
        ["check-payout", {}],
        ["mark-failed", { comment: "Mallory" }],
      ] as const
    ).map(([action, body]) => [
      `/api/admin/withdrawals/:id/${action}`,
      { params: (f: Fixtures) => ({ id: f.withdrawalId }), body: { POST: body } },
    ]),
  ),
  "/api/portal/withdrawals/:id": { params: (f) => ({ id: f.withdrawalId }) },
  "/api/portal/withdrawals/:id/cancel": { params: (f) => ({ id: f.withdrawalId }) },
};

/** Routes with parameters that are not scoped by the caller's tenant, with the reason. */
const NOT_TENANT_SCOPED: Record<string, string> = {
  "GET /admin/*": "static files of the back-office SPA",
  "GET /portal/*": "static files of the client portal SPA",
  "GET /operator/*": "static files of the platform operator's console SPA",
  "GET /assets/*": "static assets of both SPAs",
};

let t: TestApp;
let stub: Server;
let a: MatrixTenant;
let b: MatrixTenant;
/** Another client of tenant A, for the portal routes: clients are isolated from each other too. */
let aOtherClient: Session;
let fx: Fixtures;
let bFx: { integrationId?: string; methodId?: string; merchantId?: string; token?: string };

const has = (method: string, url: string) =>
  t.app.routeTable.some((r) => r.method === method && r.url === url);

async function expectStatus(
  res: LightMyRequestResponse,
  status: number,
  what: string,
): Promise<LightMyRequestResponse> {
  if (res.statusCode !== status) throw new Error(`fixture ${what}: ${brief(res)}`);
  return res;
}

/** A tenant backend answering API-1 with a payment page, so real deposits can be created. */
async function startApi1Stub(): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ data: { url: "https://pay.example.com/p/123" }, result: true, msg: "" }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

const USD = { code: "USD", min: "1.00", max: "10000.00" };

async function createPaymentSetup(owner: Session, appUrl: string) {
  const out: { integrationId?: string; merchantId?: string; token?: string; methodId?: string } = {};
  if (has("POST", "/api/admin/integrations")) {
    const integ = await expectStatus(
      await owner.post("/api/admin/integrations", { name: "PSP", appUrl }),
      201,
      "integration",
    );
    out.integrationId = integ.json().id;
    out.merchantId = integ.json().merchantId;
    if (has("POST", "/api/admin/integrations/:id/reveal")) {
      out.token = (await owner.post(`/api/admin/integrations/${out.integrationId}/reveal`)).json().token;
    }
  }
  if (out.integrationId && has("POST", "/api/admin/deposit-methods")) {
    const method = await expectStatus(
      await owner.post("/api/admin/deposit-methods", {
        name: "Card",
        integrationId: out.integrationId,
        currencies: [USD],
      }),
      201,
      "deposit method",
    );
    out.methodId = method.json().id;
  }
  return out;
}

async function createDeposit(clientId: string): Promise<{ id: string; orderNo: string }> {
  const res = await a.owner.post("/api/admin/deposits", {
    clientId,
    methodId: fx.methodId,
    currency: "USD",
    amount: "10.00",
  });
  await expectStatus(res, 201, "deposit");
  return { id: res.json().id, orderNo: res.json().orderNo };
}

const callback = (body: Record<string, string | number>, token: string) =>
  t.app.inject({
    method: "POST",
    url: "/api/psp/pay/callback",
    headers: { "content-type": "application/json", "crm-pay-token": token },
    payload: JSON.stringify({ ...body, sign: sign(body, token) }),
  });

beforeAll(async () => {
  stub = await startApi1Stub();
  const appUrl = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;
  t = await createTestApp({ configOverrides: { allowPrivateAppUrls: true } });
  a = await seedMatrixTenant(t);
  b = await seedMatrixTenant(t);

  const other = await a.owner.post("/api/admin/clients", {
    name: "Other",
    email: "other@a.test",
    password: "other password 1",
  });
  await expectStatus(other, 201, "second client");
  aOtherClient = await loginClient(t.app, a.slug, "other@a.test", "other password 1");

  fx = {
    clientId: a.clientId,
    spareClientId: other.json().id,
    userId: a.viewer.me.id,
    apiKeyId: a.keyIds.viewer,
  };
  Object.assign(fx, await createPaymentSetup(a.owner, appUrl));
  bFx = await createPaymentSetup(b.owner, appUrl);

  if (fx.methodId && has("POST", "/api/admin/deposits")) {
    // A deposit that stays pending: the one B tries to read, cancel, approve and reject.
    const pending = await createDeposit(fx.clientId);
    fx.depositId = pending.id;
    fx.orderNo = pending.orderNo;
    // A credited one, so the client has a ledger entry and a wallet.
    if (has("POST", "/api/admin/deposits/:id/approve")) {
      const paid = await createDeposit(fx.clientId);
      await expectStatus(
        await a.owner.post(`/api/admin/deposits/${paid.id}/approve`, { comment: "paid by wire" }),
        200,
        "approval",
      );
    }
    // A cancelled one that its PSP then reports paid: a review item (and callback log rows).
    if (
      fx.token &&
      fx.merchantId &&
      has("POST", "/api/admin/deposits/:id/cancel") &&
      has("GET", "/api/admin/review")
    ) {
      const late = await createDeposit(fx.clientId);
      await expectStatus(await a.owner.post(`/api/admin/deposits/${late.id}/cancel`, {}), 200, "cancel");
      const res = await callback(
        {
          merchant_id: fx.merchantId,
          order_no: late.orderNo,
          amount: 10,
          currency: "USD",
          time: Date.now(),
          status: 1,
        },
        fx.token,
      );
      // It contradicts the final status (400 payment_status_not_pending) and is kept for review.
      if (res.statusCode >= 500) throw new Error(`fixture late callback: ${brief(res)}`);
      const items = (await a.owner.get("/api/admin/review")).json().items as { id: string }[];
      fx.reviewItemId = items[0]?.id;
      if (!fx.reviewItemId)
        throw new Error(`fixture review item: none after the late callback (${brief(res)})`);
    }
    if (has("POST", "/api/admin/review/:id/keep-waiting")) {
      const stuck = await createDeposit(fx.clientId);
      fx.assistItemId = `assist-${stuck.id}`;
      await insertAssistanceItem(t.ctx, {
        id: fx.assistItemId,
        tenantId: a.tenantId,
        depositId: stuck.id,
        now: Date.now(),
        claim: { why: "not_found", depositStatus: "pending" },
      });
    }
  }
  if (fx.integrationId && has("POST", "/api/admin/alerts/:id/acknowledge")) {
    const data = { last5m: 9, usualPer5m: 0 };
    const alert = {
      tenantId: a.tenantId,
      integrationId: fx.integrationId,
      kind: "signature_failures" as const,
      data,
    };
    await openAlert(t.ctx.db, alert, Date.now());
    fx.alertId = (await a.owner.get("/api/admin/alerts")).json().items[0]?.id;
    if (!fx.alertId) throw new Error("fixture alert: none listed after opening one");
  }
  if (has("POST", "/api/admin/fx/sources")) {
    const manual = await expectStatus(
      await a.owner.post("/api/admin/fx/sources", { kind: "manual", name: "Desk" }),
      201,
      "fx source",
    );
    fx.fxSourceId = manual.json().source.id;
    await expectStatus(
      await a.owner.put(`/api/admin/fx/sources/${fx.fxSourceId}/rates/EUR/USD`, {
        rate: "1.0781",
        markupBps: 0,
      }),
      200,
      "fx rate",
    );
    const external = await expectStatus(
      await a.owner.post("/api/admin/fx/sources", {
        kind: "external",
        name: "API",
        url: "https://127.0.0.1:9/rate",
      }),
      201,
      "fx external source",
    );
    fx.fxExternalSourceId = external.json().source.id;
  }
  if (has("POST", "/api/admin/webhooks/endpoints")) {
    const created = await expectStatus(
      await a.owner.post("/api/admin/webhooks/endpoints", { url: "https://127.0.0.1:9/hooks" }),
      201,
      "webhook endpoint",
    );
    fx.webhookEndpointId = created.json().endpoint.id;
    const sent = await expectStatus(
      await a.owner.post(`/api/admin/webhooks/endpoints/${fx.webhookEndpointId}/test`, {}),
      202,
      "webhook test event",
    );
    fx.webhookEventId = sent.json().eventId;
  }
  if (fx.depositId && has("POST", "/api/admin/withdrawal-methods")) {
    const m = await expectStatus(
      await a.owner.post("/api/admin/withdrawal-methods", WITHDRAWAL_METHOD),
      201,
      "withdrawal method",
    );
    fx.withdrawalMethodId = m.json().id;
    // The approved deposit credited the client: a withdrawal of 1.00 waits for its first level.
    const w = await expectStatus(
      await a.session("client").post("/api/portal/withdrawals", {
        methodId: fx.withdrawalMethodId,
        currency: "USD",
        amount: "1.00",
        fields: { iban: "DE89370400440532013000" },
      }),
      201,
      "withdrawal",
    );
    fx.withdrawalId = w.json().id;
  }
  if (fx.integrationId && has("GET", "/api/admin/integrations/:id/certify-runs/:runId")) {
    // A finished run, written as the run would write it (a real run would call the stub).
    const now = Date.now();
    const report = {
      target: { appUrl: "https://pay.example.com", merchantId: fx.merchantId ?? "" },
      startedAt: now,
      finishedAt: now,
      cases: [],
      counts: { passed: 0, failed: 0, skipped: 0 },
      certified: false,
    };
    fx.certifyRunId = newId();
    await t.ctx.db
      .insertInto("certify_runs")
      .values({
        id: fx.certifyRunId,
        tenant_id: a.tenantId,
        integration_id: fx.integrationId,
        started_by: null,
        manual: 0,
        status: "finished",
        config_hash: "x",
        started_at: now,
        finished_at: now,
        certified: 0,
        passed: 0,
        failed: 0,
        skipped: 0,
        prompts: null,
        report: JSON.stringify(report),
        error: null,
      })
      .execute();
  }
});
afterAll(async () => {
  await t?.close();
  await new Promise((resolve) => stub?.close(resolve));
});

/** Every row of every table with a tenant_id column that belongs to the tenant, plus its tenants row. */
async function snapshot(tenantId: string): Promise<Record<string, string[]>> {
  const tables =
    testDbKind() === "sqlite"
      ? await sql<{ name: string }>`select m.name as name from sqlite_master m, pragma_table_info(m.name) p
          where m.type = 'table' and p.name = 'tenant_id' order by m.name`.execute(t.ctx.db)
      : await sql<{ name: string }>`select table_name as name from information_schema.columns
          where column_name = 'tenant_id' and table_schema = current_schema() order by table_name`.execute(
          t.ctx.db,
        );
  const out: Record<string, string[]> = {};
  for (const { name } of tables.rows) {
    const rows = await sql<
      Record<string, unknown>
    >`select * from ${sql.table(name)} where tenant_id = ${tenantId}`.execute(t.ctx.db);
    out[name] = rows.rows.map((r) => JSON.stringify(r)).sort();
  }
  const tenant = await t.ctx.db.selectFrom("tenants").selectAll().where("id", "=", tenantId).execute();
  out.tenants = tenant.map((r) => JSON.stringify(r));
  return out;
}

// Operator routes name tenants on purpose: they are above tenants, and no tenant's credential
// opens them (rbac-matrix.db.test.ts, "operator routes").
const paramRoutes = () => t.app.routeTable.filter((r) => hasParams(r.url) && r.access !== "operator");
const tenantScoped = () => paramRoutes().filter((r) => NOT_TENANT_SCOPED[label(r)] === undefined);

function resolveParams(r: RouteEntry): Record<string, string> {
  const fixture = ROUTE_FIXTURES[r.url];
  if (!fixture) throw new Error(`${label(r)} has no fixture mapping`);
  const values = fixture.params(fx);
  for (const name of paramNames(r.url)) {
    if (!values[name]) throw new Error(`${label(r)}: the fixture for :${name} was not created`);
  }
  return values as Record<string, string>;
}

const send = (caller: Caller, r: RouteEntry, params: Record<string, string>) => {
  const body = ROUTE_FIXTURES[r.url]?.body?.[r.method];
  return caller.inject({
    method: r.method as "GET",
    url: fillUrl(r.url, params),
    ...(isUnsafe(r) && body !== undefined ? { payload: body as object } : {}),
  });
};

function attackers(r: RouteEntry): Caller[] {
  if (r.access === "client") {
    return [
      sessionCaller("tenant B's client", b.session("client")),
      sessionCaller("another client of tenant A", aOtherClient),
    ];
  }
  return [
    sessionCaller("tenant B's owner", b.session("owner")),
    apiKeyCaller(t, "tenant B's owner API key", b.keys.owner),
  ];
}
const ownerOf = (r: RouteEntry): Caller =>
  r.access === "client"
    ? sessionCaller("tenant A's client", a.session("client"))
    : sessionCaller("tenant A's owner", a.session("owner"));

describe("tenant isolation matrix", () => {
  it("has a fixture mapping for every route with parameters", () => {
    const unmapped = tenantScoped()
      .filter((r) => ROUTE_FIXTURES[r.url] === undefined)
      .map(label);
    if (unmapped.length) {
      console.error(
        `Routes with parameters but no fixture in ROUTE_FIXTURES (security/tenant-isolation.db.test.ts):\n  ${unmapped.join("\n  ")}`,
      );
    }
    expect(unmapped).toEqual([]);
    const unscopedButNotPublic = paramRoutes().filter(
      (r) => NOT_TENANT_SCOPED[label(r)] !== undefined && r.access !== "public",
    );
    expect(unscopedButNotPublic.map(label)).toEqual([]);
  });

  it("created every fixture a mapped route needs", () => {
    const failures: string[] = [];
    for (const r of tenantScoped()) {
      if (!ROUTE_FIXTURES[r.url]) continue;
      try {
        resolveParams(r);
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
    expect(failures).toEqual([]);
  });

  it("lets tenant A read its own objects through every mapped GET route (the fixtures are right)", async () => {
    const failures = new Failures();
    for (const r of tenantScoped().filter((r) => r.method === "GET" && ROUTE_FIXTURES[r.url])) {
      if (ROUTE_FIXTURES[r.url]!.noPositiveCheck) continue;
      const res = await send(ownerOf(r), r, resolveParams(r));
      failures.check(r, res.statusCode === 200, () => brief(res));
    }
    expect(failures.list).toEqual([]);
  });

  it("answers tenant B exactly as for an id that exists nowhere, and changes nothing of tenant A", async () => {
    const before = await snapshot(a.tenantId);
    const failures = new Failures();
    let checked = 0;
    for (const r of tenantScoped().filter((r) => ROUTE_FIXTURES[r.url])) {
      const real = resolveParams(r);
      const fake = Object.fromEntries(Object.entries(real).map(([k, v]) => [k, lookalike(v)]));
      for (const caller of attackers(r)) {
        const got = await send(caller, r, real);
        const unknown = await send(caller, r, fake);
        checked++;
        failures.check(
          r,
          got.statusCode === 404 && got.json().error?.code === "not_found",
          () => `${caller.name} with A's id: ${brief(got)}`,
        );
        failures.check(
          r,
          got.statusCode === unknown.statusCode && got.body === unknown.body,
          () => `${caller.name}: A's id answered ${brief(got)} but an unknown id ${brief(unknown)}`,
        );
      }
    }
    expect(failures.list).toEqual([]);
    expect(await snapshot(a.tenantId)).toEqual(before);
    expect(checked).toBeGreaterThan(0);
  });

  it("refuses tenant A's ids inside tenant B's request bodies, exactly as unknown ids", async () => {
    const failures = new Failures();
    const before = await snapshot(a.tenantId);
    type Probe = { method: "POST" | "PATCH"; url: string; caller: Caller; body: (ids: Fixtures) => object };
    const bOwner = sessionCaller("tenant B's owner", b.session("owner"));
    const probes: Probe[] = [];
    if (fx.integrationId && has("POST", "/api/admin/deposit-methods")) {
      probes.push({
        method: "POST",
        url: "/api/admin/deposit-methods",
        caller: bOwner,
        body: (ids) => ({ name: "Stolen", integrationId: ids.integrationId, currencies: [USD] }),
      });
    }
    if (fx.integrationId && bFx.methodId && has("PATCH", "/api/admin/deposit-methods/:id")) {
      probes.push({
        method: "PATCH",
        url: `/api/admin/deposit-methods/${bFx.methodId}`,
        caller: bOwner,
        body: (ids) => ({ integrationId: ids.integrationId }),
      });
    }
    if (fx.methodId && bFx.methodId && has("POST", "/api/admin/deposit-methods/reorder")) {
      probes.push({
        method: "POST",
        url: "/api/admin/deposit-methods/reorder",
        caller: bOwner,
        body: (ids) => ({ ids: [ids.methodId, bFx.methodId] }),
      });
    }
    if (fx.methodId && bFx.methodId && has("POST", "/api/admin/deposits")) {
      probes.push(
        {
          method: "POST",
          url: "/api/admin/deposits",
          caller: bOwner,
          body: (ids) => ({
            clientId: ids.clientId,
            methodId: bFx.methodId,
            currency: "USD",
            amount: "10.00",
          }),
        },
        {
          method: "POST",
          url: "/api/admin/deposits",
          caller: bOwner,
          body: (ids) => ({ clientId: b.clientId, methodId: ids.methodId, currency: "USD", amount: "10.00" }),
        },
      );
    }
    if (fx.methodId && bFx.methodId && has("POST", "/api/admin/deposit-quote")) {
      probes.push(
        {
          method: "POST",
          url: "/api/admin/deposit-quote",
          caller: bOwner,
          body: (ids) => ({
            clientId: ids.clientId,
            methodId: bFx.methodId,
            currency: "USD",
            amount: "10.00",
          }),
        },
        {
          method: "POST",
          url: "/api/admin/deposit-quote",
          caller: bOwner,
          body: (ids) => ({ clientId: b.clientId, methodId: ids.methodId, currency: "USD", amount: "10.00" }),
        },
      );
    }
    if (fx.methodId && has("POST", "/api/portal/deposit-quote")) {
      probes.push({
        method: "POST",
        url: "/api/portal/deposit-quote",
        caller: sessionCaller("tenant B's client", b.session("client")),
        body: (ids) => ({ methodId: ids.methodId, currency: "USD", amount: "10.00" }),
      });
    }
    if (fx.methodId && has("POST", "/api/portal/deposits")) {
      probes.push({
        method: "POST",
        url: "/api/portal/deposits",
        caller: sessionCaller("tenant B's client", b.session("client")),
        body: (ids) => ({ methodId: ids.methodId, currency: "USD", amount: "10.00" }),
      });
    }
    const fakeFx = Object.fromEntries(
      Object.entries(fx).map(([k, v]) => [k, typeof v === "string" ? lookalike(v) : v]),
    ) as Fixtures;
    for (const p of probes) {
      const route = { method: p.method, url: p.url };
      const got = await p.caller.inject({ method: p.method, url: p.url, payload: p.body(fx) });
      const unknown = await p.caller.inject({ method: p.method, url: p.url, payload: p.body(fakeFx) });
      failures.check(route, got.statusCode >= 400, () => `accepted A's id: ${brief(got)}`);
      failures.check(
        route,
        got.statusCode === unknown.statusCode && got.body === unknown.body,
        () => `A's id answered ${brief(got)} but an unknown id ${brief(unknown)}`,
      );
    }
    expect(failures.list).toEqual([]);
    expect(await snapshot(a.tenantId)).toEqual(before);
  });

  it("does not let tenant B's integration settle tenant A's order (API-2)", async () => {
    if (!has("POST", "/api/psp/pay/callback") || !has("POST", "/api/admin/deposits")) return;
    if (!fx.orderNo || !fx.merchantId || !bFx.merchantId || !bFx.token) {
      expect.fail("the deposit and callback routes exist but the API-2 fixtures were not created");
    }
    const before = await snapshot(a.tenantId);
    const body = (orderNo: string) => ({
      merchant_id: bFx.merchantId!,
      order_no: orderNo,
      amount: 10,
      currency: "USD",
      time: Date.now(),
      status: 1,
    });
    const got = await callback(body(fx.orderNo!), bFx.token!);
    const other = lookalike(fx.orderNo!);
    const unknown = await callback(body(other), bFx.token!);
    expect(got.statusCode).toBe(400);
    expect(got.json().type).toBe("payment_not_found");
    // The same answer as for an order that does not exist (its detail echoes the order_no sent).
    expect(got.body.replaceAll(fx.orderNo!, "<order_no>")).toBe(unknown.body.replaceAll(other, "<order_no>"));
    expect(await snapshot(a.tenantId)).toEqual(before);

    // A's merchant_id with B's token: the token does not match that integration. The attempt is
    // logged for A's admins (every callback is), and nothing else of A changes.
    const mixed = await callback({ ...body(fx.orderNo!), merchant_id: fx.merchantId! }, bFx.token!);
    expect(mixed.statusCode).toBe(400);
    expect(mixed.json().type).toBe("psp_token_invalid");
    const { callback_logs: logsAfter, ...restAfter } = await snapshot(a.tenantId);
    const { callback_logs: logsBefore, ...restBefore } = before;
    expect(restAfter).toEqual(restBefore);
    const added = (logsAfter ?? [])
      .filter((row) => !(logsBefore ?? []).includes(row))
      .map((row) => JSON.parse(row));
    expect(added).toEqual([
      expect.objectContaining({ verdict: "rejected", error_type: "psp_token_invalid", deposit_id: null }),
    ]);
  });

  it("still lets tenant A use every mapped route with its own ids afterwards", async () => {
    const failures = new Failures();
    const routes = tenantScoped().filter(
      (r) => ROUTE_FIXTURES[r.url] && !ROUTE_FIXTURES[r.url]!.noPositiveCheck,
    );
    // Reads first, deletions last, so each request still finds its object.
    const rank = (r: RouteEntry) => (r.method === "GET" ? 0 : r.method === "DELETE" ? 2 : 1);
    for (const r of [...routes].sort((x, y) => rank(x) - rank(y))) {
      const res = await send(ownerOf(r), r, resolveParams(r));
      failures.check(r, ![401, 403, 404].includes(res.statusCode), () => brief(res));
    }
    expect(failures.list).toEqual([]);
  });
});
