import { webhookSignatures } from "@psphub/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { fixedClock } from "../../common/clock.js";
import { insertDeposit, sendSignedCallback } from "../../test/callback-client.js";
import { insertPaymentSetup } from "../../test/payment-fixtures.js";
import { createTestApp, seedTenant, type TestApp } from "../../test/test-app.js";
import { startWebhookReceiver, type WebhookReceiver } from "../../test/webhook-receiver.js";
import { type DeliveryDeps, runDueDeliveries } from "./delivery-worker.js";
import { runDueReplays } from "./replay-tasks.js";

const T0 = Date.UTC(2026, 11, 5, 12, 0, 0);
const clock = fixedClock(T0);
let t: TestApp;
let deps: DeliveryDeps;
let tenant: Awaited<ReturnType<typeof seedTenant>>;
const receivers: WebhookReceiver[] = [];
const BASE = "/api/admin/webhooks/endpoints";

beforeAll(async () => {
  t = await createTestApp({ clock, configOverrides: { allowPrivateAppUrls: true } });
  deps = { ...t.ctx, random: () => 0.5 };
  tenant = await seedTenant(t);
});
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});
afterAll(async () => {
  await t.close();
});

async function receiver() {
  const rx = await startWebhookReceiver();
  receivers.push(rx);
  return rx;
}

async function drain() {
  let n = 0;
  for (let got = 1; got > 0; n += got) got = await runDueDeliveries(deps, 50);
  return n;
}

const auditActions = async (endpointId: string) =>
  (
    await t.ctx.db
      .selectFrom("audit_log")
      .select(["action", "before", "after"])
      .where("target_id", "=", endpointId)
      .orderBy("created_at")
      .orderBy("id")
      .execute()
  ).map((r) => r.action);

async function create(body: Record<string, unknown>) {
  const res = await tenant.owner.post(BASE, body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { endpoint: { id: string; url: string; eventTypes: string[] }; secret: string };
}

describe("endpoints", () => {
  it("are created with a secret shown once, never again in any answer or the audit log, and audited", async () => {
    const rx = await receiver();
    const res = await tenant.owner.post(BASE, {
      url: rx.url,
      description: "Risk engine",
      eventTypes: ["deposit.succeeded"],
    });
    expect(res.statusCode).toBe(201);
    expect(res.headers["cache-control"]).toBe("no-store");
    const { endpoint, secret } = res.json();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(endpoint).toMatchObject({
      url: rx.url,
      description: "Risk engine",
      eventTypes: ["deposit.succeeded"],
      enabled: true,
      stats: { attempts24h: 0, successRate24h: null, pending: 0 },
    });
    const listed = await tenant.viewer.get(BASE);
    const one = await tenant.viewer.get(`${BASE}/${endpoint.id}`);
    for (const r of [listed, one]) {
      expect(r.statusCode).toBe(200);
      expect(r.body).not.toContain(secret);
      expect(r.body).not.toContain("whsec_");
    }
    const audit = JSON.stringify(await t.ctx.db.selectFrom("audit_log").selectAll().execute());
    expect(audit).not.toContain(secret.slice(6));
    expect(await auditActions(endpoint.id)).toEqual(["webhook_endpoint.create"]);
  });

  it("refuses a URL the SSRF guard refuses, an unknown event type, and changes by the wrong role", async () => {
    expect((await tenant.owner.post(BASE, { url: "ftp://example.com/x" })).statusCode).toBe(400);
    expect(
      (await tenant.owner.post(BASE, { url: "https://127.0.0.1/x", eventTypes: ["deposit.teleported"] }))
        .statusCode,
    ).toBe(400);
    expect((await tenant.viewer.post(BASE, { url: "https://127.0.0.1/x" })).statusCode).toBe(403);
    expect((await tenant.finance.post(BASE, { url: "https://127.0.0.1/x" })).statusCode).toBe(403);
    const { endpoint } = await create({ url: "https://127.0.0.1/x" });
    expect((await tenant.finance.post(`${BASE}/${endpoint.id}/rotate`, {})).statusCode).toBe(403);
    expect((await tenant.viewer.put(`${BASE}/${endpoint.id}`, { description: "x" })).statusCode).toBe(403);
    const strict = await createTestApp({ configOverrides: { allowPrivateAppUrls: false } });
    try {
      const s = await seedTenant(strict);
      const r = await s.owner.post(BASE, { url: "https://127.0.0.1/x" });
      expect(r.statusCode).toBe(400);
      expect(r.json().details ?? r.json()).toBeTruthy();
    } finally {
      await strict.close();
    }
  });

  it("are edited, disabled, enabled and deleted, each change audited", async () => {
    const { endpoint } = await create({ url: "https://127.0.0.1/a" });
    const put = await tenant.admin.put(`${BASE}/${endpoint.id}`, {
      description: "Accounting",
      eventTypes: ["wallet.credited", "deposit.failed"],
    });
    expect(put.json()).toMatchObject({
      description: "Accounting",
      eventTypes: ["deposit.failed", "wallet.credited"],
    });
    expect((await tenant.admin.post(`${BASE}/${endpoint.id}/disable`, {})).json()).toMatchObject({
      enabled: false,
      disabledReason: "manual",
    });
    expect((await tenant.admin.post(`${BASE}/${endpoint.id}/enable`, {})).json()).toMatchObject({
      endpoint: { enabled: true },
      replay: null,
    });
    expect((await tenant.admin.delete(`${BASE}/${endpoint.id}`)).statusCode).toBe(204);
    expect((await tenant.admin.get(`${BASE}/${endpoint.id}`)).statusCode).toBe(404);
    expect(await auditActions(endpoint.id)).toEqual([
      "webhook_endpoint.create",
      "webhook_endpoint.update",
      "webhook_endpoint.disable",
      "webhook_endpoint.enable",
      "webhook_endpoint.delete",
    ]);
  });

  it("rotate: the new secret is shown once; both sign during the overlap", async () => {
    const rx = await receiver();
    const { endpoint, secret: old } = await create({ url: rx.url });
    const res = await tenant.owner.post(`${BASE}/${endpoint.id}/rotate`, { overlapHours: 2 });
    expect(res.statusCode).toBe(200);
    expect(res.headers["cache-control"]).toBe("no-store");
    const { secret, previousExpiresAt } = res.json();
    expect(previousExpiresAt).toBe(T0 + 2 * 3600_000);
    expect(secret).not.toBe(old);
    expect((await tenant.owner.get(`${BASE}/${endpoint.id}`)).json().previousSecretExpiresAt).toBe(
      previousExpiresAt,
    );
    expect((await tenant.owner.post(`${BASE}/${endpoint.id}/test`, {})).statusCode).toBe(202);
    await drain();
    const w = rx.received[0] as (typeof rx.received)[number];
    expect(w.json).toMatchObject({ type: "webhook.test", data: { endpointId: endpoint.id } });
    const sigs = String(w.headers["webhook-signature"]).split(" ");
    const msg = {
      id: String(w.headers["webhook-id"]),
      timestamp: Number(w.headers["webhook-timestamp"]),
      body: w.body,
    };
    expect(sigs.sort()).toEqual((await webhookSignatures(msg, [secret, old])).map((s) => `v1,${s}`).sort());
    expect(await auditActions(endpoint.id)).toEqual([
      "webhook_endpoint.create",
      "webhook_endpoint.rotate",
      "webhook_endpoint.test",
    ]);
  });
});

describe("the delivery log, replay and recovery", () => {
  it("lists deliveries by type, status and order; shows one with its body and attempts; replays one", async () => {
    const rx = await receiver();
    rx.respond = (w) =>
      w.json.type === "wallet.credited" ? { status: 500, body: "x".repeat(3000) } : { status: 200 };
    const { endpoint } = await create({ url: rx.url });
    const fx = await insertPaymentSetup(t.ctx, tenant.tenantId);
    const deps1 = await insertDeposit(t.ctx, fx);
    const deps2 = await insertDeposit(t.ctx, fx);
    await sendSignedCallback(t.app, fx, deps1);
    await sendSignedCallback(t.app, fx, deps2);
    await drain();
    const list = (q: string) =>
      tenant.viewer.get(`${BASE}/${endpoint.id}/deliveries${q}`).then((r) => r.json());
    expect((await list("")).total).toBe(4);
    expect((await list("?type=wallet.credited")).items.map((d: { status: string }) => d.status)).toEqual([
      "pending",
      "pending",
    ]);
    expect((await list("?status=delivered")).total).toBe(2);
    const mine = await list(`?orderNo=${deps1.orderNo}`);
    expect(mine.items.map((d: { sequence: number }) => d.sequence).sort()).toEqual([1, 2]);
    const failed = mine.items.find((d: { type: string }) => d.type === "wallet.credited");
    expect(failed).toMatchObject({ attempts: 1, lastHttpStatus: 500, nextAttemptAt: T0 + 5000 });

    const one = (await tenant.viewer.get(`${BASE}/${endpoint.id}/deliveries/${failed.eventId}`)).json();
    expect(one.body).toBe(rx.received.find((w) => w.headers["webhook-id"] === failed.eventId)?.body);
    expect(one.attempts).toHaveLength(1);
    expect(one.attempts[0]).toMatchObject({ attempt: 1, responseStatus: 500, type: "wallet.credited" });
    expect(one.attempts[0].responseBody).toHaveLength(1024);
    expect(one.attempts[0].requestHeaders).toMatchObject({ "webhook-id": failed.eventId });

    // The deposit's timeline lists its deliveries.
    const detail = (await tenant.viewer.get(`/api/admin/deposits/${deps1.id}`)).json();
    const here = detail.webhooks.filter((w: { endpointId: string }) => w.endpointId === endpoint.id);
    expect(here.map((w: { type: string; status: string }) => [w.type, w.status])).toEqual([
      ["deposit.succeeded", "delivered"],
      ["wallet.credited", "pending"],
    ]);

    rx.respond = () => ({ status: 200 });
    const replayed = await tenant.admin.post(
      `${BASE}/${endpoint.id}/deliveries/${failed.eventId}/replay`,
      {},
    );
    expect(replayed.json()).toMatchObject({ status: "pending", attempts: 0, nextAttemptAt: T0 });
    // Only the replayed one is due now; the other order's waits for its retry.
    expect(await drain()).toBe(1);
    expect((await list("?status=delivered")).total).toBe(3);
    expect(
      (await tenant.viewer.post(`${BASE}/${endpoint.id}/deliveries/${failed.eventId}/replay`, {})).statusCode,
    ).toBe(403);
  });

  it("replays a time range in the background with progress, only what matches", async () => {
    const rx = await receiver();
    const { endpoint } = await create({ url: rx.url, eventTypes: ["deposit.succeeded"] });
    const fx = await insertPaymentSetup(t.ctx, tenant.tenantId);
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      await sendSignedCallback(t.app, fx, await insertDeposit(t.ctx, fx));
    }
    await drain();
    expect(rx.received).toHaveLength(3);
    const from = T0;
    const res = await tenant.admin.post(`${BASE}/${endpoint.id}/replays`, { from, to: clock.now() });
    expect(res.statusCode).toBe(202);
    // Every deposit.succeeded in the range (earlier tests' orders of this tenant too, if any).
    const task = res.json();
    expect(task).toMatchObject({ kind: "replay", state: "running", done: 0 });
    expect(task.total).toBeGreaterThanOrEqual(3);
    expect(await runDueReplays(t.ctx, 5)).toBe(1);
    const listed = (await tenant.viewer.get(`${BASE}/${endpoint.id}/replays`)).json().items[0];
    expect(listed).toMatchObject({ id: task.id, state: "done", done: task.total });
    await drain();
    expect(rx.received.length).toBe(3 + task.total);
    expect(new Set(rx.received.map((w) => w.json.type))).toEqual(new Set(["deposit.succeeded"]));
  });

  it("recovers every event since an endpoint began failing when it is enabled again", async () => {
    const rx = await receiver();
    rx.respond = () => ({ status: 410 });
    clock.advance(1000); // past the earlier tests' events
    const { endpoint } = await create({ url: rx.url, eventTypes: ["deposit.succeeded"] });
    const fx = await insertPaymentSetup(t.ctx, tenant.tenantId);
    await sendSignedCallback(t.app, fx, await insertDeposit(t.ctx, fx));
    await drain();
    expect((await tenant.owner.get(`${BASE}/${endpoint.id}`)).json()).toMatchObject({
      enabled: false,
      disabledReason: "gone",
    });
    // While disabled: stored, not delivered there.
    clock.advance(60_000);
    await sendSignedCallback(t.app, fx, await insertDeposit(t.ctx, fx));
    rx.respond = () => ({ status: 200 });
    const on = (await tenant.owner.post(`${BASE}/${endpoint.id}/enable`, { recover: true })).json();
    expect(on.endpoint.enabled).toBe(true);
    expect(on.replay).toMatchObject({ kind: "recover", onlyFailed: true });
    await runDueReplays(t.ctx, 5);
    clock.advance(10_000);
    await drain();
    // The one refused with 410 and the one written while disabled.
    const orders = new Set(rx.received.slice(1).map((w) => w.json.data.orderNo));
    expect(orders.size).toBe(2);
    const alert = await t.ctx.db
      .selectFrom("alerts")
      .select("status")
      .where("integration_id", "=", endpoint.id)
      .execute();
    expect(alert).toEqual([{ status: "resolved" }]);
  });
});
