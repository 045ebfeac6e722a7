import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppContext, createAppContext } from "../app-context.js";
import { loadConfig } from "../config/config.js";
import { migrateToLatest } from "../infra/db/database.js";
import type { MethodCurrency } from "../modules/deposit-methods/method-model.js";
import { createTenant } from "../modules/tenants/create-tenant.js";
import { insertDeposit } from "../test/callback-client.js";
import { runPsphub, useEnvTestDatabase } from "../test/cli-env.js";
import { postLedgerEntry } from "../test/ledger-postings.js";
import { insertMethod, insertPaymentSetup, type PaymentFixture, USD } from "../test/payment-fixtures.js";

// Data written by a version that did not enforce one exponent per currency may mix exponents.
// `psphub doctor` finds and reports it (exit 1), and never rescales anything.

useEnvTestDatabase({ LOG_LEVEL: "silent" });

const usdt = (decimals: number): MethodCurrency => ({
  code: "USDT",
  decimals,
  minMinor: 1n,
  maxMinor: 10n ** BigInt(decimals + 6),
  feePercentBps: 0,
  feeFixedMinor: 0n,
  feeMaxMinor: null,
});

let ctx: AppContext;
beforeAll(async () => {
  ctx = createAppContext(loadConfig());
});
afterAll(async () => ctx?.close());

const snapshot = async () => ({
  methods: await ctx.db.selectFrom("deposit_methods").selectAll().orderBy("id").execute(),
  deposits: await ctx.db.selectFrom("deposits").selectAll().orderBy("id").execute(),
  wallets: await ctx.db.selectFrom("wallets").selectAll().orderBy("id").execute(),
  ledger: await ctx.db.selectFrom("ledger_entries").selectAll().orderBy("id").execute(),
});

/** A succeeded USDT order of `decimals` through `methodId`, credited 10 in its own minor units. */
async function creditTen(fx: PaymentFixture, methodId: string, decimals: number) {
  const ten = 10 * 10 ** decimals;
  const dep = await insertDeposit(
    ctx,
    { ...fx, methodId },
    { currency: "USDT", decimals, amount_minor: ten, fee_minor: 0, credit_minor: ten, status: "succeeded" },
  );
  await postLedgerEntry(ctx.db, {
    tenantId: fx.tenantId,
    clientId: fx.clientId,
    currency: "USDT",
    amountMinor: BigInt(ten),
    kind: "deposit",
    depositId: dep.id,
    now: ctx.clock.now(),
  });
}

describe("psphub doctor", () => {
  it("refuses to judge a database that is not migrated", async () => {
    const r = await runPsphub(["doctor"]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/not migrated .*run "psphub migrate" first/);
  });

  it("finds nothing wrong with clean data (exit 0)", async () => {
    await migrateToLatest(ctx.db);
    const { tenantId } = await createTenant(ctx, {
      slug: "clean",
      name: "Clean Ltd",
      owner: { email: "owner@clean.test", name: "Owner", password: "owner password 1" },
    });
    const fx = await insertPaymentSetup(ctx, tenantId, { currencies: [USD, usdt(6)] });
    await creditTen(fx, fx.methodId, 6);
    const r = await runPsphub(["doctor"]);
    expect(r).toMatchObject({ code: 0, out: "psphub doctor: no problems found (1 tenant checked)" });
  });

  it("reports methods, orders and wallets that mix exponents, exits 1, and changes nothing", async () => {
    const { tenantId } = await createTenant(ctx, {
      slug: "mixed",
      name: "Mixed Ltd",
      owner: { email: "owner@mixed.test", name: "Owner", password: "owner password 1" },
    });
    const fx = await insertPaymentSetup(ctx, tenantId);
    const two = await insertMethod(ctx, tenantId, fx.integrationId, { currencies: [usdt(2)] });
    await ctx.db.updateTable("deposit_methods").set({ name: "Tether (2)" }).where("id", "=", two).execute();
    const six = await insertMethod(ctx, tenantId, fx.integrationId, { currencies: [usdt(6)] });
    await ctx.db
      .updateTable("deposit_methods")
      .set({ name: "Tether (6)", updated_at: ctx.clock.now() + 1_000 })
      .where("id", "=", six)
      .execute();
    await creditTen(fx, two, 2);
    await creditTen(fx, six, 6);
    const before = await snapshot();

    const r = await runPsphub(["doctor"]);
    expect(r.code).toBe(1);
    const wallet = before.wallets.find((w) => w.tenant_id === tenantId)!;
    // The most recently changed live method sets the tenant's exponent (currency-decimals.ts).
    expect(r.out.split("\n")).toEqual([
      "tenant mixed (Mixed Ltd):",
      '  USDT: live deposit methods disagree on its decimals: 2 decimals (method "Tether (2)"), 6 decimals (method "Tether (6)")',
      "  USDT: 1 order created with 2 decimals, but the tenant's USDT has 6: their amounts count 2-decimal minor units",
      `  wallet ${wallet.id} of client ${fx.clientId} (USDT, 6 decimals) holds 1 entry in 2 decimals: its balance adds up different exponents`,
      expect.stringMatching(/^psphub doctor: 3 problems at 1 tenant\. Nothing was changed or rescaled/),
    ]);
    expect(await snapshot()).toEqual(before);
  });
});
