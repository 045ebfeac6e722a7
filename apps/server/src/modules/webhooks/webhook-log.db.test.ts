import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { fixedClock } from "../../common/clock.js";
import { insertDeposit, sendSignedCallback } from "../../test/callback-client.js";
import { insertPaymentSetup } from "../../test/payment-fixtures.js";
import { createTestApp, seedTenant, type TestApp } from "../../test/test-app.js";
import { startWebhookReceiver, type WebhookReceiver } from "../../test/webhook-receiver.js";
import { type DeliveryDeps, runDueDeliveries } from "./delivery-worker.js";
import { getEndpoint } from "./manage-endpoints.js";
import { runDueReplays } from "./replay-tasks.js";

const T0 = Date.UTC(2026, 11, 5, 12, 0, 0);
const clock = fixedClock(T0);
let t: TestApp;
let deps: DeliveryDeps;
const receivers: WebhookReceiver[] = [];
const BASE = "/api/admin/webhooks/endpoints";

beforeAll(async () => {
  t = await createTestApp({ clock, configOverrides: { allowPrivateAppUrls: true } });
  deps = { ...t.ctx, random: () => 0.5 };
});
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});
afterAll(async () => {
  await t.close();
});

async function drain() {
  let n = 0;
  for (let got = 1; got > 0; n += got) got = await runDueDeliveries(deps, 50);
  return n;
}

/** A tenant of its own (so no other test's events fall in a range), a receiver, and an endpoint. */
async function setup(eventTypes: string[] = ["*"]) {
  const tenant = await seedTenant(t);
  const rx = await startWebhookReceiver();
  receivers.push(rx);
  const res = await tenant.owner.post(BASE, { url: rx.url, eventTypes });
  expect(res.statusCode, res.body).toBe(201);
  const endpointId = res.json().endpoint.id as string;
  const fx = await insertPaymentSetup(t.ctx, tenant.tenantId);
  /** A deposit credited by its callback: deposit.succeeded (1) and wallet.credited (2). */
  const credited = async () => {
    clock.advance(1000);
    const dep = await insertDeposit(t.ctx, fx);
    await sendSignedCallback(t.app, fx, dep);
    return dep;
  };
  return { tenant, rx, endpointId, credited };
}

const dueAt = async (endpointId: string) =>
  (
    await t.ctx.db
      .selectFrom("webhook_deliveries")
      .select(["seq", "status", "due_at"])
      .where("endpoint_id", "=", endpointId)
      .orderBy("seq")
      .execute()
  ).map((d) => [Number(d.seq), d.status, d.due_at === null ? null : Number(d.due_at)]);

describe("range replay", () => {
  it("queues exactly the matching events over several chunks, reporting progress until done", async () => {
    const { tenant, rx, endpointId, credited } = await setup();
    for (let i = 0; i < 3; i++) await credited();
    expect(await drain()).toBe(6);
    const from = T0;
    const res = await tenant.admin.post(`${BASE}/${endpointId}/replays`, {
      from,
      to: clock.now(),
      eventType: "wallet.credited",
    });
    expect(res.statusCode, res.body).toBe(202);
    const task = res.json();
    expect(task).toMatchObject({ kind: "replay", state: "running", total: 3, done: 0, onlyFailed: false });
    const progress = async () => (await tenant.viewer.get(`${BASE}/${endpointId}/replays`)).json().items[0];

    expect(await runDueReplays(t.ctx, 5, 2)).toBe(1);
    expect(await progress()).toMatchObject({ id: task.id, state: "running", done: 2, finishedAt: null });
    expect(await runDueReplays(t.ctx, 5, 2)).toBe(1);
    expect(await progress()).toMatchObject({ state: "done", done: 3, finishedAt: clock.now() });
    expect(await runDueReplays(t.ctx, 5, 2)).toBe(0);

    const before = rx.received.length;
    expect(await drain()).toBe(3);
    const again = rx.received.slice(before);
    expect(again.every((w) => w.json.type === "wallet.credited")).toBe(true);
    // The same webhook-ids as the first time: receivers dedupe on them.
    const firstIds = rx.received
      .slice(0, before)
      .filter((w) => w.json.type === "wallet.credited")
      .map((w) => w.headers["webhook-id"]);
    expect(again.map((w) => w.headers["webhook-id"]).sort()).toEqual(firstIds.sort());
  });

  it("onlyFailed leaves delivered events alone; an empty range is done at once", async () => {
    const { tenant, rx, endpointId, credited } = await setup(["deposit.succeeded"]);
    await credited();
    await drain();
    const res = await tenant.admin.post(`${BASE}/${endpointId}/replays`, {
      from: T0,
      to: clock.now(),
      onlyFailed: true,
    });
    expect(res.json()).toMatchObject({ total: 1, onlyFailed: true, state: "running" });
    await runDueReplays(t.ctx, 5);
    expect(await drain()).toBe(0);
    expect(rx.received).toHaveLength(1);
    const empty = await tenant.admin.post(`${BASE}/${endpointId}/replays`, {
      from: clock.now() + 1,
      to: clock.now() + 2,
    });
    expect(empty.json()).toMatchObject({ total: 0, done: 0, state: "done" });
    expect((await tenant.admin.post(`${BASE}/nope/replays`, { from: 1, to: 2 })).statusCode).toBe(404);
    expect((await tenant.viewer.get(`${BASE}/nope/replays`)).statusCode).toBe(404);
    expect((await tenant.viewer.post(`${BASE}/${endpointId}/replays`, { from: 1, to: 2 })).statusCode).toBe(
      403,
    );
  });

  it("keeps an order's events in sequence: a replayed later event waits, without a due time, for the earlier", async () => {
    const { tenant, rx, endpointId, credited } = await setup();
    await credited();
    await drain();
    rx.respond = (w) => (w.json.type === "deposit.succeeded" ? { status: 500 } : { status: 200 });
    await tenant.admin.post(`${BASE}/${endpointId}/replays`, { from: T0, to: clock.now() });
    await runDueReplays(t.ctx, 5);
    expect(await dueAt(endpointId)).toEqual([
      [1, "pending", clock.now()],
      [2, "pending", null],
    ]);
    expect(await drain()).toBe(1);
    expect(rx.received.at(-1)?.json.type).toBe("deposit.succeeded");
    rx.respond = () => ({ status: 200 });
    clock.advance(6000);
    await drain();
    expect(rx.received.slice(2).map((w) => [w.json.type, w.json.data.sequence])).toEqual([
      ["deposit.succeeded", 1],
      ["deposit.succeeded", 1],
      ["wallet.credited", 2],
    ]);
    expect((await dueAt(endpointId)).map((d) => d[1])).toEqual(["delivered", "delivered"]);
  });
});

describe("replay of one delivery", () => {
  it("waits while its endpoint is disabled and goes out once it is enabled; 404 for an unknown one", async () => {
    const { tenant, rx, endpointId, credited } = await setup(["deposit.succeeded"]);
    await credited();
    await drain();
    const eventId = String(rx.received[0]?.headers["webhook-id"]);
    expect((await tenant.admin.post(`${BASE}/${endpointId}/disable`, {})).statusCode).toBe(200);
    const res = await tenant.admin.post(`${BASE}/${endpointId}/deliveries/${eventId}/replay`, {});
    expect(res.json()).toMatchObject({ eventId, status: "pending", attempts: 0, nextAttemptAt: null });
    expect(await drain()).toBe(0);
    await tenant.admin.post(`${BASE}/${endpointId}/enable`, {});
    expect(await drain()).toBe(1);
    expect(rx.received.map((w) => w.headers["webhook-id"])).toEqual([eventId, eventId]);
    const detail = (await tenant.viewer.get(`${BASE}/${endpointId}/deliveries/${eventId}`)).json();
    expect(detail.delivery).toMatchObject({ status: "delivered", attempts: 1 });
    expect(detail.attempts).toHaveLength(2);
    expect(
      (await tenant.admin.post(`${BASE}/${endpointId}/deliveries/msg_unknown/replay`, {})).statusCode,
    ).toBe(404);
    const audit = await t.ctx.db
      .selectFrom("audit_log")
      .select("action")
      .where("target_id", "=", endpointId)
      .where("action", "=", "webhook_delivery.replay")
      .execute();
    expect(audit).toHaveLength(1);
  });
});

describe("test event", () => {
  it("goes to the one endpoint whatever its subscription, not to the others; refused while disabled", async () => {
    const { tenant, rx, endpointId } = await setup(["deposit.succeeded"]);
    const other = await startWebhookReceiver();
    receivers.push(other);
    expect((await tenant.owner.post(BASE, { url: other.url })).statusCode).toBe(201);
    const res = await tenant.admin.post(`${BASE}/${endpointId}/test`, {});
    expect(res.statusCode).toBe(202);
    const { eventId } = res.json();
    expect(eventId).toMatch(/^msg_/);
    expect(await drain()).toBe(1);
    expect(other.received).toHaveLength(0);
    expect(rx.received[0]?.headers["webhook-id"]).toBe(eventId);
    expect(rx.received[0]?.json).toMatchObject({
      type: "webhook.test",
      data: { endpointId, message: "This is a test event from psphub." },
    });
    expect((await tenant.viewer.post(`${BASE}/${endpointId}/test`, {})).statusCode).toBe(403);
    await tenant.admin.post(`${BASE}/${endpointId}/disable`, {});
    expect((await tenant.admin.post(`${BASE}/${endpointId}/test`, {})).statusCode).toBe(409);
  });
});

describe("endpoint figures", () => {
  it("counts the last 24 h's attempts and successes, the backlog and the next retry, and the last attempts", async () => {
    const { tenant, rx, endpointId, credited } = await setup(["deposit.succeeded"]);
    const view = async () => (await tenant.viewer.get(`${BASE}/${endpointId}`)).json();
    expect((await view()).stats).toEqual({
      attempts24h: 0,
      succeeded24h: 0,
      successRate24h: null,
      pending: 0,
      failed: 0,
      nextRetryAt: null,
    });
    await credited();
    await drain();
    rx.respond = () => ({ status: 503 });
    await credited();
    await drain();
    const v = await view();
    expect(v.stats).toEqual({
      attempts24h: 2,
      succeeded24h: 1,
      successRate24h: 0.5,
      pending: 1,
      failed: 0,
      nextRetryAt: clock.now() + 5000,
    });
    expect(v.lastAttempts.map((a: { responseStatus: number }) => a.responseStatus)).toEqual([503, 200]);
    expect(v.failingSince).toBe(clock.now());
    expect((await tenant.viewer.get(BASE)).json().items.map((e: { id: string }) => e.id)).toEqual([
      endpointId,
    ]);
    // A day later the attempts have aged out of the figures; the backlog has not. (Read without
    // HTTP: the staff session has expired by then.)
    clock.advance(24 * 3600_000 + 1);
    expect((await getEndpoint(t.ctx, tenant.tenantId, endpointId)).stats).toMatchObject({
      attempts24h: 0,
      successRate24h: null,
      pending: 1,
    });
  });
});
