import { MAX_EXPONENT, MIN_EXPONENT } from "@psphub/protocol";
import fc from "fast-check";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api1Stub, startApi1Stub } from "../../test/api1-stub.js";
import { depositRowFor } from "../../test/callback-client.js";
import { untilSomeoneWaitsOnALock } from "../../test/lock-waits.js";
import { insertPaymentSetup, type PaymentFixture, USD } from "../../test/payment-fixtures.js";
import { paymentInvariantsAfterEach } from "../../test/payment-invariants.js";
import {
  createTestApp,
  loginClient,
  type Session,
  TEST_PASSWORD,
  type TestApp,
} from "../../test/test-app.js";
import { testDbKind } from "../../test/test-database.js";
import { exponentsInUse } from "../clients/currency-decimals.js";
import { encodeCurrencies, type MethodCurrency } from "../deposit-methods/method-model.js";
import { createTenant } from "../tenants/create-tenant.js";
import type { NewDepositEvent } from "./deposit-repo.js";

// Deposit creation reads the method (its currency's decimals) before the insert. A change of the
// method committed in between must not leave an order in the old exponent: the insert only
// succeeds while the method is live and still gives the currency those decimals, and the client
// is answered 409 `method_changed` (send again), never a 500.

const USDT = (decimals: number): MethodCurrency => ({
  code: "USDT",
  decimals,
  minMinor: 1n,
  maxMinor: 10n ** 12n,
  feePercentBps: 0,
  feeFixedMinor: 0n,
  feeMaxMinor: null,
});

let t: TestApp;
const stubs: Api1Stub[] = [];

type Setup = PaymentFixture & { portal: Session };
let tenants = 0;

/**
 * A tenant of its own (no order of another test holds USDT there) with a method accepting USD
 * and USDT in 6 decimals, an API-1 stub and a client's portal session.
 */
async function setup(): Promise<Setup> {
  const stub = await startApi1Stub();
  stubs.push(stub);
  const slug = `race-${++tenants}`;
  const { tenantId } = await createTenant(t.ctx, {
    slug,
    name: "Method Race Ltd",
    owner: { email: `owner@${slug}.test`, name: "Owner", password: TEST_PASSWORD },
  });
  const fx = await insertPaymentSetup(t.ctx, tenantId, {
    appUrl: stub.url,
    currencies: [USD, USDT(6)],
  });
  stub.token = fx.token;
  const portal = await loginClient(t.app, slug, fx.clientEmail, fx.clientPassword);
  return { ...fx, portal };
}

beforeAll(async () => {
  t = await createTestApp({ configOverrides: { allowPrivateAppUrls: true, allowHttpPaymentUrls: false } });
});
afterAll(async () => {
  await Promise.all(stubs.map((s) => s.close()));
  await t?.close();
});
paymentInvariantsAfterEach(() => t?.ctx);

const setCurrencies = (s: Setup, currencies: MethodCurrency[]) =>
  t.ctx.db
    .updateTable("deposit_methods")
    .set({ currencies: encodeCurrencies(currencies), updated_at: t.ctx.clock.now() })
    .where("id", "=", s.methodId)
    .execute();

const ordersOf = (s: Setup) =>
  t.ctx.db
    .selectFrom("deposits")
    .select(["currency", "decimals"])
    .where("method_id", "=", s.methodId)
    .execute();

/** An order of USDT as deposit creation builds it from the method it read (in 6 decimals unless given). */
function usdtOrder(s: Setup, decimals = 6) {
  const now = t.ctx.clock.now();
  const row = depositRowFor(s, now, {
    currency: "USDT",
    decimals,
    amount_minor: 1_500_000,
    fee_minor: 0,
    credit_minor: 1_500_000,
    fee_rule_bps: 0,
    fee_rule_fixed_minor: 0,
    fee_rule_max_minor: null,
    payment_url: null,
  });
  const event = {
    tenantId: s.tenantId,
    depositId: row.id,
    now,
    event: {
      kind: "created",
      data: { by: "client", actorId: s.clientId, amount: "1.500000", currency: "USDT", fee: "0.000000" },
    },
  } satisfies NewDepositEvent;
  return { row, event };
}

describe("the order insert and a change of its method's decimals", () => {
  it("inserts an order while the method still gives its currency the decimals it was read with", async () => {
    const s = await setup();
    const { row, event } = usdtOrder(s);
    expect(await t.ctx.depositWriter.insert(row, event)).toBe(true);
    expect(await ordersOf(s)).toEqual([{ currency: "USDT", decimals: 6 }]);
  });

  it("inserts nothing when the method's decimals for the currency changed after it was read", async () => {
    const s = await setup();
    const found = await t.ctx.depositWriter.findContext({
      tenantId: s.tenantId,
      clientId: s.clientId,
      methodId: s.methodId,
    });
    expect(found?.methodWithIntegration?.method.currencies.find((c) => c.code === "USDT")?.decimals).toBe(6);
    // Committed between the read and the insert (no order held USDT: the change was allowed).
    await setCurrencies(s, [USD, USDT(2)]);
    const { row, event } = usdtOrder(s);
    expect(await t.ctx.depositWriter.insert(row, event)).toBe(false);
    expect(await ordersOf(s)).toEqual([]);
  });

  it("inserts an order exactly when the method's decimals now are those it was read with (property)", async () => {
    const s = await setup();
    const exponent = fc.integer({ min: MIN_EXPONENT, max: MAX_EXPONENT });
    await fc.assert(
      fc.asyncProperty(exponent, exponent, async (read, now) => {
        await setCurrencies(s, [USD, USDT(now)]);
        const { row, event } = usdtOrder(s, read);
        const inserted = await t.ctx.depositWriter.insert(row, event);
        expect(inserted).toBe(read === now);
        const stored = await t.ctx.db
          .selectFrom("deposits")
          .select("decimals")
          .where("id", "=", row.id)
          .execute();
        expect(stored).toEqual(read === now ? [{ decimals: now }] : []);
      }),
      { numRuns: 30 },
    );
  });

  it("inserts nothing when the method no longer accepts the currency, or was deleted", async () => {
    const s = await setup();
    await setCurrencies(s, [USD]);
    const first = usdtOrder(s);
    expect(await t.ctx.depositWriter.insert(first.row, first.event)).toBe(false);
    await setCurrencies(s, [USD, USDT(6)]);
    await t.ctx.db
      .updateTable("deposit_methods")
      .set({ deleted_at: t.ctx.clock.now() })
      .where("id", "=", s.methodId)
      .execute();
    const second = usdtOrder(s);
    expect(await t.ctx.depositWriter.insert(second.row, second.event)).toBe(false);
    expect(await ordersOf(s)).toEqual([]);
  });
});

describe("creating a deposit while its method's decimals change (PostgreSQL)", () => {
  it.skipIf(testDbKind() !== "postgres")(
    "answers 409 method_changed and keeps no order in the old exponent",
    async () => {
      const s = await setup();
      let answer: Promise<{ statusCode: number; json: () => unknown }> | undefined;
      // As update-method.ts does it: lock the method, check what holds USDT (nothing yet), write.
      await t.ctx.db.transaction().execute(async (trx) => {
        await sql`SELECT id FROM deposit_methods WHERE id = ${s.methodId} FOR UPDATE`.execute(trx);
        expect(
          (await exponentsInUse(trx, s.tenantId, ["USDT"], { exceptMethodId: s.methodId })).filter(
            (u) => u.kind === "orders",
          ),
        ).toEqual([]);
        answer = s.portal.inject({
          method: "POST",
          url: "/api/portal/deposits",
          payload: { methodId: s.methodId, currency: "USDT", amount: "1.5" },
        });
        // Before the guard the order went in at once, in 6 decimals, unseen by the check above.
        await Promise.race([
          untilSomeoneWaitsOnALock(t.ctx, "the deposit creation waiting on the method's change"),
          answer,
        ]);
        await trx
          .updateTable("deposit_methods")
          .set({ currencies: encodeCurrencies([USD, USDT(2)]) })
          .where("id", "=", s.methodId)
          .execute();
      });
      const res = await answer!;
      expect({ status: res.statusCode, body: res.json() }).toMatchObject({
        status: 409,
        body: { error: { code: "method_changed" } },
      });
      expect(await ordersOf(s)).toEqual([]);

      // Sent again, it is created in the method's decimals as they are now.
      const again = await s.portal.inject({
        method: "POST",
        url: "/api/portal/deposits",
        payload: { methodId: s.methodId, currency: "USDT", amount: "1.5" },
      });
      expect(again.statusCode).toBe(201);
      expect(await ordersOf(s)).toEqual([{ currency: "USDT", decimals: 2 }]);
    },
  );
});
