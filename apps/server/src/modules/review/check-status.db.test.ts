import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { newId } from "../../common/ids.js";
import { type Api1Stub, type StubAnswer, startApi1Stub } from "../../test/api1-stub.js";
import { insertAssistanceItem } from "../../test/assistance-items.js";
import {
  callbackFields,
  callbackJson,
  depositRow,
  insertDeposit,
  ledgerEntriesOf,
  type TestDeposit,
} from "../../test/callback-client.js";
import { insertPaymentSetup, type PaymentFixture } from "../../test/payment-fixtures.js";
import { paymentInvariantsAfterEach } from "../../test/payment-invariants.js";
import { createTestApp, seedTenant, type TestApp } from "../../test/test-app.js";

// "Check status now" from the queue, against a real backend on loopback (the API-1 stub
// answering /pay/status as each test says).

let t: TestApp;
let stub: Api1Stub;
let tenant: Awaited<ReturnType<typeof seedTenant>>;
let other: Awaited<ReturnType<typeof seedTenant>>;
let fx: PaymentFixture;

beforeAll(async () => {
  stub = await startApi1Stub();
  t = await createTestApp({ configOverrides: { allowPrivateAppUrls: true } });
  tenant = await seedTenant(t, "check-a");
  other = await seedTenant(t, "check-b");
  fx = await insertPaymentSetup(t.ctx, tenant.tenantId, { appUrl: stub.url, api1TimeoutMs: 1000 });
  stub.token = fx.token;
  await apiThree(true);
});
afterAll(async () => {
  await t?.close();
  await stub?.close();
});
beforeEach(() => {
  stub.respond = () => ({ status: 500, body: "" });
});
paymentInvariantsAfterEach(() => t?.ctx);

const apiThree = (on: boolean) =>
  t.ctx.db
    .updateTable("psp_integrations")
    .set({ status_query_enabled: on ? 1 : 0, status_query_timeout_ms: 1000 })
    .where("id", "=", fx.integrationId)
    .execute();

async function flagged(): Promise<{ dep: TestDeposit; itemId: string }> {
  const dep = await insertDeposit(t.ctx, fx, {
    status: "processing",
    payment_url: "https://pay.example.com/p",
  });
  const itemId = newId();
  await insertAssistanceItem(t.ctx, {
    id: itemId,
    tenantId: tenant.tenantId,
    depositId: dep.id,
    now: Date.now(),
  });
  return { dep, itemId };
}
const answer = (body: string): StubAnswer => ({
  status: 200,
  body,
  headers: { "content-type": "application/json" },
});
const paid = (dep: TestDeposit) =>
  answer(`{"result":true,"msg":"","data":${callbackJson(callbackFields(fx, dep, {}), fx.token)}}`);
const check = (s = tenant.admin, id: string) => s.post(`/api/admin/review/${id}/check-status`, {});
const manualQueries = async (depositId: string) =>
  (
    await t.ctx.db
      .selectFrom("deposit_events")
      .select("data")
      .where("deposit_id", "=", depositId)
      .where("kind", "=", "status_query")
      .execute()
  ).map((e) => JSON.parse(e.data));

describe("check status now", () => {
  it("credits once when the backend reports the order paid, and the item closes as settled", async () => {
    const { dep, itemId } = await flagged();
    stub.respond = () => paid(dep);
    const res = await check(tenant.finance, itemId);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      query: { outcome: "found", verdict: "accepted", depositStatus: "succeeded" },
      item: { status: "resolved", resolution: "settled", deposit: { status: "succeeded" } },
    });
    expect(await ledgerEntriesOf(t.ctx, dep.id)).toHaveLength(1);
    expect(await manualQueries(dep.id)).toEqual([
      expect.objectContaining({ trigger: "manual", outcome: "found" }),
    ]);
    const audit = await t.ctx.db
      .selectFrom("audit_log")
      .select("action")
      .where("target_id", "=", itemId)
      .execute();
    expect(audit.map((a) => a.action)).toEqual(["review.check_status"]);
    expect((await check(tenant.admin, itemId)).statusCode).toBe(409);
  });

  it("leaves the item open when the backend still does not know the order or does not answer", async () => {
    const { dep, itemId } = await flagged();
    stub.respond = () => answer('{"result":false,"msg":"order not found","data":{"code":"order_not_found"}}');
    const res = await check(tenant.admin, itemId);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      query: { outcome: "not_found", depositStatus: "processing" },
      item: { status: "open" },
    });
    stub.respond = () => ({ status: 502, body: "" });
    const failed = await check(tenant.admin, itemId);
    expect(failed.json()).toMatchObject({ query: { outcome: "failed" }, item: { status: "open" } });
    expect((await depositRow(t.ctx, dep.id))?.status).toBe("processing");
    expect(await ledgerEntriesOf(t.ctx, dep.id)).toHaveLength(0);
    await tenant.admin.post(`/api/admin/review/${itemId}/mark-failed`, { comment: "cleanup" });
  });

  it("answers 409 when API-3 is off, 404 to another tenant, 403 to a viewer", async () => {
    const { itemId } = await flagged();
    const queried = stub.requests.length;
    await apiThree(false);
    try {
      const off = await check(tenant.admin, itemId);
      expect(off.statusCode).toBe(409);
      expect(off.json().error.code).toBe("status_query_disabled");
    } finally {
      await apiThree(true);
    }
    expect((await check(other.owner, itemId)).statusCode).toBe(404);
    expect((await check(tenant.viewer, itemId)).statusCode).toBe(403);
    // None of them reached the backend.
    expect(stub.requests.length).toBe(queried);
    await tenant.admin.post(`/api/admin/review/${itemId}/mark-failed`, { comment: "cleanup" });
  });
});
