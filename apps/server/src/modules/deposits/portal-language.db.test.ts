import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api1Stub, startApi1Stub } from "../../test/api1-stub.js";
import { insertPaymentSetup, type PaymentFixture } from "../../test/payment-fixtures.js";
import { paymentInvariantsAfterEach } from "../../test/payment-invariants.js";
import { createTestApp, loginClient, type Session, seedTenant, type TestApp } from "../../test/test-app.js";

// The portal sends its current language (apps/web/src/i18n/locales.ts: en, zh-cn, ar) with
// every deposit; the tenant backend must get exactly that as API-1's `language`, whatever the
// client's stored language says.

let t: TestApp;
let stub: Api1Stub;
let fx: PaymentFixture;
let portal: Session;

beforeAll(async () => {
  t = await createTestApp({ configOverrides: { allowPrivateAppUrls: true } });
  const tenant = await seedTenant(t);
  stub = await startApi1Stub();
  fx = await insertPaymentSetup(t.ctx, tenant.tenantId, { appUrl: stub.url });
  stub.token = fx.token;
  portal = await loginClient(t.app, tenant.slug, fx.clientEmail, fx.clientPassword);
});
afterAll(async () => {
  await stub?.close();
  await t?.close();
});
paymentInvariantsAfterEach(() => t?.ctx);

describe("the portal's language in API-1", () => {
  it.each(["en", "zh-cn", "ar"])(
    "carries %s to the tenant backend and keeps it on the order",
    async (language) => {
      const res = await portal.inject({
        method: "POST",
        url: "/api/portal/deposits",
        payload: { methodId: fx.methodId, currency: "USD", amount: "100.00", fields: {}, language },
      });
      expect(res.statusCode, res.body).toBe(201);
      expect(stub.requests.at(-1)?.json).toMatchObject({ order_no: res.json().orderNo, language });
      const row = await t.ctx.db
        .selectFrom("deposits")
        .select("language")
        .where("order_no", "=", res.json().orderNo)
        .executeTakeFirstOrThrow();
      expect(row.language).toBe(language);
    },
  );
});
