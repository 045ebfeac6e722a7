import { randomBytes } from "node:crypto";
import { newWebhookSecret } from "@psphub/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type AppContext, createAppContext } from "../../app-context.js";
import { fixedClock } from "../../common/clock.js";
import { writeTransaction } from "../../infra/db/database.js";
import { startApi1Stub } from "../../test/api1-stub.js";
import { insertDeposit, ledgerEntriesOf, sendSignedCallback } from "../../test/callback-client.js";
import { insertPaymentSetup, type PaymentFixture } from "../../test/payment-fixtures.js";
import { createTestApp, type TestApp } from "../../test/test-app.js";
import { testDbKind } from "../../test/test-database.js";
import { seedWebhookEndpoint, storedWebhookEvents } from "../../test/webhook-fixtures.js";
import { signedWith, startWebhookReceiver, type WebhookReceiver } from "../../test/webhook-receiver.js";
import { createDeposit } from "../deposits/create-deposit.js";
import { settleResult } from "../settlement/settle.js";
import { createTenant } from "../tenants/create-tenant.js";
import { type DeliveryDeps, runDueDeliveries } from "./delivery-worker.js";
import { DISABLE_AFTER_MS, RETRY_DELAYS_MS } from "./retry-policy.js";

const T0 = Date.UTC(2026, 11, 5, 12, 0, 0);
const clock = fixedClock(T0);
let t: TestApp;
let deps: DeliveryDeps;
const receivers: WebhookReceiver[] = [];

beforeAll(async () => {
  t = await createTestApp({ clock, configOverrides: { allowPrivateAppUrls: true } });
  // The jitter's middle: every retry is due exactly its schedule's delay later.
  deps = { ...t.ctx, random: () => 0.5 };
});
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});
afterAll(async () => {
  await t.close();
});

/** A tenant of its own (so no other test's endpoints get its events), a payment setup and a receiver. */
async function setup(eventTypes?: string[], appUrl?: string) {
  const slug = `w${randomBytes(4).toString("hex")}`;
  const { tenantId } = await createTenant(t.ctx, {
    slug,
    name: slug,
    owner: { email: `owner@${slug}.test`, name: "Owner", password: "correct horse battery" },
  });
  const fx = await insertPaymentSetup(t.ctx, tenantId, appUrl ? { appUrl } : {});
  const rx = await receiver();
  const ep = await seedWebhookEndpoint(t.ctx, tenantId, { url: rx.url, eventTypes });
  return { tenantId, fx, rx, ...ep };
}

async function receiver() {
  const rx = await startWebhookReceiver();
  receivers.push(rx);
  return rx;
}

async function credit(fx: PaymentFixture, overrides = {}) {
  const dep = await insertDeposit(t.ctx, fx);
  const res = await sendSignedCallback(t.app, fx, dep, overrides);
  expect(res.statusCode).toBe(204);
  return dep;
}

/** Runs the worker until nothing is due now; returns how many deliveries it attempted. */
async function drain(d: DeliveryDeps = deps): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await runDueDeliveries(d, 50);
    if (n === 0) return total;
    total += n;
  }
}

const delivery = (endpointId: string) =>
  t.ctx.db.selectFrom("webhook_deliveries").selectAll().where("endpoint_id", "=", endpointId).execute();

describe("the outbox", () => {
  it("writes an event in the transaction of its credit: a rollback leaves none, a commit leaves it until delivered", async () => {
    const { tenantId, fx, rx, secret, endpointId } = await setup();
    const dep = await insertDeposit(t.ctx, fx);
    await expect(
      writeTransaction(t.ctx.db, async (trx) => {
        await settleResult(trx, t.ctx, { tenantId, depositId: dep.id, to: "succeeded", cause: "manual" });
        throw new Error("rolled back");
      }),
    ).rejects.toThrow("rolled back");
    expect(await storedWebhookEvents(t.ctx, tenantId)).toEqual([]);
    expect(await ledgerEntriesOf(t.ctx, dep.id)).toEqual([]);

    await sendSignedCallback(t.app, fx, dep);
    const events = await storedWebhookEvents(t.ctx, tenantId);
    expect(events.map((e) => [e.type, e.seq])).toEqual([
      ["deposit.succeeded", 1],
      ["wallet.credited", 2],
    ]);
    expect(events[0]?.data).toMatchObject({
      depositId: dep.id,
      orderNo: dep.orderNo,
      status: "succeeded",
      previousStatus: "pending",
      amount: "100.00",
      currency: "USD",
      cause: "callback",
      quote: null,
    });
    // Stored is not delivered: both wait for the worker.
    expect((await delivery(endpointId)).map((d) => d.status)).toEqual(["pending", "pending"]);
    expect(rx.received).toEqual([]);

    expect(await drain()).toBe(2);
    expect(rx.received.map((w) => [w.json.type, w.json.data.sequence, w.headers["webhook-id"]])).toEqual([
      ["deposit.succeeded", 1, events[0]?.id],
      ["wallet.credited", 2, events[1]?.id],
    ]);
    for (const w of rx.received) {
      expect(await signedWith(w, secret)).toBe(true);
      expect(w.headers["content-type"]).toBe("application/json");
      expect(w.json.timestamp).toBe(new Date(T0).toISOString());
    }
    expect(rx.received[1]?.json.data).toMatchObject({
      creditAmount: expect.any(String),
      walletId: expect.any(String),
    });
  });

  it("writes deposit.created with the order, in the statement that creates it", async () => {
    const stub = await startApi1Stub();
    const { tenantId, fx, rx } = await setup(["deposit.created"], stub.url);
    try {
      stub.token = fx.token;
      const view = await createDeposit(
        t.ctx,
        { kind: "client", tenantId, clientId: fx.clientId },
        { methodId: fx.methodId, currency: "USD", amount: "50.00" },
      );
      const events = await storedWebhookEvents(t.ctx, tenantId);
      expect(events.map((e) => [e.type, e.seq, e.data.orderNo, e.data.previousStatus, e.data.cause])).toEqual(
        [["deposit.created", 1, view.orderNo, null, "client"]],
      );
      expect(await drain()).toBe(1);
      expect(rx.received[0]?.json.data).toMatchObject({
        amount: "50.00",
        currency: "USD",
        status: "pending",
      });
    } finally {
      await stub.close();
    }
  });
});

describe("delivery", () => {
  it("at least once: 500 three times, then 200, gets the event there with the same webhook-id each time, on the schedule", async () => {
    const { fx, rx, endpointId } = await setup(["deposit.succeeded"]);
    rx.respond = () => (rx.received.length <= 3 ? { status: 500, body: "boom" } : { status: 200 });
    await credit(fx);
    for (let i = 0; i < 3; i++) {
      expect(await drain()).toBe(1);
      const [d] = await delivery(endpointId);
      expect(d).toMatchObject({ status: "pending", attempts: i + 1, last_http_status: 500 });
      expect(Number(d?.due_at)).toBe(clock.now() + (RETRY_DELAYS_MS[i] as number));
      // Not before its time.
      clock.advance((RETRY_DELAYS_MS[i] as number) - 1);
      expect(await drain()).toBe(0);
      clock.advance(1);
    }
    expect(await drain()).toBe(1);
    expect(rx.received).toHaveLength(4);
    expect(new Set(rx.received.map((w) => w.headers["webhook-id"])).size).toBe(1);
    expect(new Set(rx.received.map((w) => w.body)).size).toBe(1);
    const [d] = await delivery(endpointId);
    expect(d).toMatchObject({ status: "delivered", attempts: 4, due_at: null, last_http_status: 200 });
    const log = await t.ctx.db
      .selectFrom("webhook_attempts")
      .selectAll()
      .where("endpoint_id", "=", endpointId)
      .orderBy("attempt")
      .execute();
    expect(log.map((a) => [a.attempt, a.response_status, a.response_body])).toEqual([
      [1, 500, "boom"],
      [2, 500, "boom"],
      [3, 500, "boom"],
      [4, 200, ""],
    ]);
    expect(JSON.parse(log[0]?.request_headers as string)).toMatchObject({ "webhook-id": d?.event_id });
  });

  it("opens webhook_failing at an event's 4th consecutive failure and resolves it at the next success", async () => {
    const { tenantId, fx, rx, endpointId } = await setup(["deposit.succeeded"]);
    rx.respond = () => (rx.received.length <= 4 ? { status: 502 } : { status: 204 });
    await credit(fx);
    const alert = () =>
      t.ctx.db
        .selectFrom("alerts")
        .select(["status", "kind"])
        .where("integration_id", "=", endpointId)
        .where("kind", "=", "webhook_failing")
        .execute();
    for (let i = 0; i < 4; i++) {
      await drain();
      expect(await alert()).toEqual(i < 3 ? [] : [{ status: "open", kind: "webhook_failing" }]);
      clock.advance(RETRY_DELAYS_MS[i] as number);
    }
    await drain();
    expect(await alert()).toEqual([{ status: "resolved", kind: "webhook_failing" }]);
    const types = (await storedWebhookEvents(t.ctx, tenantId)).map((e) => e.type);
    expect(types.filter((x) => x.startsWith("alert."))).toEqual(["alert.opened", "alert.resolved"]);
  });

  it("keeps one order's events in sequence per endpoint: a failing first one holds the rest back", async () => {
    const { fx, rx } = await setup();
    rx.respond = () => (rx.received.length === 1 ? { status: 500 } : { status: 200 });
    const dep = await insertDeposit(t.ctx, fx);
    expect((await sendSignedCallback(t.app, fx, dep, { status: 2 })).statusCode).toBe(204);
    expect((await sendSignedCallback(t.app, fx, dep)).statusCode).toBe(204);
    expect(await drain()).toBe(1);
    expect(rx.received.map((w) => w.json.data.sequence)).toEqual([1]);
    clock.advance(RETRY_DELAYS_MS[0] as number);
    await drain();
    expect(rx.received.map((w) => [w.json.data.sequence, w.json.type, w.json.data.previousStatus])).toEqual([
      [1, "deposit.processing", "pending"],
      [1, "deposit.processing", "pending"],
      [2, "deposit.succeeded", "processing"],
      [3, "wallet.credited", "processing"],
    ]);
  });

  it("signs with both secrets during a rotation's overlap, then with the new one only", async () => {
    const { fx, rx, endpointId, secret: old } = await setup(["deposit.succeeded"]);
    const fresh = newWebhookSecret();
    await t.ctx.db
      .updateTable("webhook_endpoints")
      .set({
        secret_enc: t.ctx.secretBox.seal(fresh),
        previous_secret_enc: t.ctx.secretBox.seal(old),
        previous_expires_at: clock.now() + 24 * 3600_000,
      })
      .where("id", "=", endpointId)
      .execute();
    await credit(fx);
    await drain();
    const during = rx.received[0] as (typeof rx.received)[number];
    expect(String(during.headers["webhook-signature"]).split(" ")).toHaveLength(2);
    expect(await signedWith(during, fresh)).toBe(true);
    expect(await signedWith(during, old)).toBe(true);

    clock.advance(24 * 3600_000);
    await credit(fx);
    await drain();
    const after = rx.received[1] as (typeof rx.received)[number];
    expect(String(after.headers["webhook-signature"]).split(" ")).toHaveLength(1);
    expect(await signedWith(after, fresh)).toBe(true);
    expect(await signedWith(after, old)).toBe(false);
  });

  it("410 disables the endpoint, raises webhook_disabled and tells the other endpoints", async () => {
    const { tenantId, fx, rx, endpointId } = await setup(["deposit.succeeded"]);
    const other = await receiver();
    const second = await seedWebhookEndpoint(t.ctx, tenantId, {
      url: other.url,
      eventTypes: ["endpoint.disabled"],
    });
    rx.respond = () => ({ status: 410, body: "gone" });
    await credit(fx);
    await drain();
    // Refused with 410: disabled. Its delivery waits, due again on the schedule once the
    // endpoint is enabled; a later event is stored with no delivery there (recovery adds them).
    await credit(fx);
    clock.advance(RETRY_DELAYS_MS[0] as number);
    await drain();
    expect(rx.received).toHaveLength(1);
    expect((await delivery(endpointId)).map((d) => [d.status, d.attempts])).toEqual([["pending", 1]]);
    expect(
      (await storedWebhookEvents(t.ctx, tenantId)).filter((e) => e.type === "deposit.succeeded"),
    ).toHaveLength(2);
    const ep = await t.ctx.db
      .selectFrom("webhook_endpoints")
      .selectAll()
      .where("id", "=", endpointId)
      .executeTakeFirstOrThrow();
    expect(ep).toMatchObject({ enabled: 0, disabled_reason: "gone" });
    const alerts = await t.ctx.db
      .selectFrom("alerts")
      .selectAll()
      .where("integration_id", "=", endpointId)
      .execute();
    expect(alerts.map((a) => [a.kind, a.status])).toEqual([["webhook_disabled", "open"]]);
    expect(other.received.map((w) => [w.json.type, w.json.data.endpointId, w.json.data.reason])).toEqual([
      ["endpoint.disabled", endpointId, "gone"],
    ]);
    expect(second.endpointId).not.toBe(endpointId);
  });

  it("honours Retry-After on 429: the next attempt waits for it, not for the schedule's 5 s", async () => {
    const { fx, rx, endpointId } = await setup(["deposit.succeeded"]);
    rx.respond = () =>
      rx.received.length === 1 ? { status: 429, headers: { "retry-after": "120" } } : { status: 200 };
    await credit(fx);
    await drain();
    const [d] = await delivery(endpointId);
    expect(Number(d?.due_at)).toBe(clock.now() + 120_000);
    clock.advance(RETRY_DELAYS_MS[0] as number);
    expect(await drain()).toBe(0);
    clock.advance(120_000);
    expect(await drain()).toBe(1);
    expect(rx.received).toHaveLength(2);
  });

  it("disables an endpoint that has failed for 5 days without a success", async () => {
    const { fx, rx, endpointId } = await setup(["deposit.succeeded"]);
    rx.respond = () => ({ status: 500 });
    await t.ctx.db
      .updateTable("webhook_endpoints")
      .set({ failing_since: clock.now() - DISABLE_AFTER_MS + 1000 })
      .where("id", "=", endpointId)
      .execute();
    await credit(fx);
    await drain();
    const enabled = async () =>
      (
        await t.ctx.db
          .selectFrom("webhook_endpoints")
          .select(["enabled", "disabled_reason"])
          .where("id", "=", endpointId)
          .executeTakeFirstOrThrow()
      ).enabled;
    expect(await enabled()).toBe(1);
    clock.advance(RETRY_DELAYS_MS[0] as number);
    await drain();
    expect(await enabled()).toBe(0);
    expect(
      await t.ctx.db
        .selectFrom("alerts")
        .select("kind")
        .where("integration_id", "=", endpointId)
        .where("status", "=", "open")
        .execute(),
    ).toEqual([{ kind: "webhook_disabled" }]);
  });
});

describe("two processes", () => {
  // SQLite is one process with one writer; several processes share PostgreSQL.
  it.skipIf(testDbKind() !== "postgres")(
    "deliver each event once in the normal case, and one order's events in sequence",
    async () => {
      const { fx, rx } = await setup();
      const deps2Ctx: AppContext = createAppContext(t.ctx.config, { logger: t.ctx.logger, clock });
      try {
        const deps2: DeliveryDeps = { ...deps2Ctx, random: () => 0.5 };
        for (let i = 0; i < 20; i++) {
          const dep = await insertDeposit(t.ctx, fx);
          await sendSignedCallback(t.app, fx, dep, { status: 2 });
          await sendSignedCallback(t.app, fx, dep);
        }
        for (;;) {
          const [a, b] = await Promise.all([runDueDeliveries(deps, 8), runDueDeliveries(deps2, 8)]);
          if (a + b === 0) break;
        }
        expect(rx.received).toHaveLength(60);
        const ids = rx.received.map((w) => w.headers["webhook-id"]);
        expect(new Set(ids).size).toBe(60);
        const byOrder = new Map<string, number[]>();
        for (const w of rx.received) {
          const k = String(w.json.data.orderNo);
          byOrder.set(k, [...(byOrder.get(k) ?? []), Number(w.json.data.sequence)]);
        }
        for (const seqs of byOrder.values()) expect(seqs).toEqual([1, 2, 3]);
      } finally {
        await deps2Ctx.close();
      }
    },
  );
});
