import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createAppContext } from "../../app-context.js";
import {
  callbackError,
  callbackFields,
  callbackJson,
  insertDeposit,
  sendCallback,
} from "../../test/callback-client.js";
import { insertPaymentSetup, type PaymentFixture } from "../../test/payment-fixtures.js";
import { createTestApp, seedTenant, type TestApp } from "../../test/test-app.js";
import { testDbKind } from "../../test/test-database.js";

/**
 * API-2 caches integration lookups for a second. A change must reach the cache when it commits,
 * not only when it is written: a callback read in between must not keep the old row.
 */
let t: TestApp;
let tenant: Awaited<ReturnType<typeof seedTenant>>;
let fx: PaymentFixture;
beforeAll(async () => {
  t = await createTestApp();
  tenant = await seedTenant(t);
  fx = await insertPaymentSetup(t.ctx, tenant.tenantId);
});
afterAll(async () => t?.close());

const processing = async () => {
  const d = await insertDeposit(t.ctx, fx);
  return sendCallback(t.app, callbackJson(callbackFields(fx, d, { status: 2 }), fx.token), {
    token: fx.token,
  });
};

it("a token rotated with no grace is refused at once in this process", async () => {
  expect((await processing()).statusCode).toBe(204);
  const rot = await tenant.owner.post(`/api/admin/integrations/${fx.integrationId}/rotate-token`, {
    graceHours: 0,
  });
  expect(rot.statusCode, rot.body).toBe(200);
  expect((await processing()).json()).toEqual(callbackError("psp_token_invalid"));
});

it.skipIf(testDbKind() !== "postgres")(
  "a callback read while the rotation is written but not committed does not keep the old token cached (PostgreSQL: read committed)",
  async () => {
    const f2 = await insertPaymentSetup(t.ctx, tenant.tenantId);
    fx = f2;
    expect((await processing()).statusCode).toBe(204);
    const cfg = t.ctx.config.database;
    if (cfg.kind !== "postgres") throw new Error("postgres only");
    // Hold the rotation's transaction open after its UPDATE: its audit insert waits on this lock.
    const locker = new pg.Client({ connectionString: cfg.url });
    await locker.connect();
    await locker.query("begin");
    await locker.query("lock table audit_log in exclusive mode");
    const rotation = tenant.owner.post(`/api/admin/integrations/${fx.integrationId}/rotate-token`, {
      graceHours: 0,
    });
    await new Promise((r) => setTimeout(r, 300));
    // Meanwhile a callback reads the old (still committed) row and caches it.
    expect((await processing()).statusCode).toBe(204);
    await locker.query("commit");
    await locker.end();
    expect((await rotation).statusCode).toBe(200);
    expect((await processing()).json()).toEqual(callbackError("psp_token_invalid"));
  },
);

it("is its context's own: a second context in this process keeps none of this one's lookups", async () => {
  const now = t.ctx.clock.now();
  expect(await t.ctx.callbackIntegrations.find(fx.merchantId, now)).toBeDefined();
  expect(t.ctx.callbackIntegrations.size).toBeGreaterThan(0);
  const second = createAppContext(t.ctx.config, { logger: t.ctx.logger });
  try {
    expect(second.callbackIntegrations).not.toBe(t.ctx.callbackIntegrations);
    expect(second.callbackIntegrations.size).toBe(0);
    expect((await second.callbackIntegrations.find(fx.merchantId, now))?.id).toBe(fx.integrationId);
  } finally {
    await second.close();
  }
});
