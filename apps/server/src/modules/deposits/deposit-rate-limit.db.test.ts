import { afterAll, beforeAll, expect, it } from "vitest";
import { type Api1Stub, startApi1Stub } from "../../test/api1-stub.js";
import { insertClient, insertPaymentSetup } from "../../test/payment-fixtures.js";
import { paymentInvariantsAfterEach } from "../../test/payment-invariants.js";
import { createTestApp, loginClient, seedTenant, type TestApp } from "../../test/test-app.js";

/** Each new order calls the tenant backend, so one client's order rate is bounded. */
let t: TestApp;
let stub: Api1Stub;
beforeAll(async () => {
  t = await createTestApp({
    configOverrides: { allowPrivateAppUrls: true },
    env: { DEPOSIT_RATE_LIMIT_PER_MINUTE: "3" },
  });
  stub = await startApi1Stub();
});
afterAll(async () => {
  await stub?.close();
  await t?.close();
});
paymentInvariantsAfterEach(() => t?.ctx);

it("answers 429 to a client's 4th new deposit within a minute, without calling API-1; other clients are unaffected", async () => {
  const a = await seedTenant(t);
  const f = await insertPaymentSetup(t.ctx, a.tenantId, { appUrl: stub.url });
  stub.token = f.token;
  const portal = await loginClient(t.app, a.slug, f.clientEmail, f.clientPassword);
  const create = (s = portal) =>
    s.inject({
      method: "POST",
      url: "/api/portal/deposits",
      payload: { methodId: f.methodId, currency: "USD", amount: "20" },
    });
  for (let i = 0; i < 3; i++) expect((await create()).statusCode).toBe(201);
  const callsBefore = stub.requests.length;
  const fourth = await create();
  expect(fourth.statusCode).toBe(429);
  expect(fourth.json().error.code).toBe("rate_limited");
  expect(stub.requests.length).toBe(callsBefore);
  const other = await insertClient(t.ctx, a.tenantId);
  const portal2 = await loginClient(t.app, a.slug, other.clientEmail, other.clientPassword);
  expect((await create(portal2)).statusCode).toBe(201);
});
