import fc from "fast-check";
import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertDeposit, sendSignedCallback } from "../../test/callback-client.js";
import { postLedgerEntry } from "../../test/ledger-postings.js";
import { insertIntegration, insertMethod, insertPaymentSetup, USD } from "../../test/payment-fixtures.js";
import { createTestApp, seedTenant, type TestApp } from "../../test/test-app.js";
import type { MethodCurrency } from "./method-model.js";

// One exponent per currency per tenant. A wallet is keyed by (client, currency)
// and holds minor units, so two methods crediting it in different exponents corrupt its balance.

const BASE = "/api/admin/deposit-methods";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t?.close());

type Seeded = Awaited<ReturnType<typeof seedTenant>>;

const usdt = (decimals: number) => ({ code: "USDT", decimals, min: "10", max: "5000" });

async function tenantWithIntegration(): Promise<{ s: Seeded; integrationId: string }> {
  const s = await seedTenant(t);
  const { integrationId } = await insertIntegration(t.ctx, s.tenantId);
  return { s, integrationId };
}

const post = (s: Seeded, integrationId: string, name: string, currencies: unknown[]) =>
  s.owner.post(BASE, { name, integrationId, currencies });

const issuesOf = (res: LightMyRequestResponse): { path: string; message: string }[] =>
  res.json().error?.issues ?? [];

const usdtMinor = (decimals: number): MethodCurrency => ({
  code: "USDT",
  decimals,
  minMinor: 1n,
  maxMinor: 10n ** BigInt(decimals + 6),
  feePercentBps: 0,
  feeFixedMinor: 0n,
  feeMaxMinor: null,
});

describe("a currency's decimals are fixed per tenant once a method uses them", () => {
  it("refuses a second method that gives USDT other decimals, naming the currency, the decimals in use and the method", async () => {
    const { s, integrationId } = await tenantWithIntegration();
    expect((await post(s, integrationId, "Tether (2)", [usdt(2)])).statusCode).toBe(201);

    const res = await post(s, integrationId, "Tether (6)", [{ ...USD_INPUT }, usdt(6)]);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error.code).toBe("validation_failed");
    const [issue, ...more] = issuesOf(res);
    expect(more).toEqual([]);
    expect(issue?.path).toBe("currencies.1.decimals");
    expect(issue?.message).toContain("USDT");
    expect(issue?.message).toContain("2 decimals");
    expect(issue?.message).toContain("Tether (2)");
    expect((await s.owner.get(BASE)).json().items.map((m: { name: string }) => m.name)).toEqual([
      "Tether (2)",
    ]);

    // The same decimals are fine, and so is another tenant's choice.
    expect((await post(s, integrationId, "Tether again", [usdt(2)])).statusCode).toBe(201);
    const other = await tenantWithIntegration();
    expect((await post(other.s, other.integrationId, "Tether (6)", [usdt(6)])).statusCode).toBe(201);
  });

  it("refuses an update that adds the currency with other decimals", async () => {
    const { s, integrationId } = await tenantWithIntegration();
    expect((await post(s, integrationId, "Tether", [usdt(6)])).statusCode).toBe(201);
    const card = (await post(s, integrationId, "Card", [USD_INPUT])).json();
    const res = await s.owner.patch(`${BASE}/${card.id}`, { currencies: [USD_INPUT, usdt(2)] });
    expect(res.statusCode, res.body).toBe(400);
    expect(issuesOf(res)).toEqual([
      { path: "currencies.1.decimals", message: expect.stringMatching(/USDT.*6 decimals.*Tether/) },
    ]);
    expect((await s.owner.get(`${BASE}/${card.id}`)).json().currencies).toHaveLength(1);
  });

  it("lets the only method change a currency's decimals while nothing holds it", async () => {
    const { s, integrationId } = await tenantWithIntegration();
    const m = (await post(s, integrationId, "Tether", [usdt(2)])).json();
    const res = await s.owner.patch(`${BASE}/${m.id}`, { currencies: [usdt(6)] });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().currencies[0].decimals).toBe(6);
  });

  it("refuses to change the decimals while an order holds the currency", async () => {
    const { s, integrationId } = await tenantWithIntegration();
    const fx = await insertPaymentSetup(t.ctx, s.tenantId);
    const m = (await post(s, integrationId, "Tether", [usdt(2)])).json();
    await insertDeposit(
      t.ctx,
      { ...fx, methodId: m.id },
      { currency: "USDT", decimals: 2, amount_minor: 1_000, status: "failed" },
    );
    const res = await s.owner.patch(`${BASE}/${m.id}`, { currencies: [usdt(6)] });
    expect(res.statusCode, res.body).toBe(400);
    expect(issuesOf(res)).toEqual([
      { path: "currencies.0.decimals", message: expect.stringMatching(/USDT.*2 decimals.*1 order/) },
    ]);
    // Deleting the method (its order is final) and creating another does not get around it.
    expect((await s.owner.delete(`${BASE}/${m.id}`)).statusCode).toBe(204);
    const again = await post(s, integrationId, "Tether (6)", [usdt(6)]);
    expect(again.statusCode, again.body).toBe(400);
    expect(issuesOf(again)[0]?.message).toMatch(/USDT.*2 decimals.*1 order/);
  });

  it("refuses to change the decimals while a wallet holds the currency", async () => {
    const { s, integrationId } = await tenantWithIntegration();
    const fx = await insertPaymentSetup(t.ctx, s.tenantId);
    const m = (await post(s, integrationId, "Tether", [usdt(2)])).json();
    await postLedgerEntry(t.ctx.db, {
      tenantId: s.tenantId,
      clientId: fx.clientId,
      currency: "USDT",
      amountMinor: 500n,
      kind: "adjustment",
      depositId: null,
      now: t.ctx.clock.now(),
    });
    const res = await s.owner.patch(`${BASE}/${m.id}`, { currencies: [usdt(6)] });
    expect(res.statusCode, res.body).toBe(400);
    expect(issuesOf(res)[0]?.message).toMatch(/USDT.*2 decimals.*1 wallet/);
  });

  it("methods created at the same time with USDT in 2 and 6 decimals: only one exponent is accepted", async () => {
    const { s, integrationId } = await tenantWithIntegration();
    const answers = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        post(s, integrationId, `Tether ${i}`, [usdt(i % 2 === 0 ? 2 : 6)]),
      ),
    );
    expect(answers.every((r) => r.statusCode === 201 || r.statusCode === 400)).toBe(true);
    const decimals = new Set(
      (await s.owner.get(BASE))
        .json()
        .items.map((m: { currencies: { decimals: number }[] }) => m.currencies[0]!.decimals),
    );
    expect(decimals.size).toBe(1);
    expect(answers.filter((r) => r.statusCode === 201)).toHaveLength(8);
  });

  it("whatever methods are created and changed, at most one exponent per currency is ever accepted", async () => {
    const step = fc.record({
      code: fc.constantFrom("USDT", "BTC", "XAU1"),
      decimals: fc.integer({ min: 0, max: 8 }),
      update: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 6 }), async (steps) => {
        const { s, integrationId } = await tenantWithIntegration();
        const ids: string[] = [];
        for (const [i, st] of steps.entries()) {
          const currencies = [{ code: st.code, decimals: st.decimals, min: "1", max: "1000" }];
          const res =
            st.update && ids.length > 0
              ? await s.owner.patch(`${BASE}/${ids[i % ids.length]}`, { currencies })
              : await post(s, integrationId, `M${i}`, currencies);
          expect([200, 201, 400]).toContain(res.statusCode);
          if (res.statusCode === 201) ids.push(res.json().id);
        }
        const seen = new Map<string, number>();
        for (const m of (await s.owner.get(BASE)).json().items) {
          for (const c of m.currencies as { code: string; decimals: number }[]) {
            expect(seen.get(c.code) ?? c.decimals, c.code).toBe(c.decimals);
            seen.set(c.code, c.decimals);
          }
        }
      }),
      { numRuns: 15 },
    );
  });
});

describe("data that already mixes exponents (written before this rule)", () => {
  it("two methods with USDT in 2 and 6 decimals, 10 through each: the balance is not 20, and ledger/check says so", async () => {
    const s = await seedTenant(t);
    const fx = await insertPaymentSetup(t.ctx, s.tenantId);
    const two = await insertMethod(t.ctx, s.tenantId, fx.integrationId, { currencies: [usdtMinor(2)] });
    const six = await insertMethod(t.ctx, s.tenantId, fx.integrationId, { currencies: [usdtMinor(6)] });
    for (const [methodId, decimals] of [
      [two, 2],
      [six, 6],
    ] as const) {
      const ten = 10n * 10n ** BigInt(decimals);
      const dep = await insertDeposit(
        t.ctx,
        { ...fx, methodId },
        {
          currency: "USDT",
          decimals,
          amount_minor: Number(ten),
          fee_minor: 0,
          credit_minor: Number(ten),
          fee_rule_bps: 0,
          fee_rule_fixed_minor: 0,
          fee_rule_max_minor: null,
        },
      );
      expect((await sendSignedCallback(t.app, fx, dep)).statusCode).toBe(204);
    }
    const client = (await s.viewer.get(`/api/admin/clients/${fx.clientId}`)).json();
    const wallet = client.wallets.find((w: { currency: string }) => w.currency === "USDT");
    // Never rescaled: the stored minor units stay as they were credited.
    expect(wallet.balanceMinor).toBe(String(1_000n + 10_000_000n));

    const check = (await s.viewer.get("/api/admin/ledger/check")).json();
    expect(check.ok).toBe(false);
    expect(check.mismatches).toEqual([]);
    expect(check.exponentMismatches).toEqual([
      {
        walletId: wallet.id,
        clientId: fx.clientId,
        currency: "USDT",
        decimals: expect.any(Number),
        entries: [{ decimals: expect.any(Number), count: 1 }],
      },
    ]);
    const [m] = check.exponentMismatches;
    expect([m.decimals, m.entries[0].decimals].sort()).toEqual([2, 6]);
  });

  it("a method keeps its decimals when saved again, whatever orders of other exponents exist; changing them is refused", async () => {
    const s = await seedTenant(t);
    const fx = await insertPaymentSetup(t.ctx, s.tenantId);
    const six = await insertMethod(t.ctx, s.tenantId, fx.integrationId, { currencies: [usdtMinor(6)] });
    for (const decimals of [2, 6]) {
      await insertDeposit(t.ctx, { ...fx, methodId: six }, { currency: "USDT", decimals, status: "failed" });
    }
    const kept = await s.owner.patch(`${BASE}/${six}`, { name: "Renamed", currencies: [usdt(6)] });
    expect(kept.statusCode, kept.body).toBe(200);
    const changed = await s.owner.patch(`${BASE}/${six}`, { currencies: [usdt(2)] });
    expect(changed.statusCode, changed.body).toBe(400);
    expect(issuesOf(changed)[0]?.message).toMatch(/USDT already has 6 decimals \(1 order\)/);
  });

  it("ledger/check stays ok for a tenant whose wallets use one exponent per currency", async () => {
    const s = await seedTenant(t);
    const fx = await insertPaymentSetup(t.ctx, s.tenantId, { currencies: [USD, usdtMinor(6)] });
    const dep = await insertDeposit(t.ctx, fx);
    expect((await sendSignedCallback(t.app, fx, dep)).statusCode).toBe(204);
    expect((await s.viewer.get("/api/admin/ledger/check")).json()).toEqual({
      ok: true,
      mismatches: [],
      exponentMismatches: [],
    });
  });
});

const USD_INPUT = { code: "USD", min: "10.00", max: "5000.00" };
