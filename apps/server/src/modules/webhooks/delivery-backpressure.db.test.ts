import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { fixedClock } from "../../common/clock.js";
import {
  callbackFields,
  callbackJson,
  insertDeposit,
  ledgerEntriesOf,
  sendCallback,
  sendSignedCallback,
} from "../../test/callback-client.js";
import { insertPaymentSetup } from "../../test/payment-fixtures.js";
import { createTestApp, createTestTenant, type TestApp } from "../../test/test-app.js";
import { seedWebhookEndpoint } from "../../test/webhook-fixtures.js";
import { startWebhookReceiver, type WebhookReceiver } from "../../test/webhook-receiver.js";
import { deliveryLag } from "./delivery-repo.js";
import { runDueDeliveries, startDeliveryWorker } from "./delivery-worker.js";

// Backpressure (docs/webhooks.md#backpressure): the lag it reads, the callbacks it holds, and the
// worker that feeds it. A database of its own: the lag is the whole outbox's.
const T0 = Date.UTC(2026, 11, 5, 12, 0, 0);
const clock = fixedClock(T0);
let t: TestApp;
const receivers: WebhookReceiver[] = [];

beforeAll(async () => {
  t = await createTestApp({ clock, configOverrides: { allowPrivateAppUrls: true } });
});
afterEach(async () => {
  // Nothing left due: each test starts with no lag.
  while ((await runDueDeliveries(t.ctx, 100)) > 0);
  t.ctx.deliveryBackpressure.observe(null, []);
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});
afterAll(async () => {
  await t.close();
});

async function tenantWithEndpoint() {
  const { tenantId } = await createTestTenant(t.ctx);
  const fx = await insertPaymentSetup(t.ctx, tenantId);
  const rx = await startWebhookReceiver();
  receivers.push(rx);
  const ep = await seedWebhookEndpoint(t.ctx, tenantId, { url: rx.url });
  return { tenantId, fx, rx, ...ep };
}

describe("the delivery lag", () => {
  it("is how long the oldest claimable delivery has been due, with its tenant; none once delivered", async () => {
    expect(await deliveryLag(t.ctx.db, clock.now())).toBeNull();
    const a = await tenantWithEndpoint();
    const dep = await insertDeposit(t.ctx, a.fx);
    expect((await sendSignedCallback(t.app, a.fx, dep)).statusCode).toBe(204);
    expect(await deliveryLag(t.ctx.db, clock.now())).toEqual({ lagMs: 0, tenantId: a.tenantId });
    clock.advance(300);
    expect(await deliveryLag(t.ctx.db, clock.now())).toEqual({ lagMs: 300, tenantId: a.tenantId });

    // A disabled endpoint's deliveries wait for no worker: no lag.
    await t.ctx.db
      .updateTable("webhook_endpoints")
      .set({ enabled: 0 })
      .where("id", "=", a.endpointId)
      .execute();
    expect(await deliveryLag(t.ctx.db, clock.now())).toBeNull();
    await t.ctx.db
      .updateTable("webhook_endpoints")
      .set({ enabled: 1 })
      .where("id", "=", a.endpointId)
      .execute();

    // One order's events go in sequence: the next is due once the one before is delivered.
    while ((await runDueDeliveries(t.ctx, 100)) > 0);
    expect(a.rx.received.length).toBeGreaterThan(0);
    expect(await deliveryLag(t.ctx.db, clock.now())).toBeNull();
  });

  it("counts no delivery scheduled for later (a retry's wait is not lag)", async () => {
    const a = await tenantWithEndpoint();
    a.rx.respond = () => ({ status: 500 });
    const dep = await insertDeposit(t.ctx, a.fx);
    expect((await sendSignedCallback(t.app, a.fx, dep)).statusCode).toBe(204);
    expect(await runDueDeliveries(t.ctx, 100)).toBeGreaterThan(0);
    expect(await deliveryLag(t.ctx.db, clock.now())).toBeNull();
    a.rx.respond = () => ({ status: 200 });
    clock.advance(60_000);
  });
});

describe("callbacks under backpressure", () => {
  it("holds a callback of a tenant behind until the worker has caught up, then applies it once; other tenants pass", async () => {
    const behind = await tenantWithEndpoint();
    const other = await tenantWithEndpoint();
    const bp = t.ctx.deliveryBackpressure;
    bp.observe(10_000, [behind.tenantId]);

    const held = await insertDeposit(t.ctx, behind.fx);
    const answer = sendSignedCallback(t.app, behind.fx, held);
    await vi.waitFor(() => expect(bp.held).toBe(1));
    expect(await ledgerEntriesOf(t.ctx, held.id)).toHaveLength(0);

    const free = await insertDeposit(t.ctx, other.fx);
    expect((await sendSignedCallback(t.app, other.fx, free)).statusCode).toBe(204);
    expect(await ledgerEntriesOf(t.ctx, free.id)).toHaveLength(1);
    expect(await ledgerEntriesOf(t.ctx, held.id)).toHaveLength(0);

    bp.observe(null, []);
    expect((await answer).statusCode).toBe(204);
    expect(await ledgerEntriesOf(t.ctx, held.id)).toHaveLength(1);
    expect(bp.held).toBe(0);
    const holds = (await t.ctx.metrics.callbackHolds.get()).values;
    expect(holds.find((v) => v.metricName === "psphub_callback_hold_seconds_count")?.value).toBe(1);
  });

  it("never holds a refused callback (a bad signature is answered at once)", async () => {
    const a = await tenantWithEndpoint();
    t.ctx.deliveryBackpressure.observe(10_000, [a.tenantId]);
    const dep = await insertDeposit(t.ctx, a.fx);
    const body = callbackJson(callbackFields(a.fx, dep), a.fx.token);
    const res = await sendCallback(t.app, body, { token: "not-the-token" });
    expect(res.statusCode).toBe(400);
    expect(t.ctx.deliveryBackpressure.held).toBe(0);
  });
});

describe("the worker", () => {
  it("measures its lag and holds the tenant behind while it is, and lets go once it has delivered", async () => {
    const a = await tenantWithEndpoint();
    const bp = t.ctx.deliveryBackpressure;
    const dep = await insertDeposit(t.ctx, a.fx);
    expect((await sendSignedCallback(t.app, a.fx, dep)).statusCode).toBe(204);
    clock.advance(5_000);
    // A poll far away: the loop claims only when nudged, while its lag is read every 50 ms.
    const worker = startDeliveryWorker(t.ctx, { pollMs: 600_000, concurrency: 8, backpressure: bp });
    try {
      await vi.waitFor(() => expect(bp.holds(a.tenantId)).toBe(true));
      expect(a.rx.received).toHaveLength(0);
      worker.nudge();
      await vi.waitFor(() => expect(bp.holds(a.tenantId)).toBe(false));
      expect(a.rx.received.length).toBeGreaterThan(0);
    } finally {
      await worker.stop();
    }
  });
});
