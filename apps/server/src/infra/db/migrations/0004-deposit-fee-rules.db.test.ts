import { Migrator } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppContext, createAppContext } from "../../../app-context.js";
import { loadConfig } from "../../../config/config.js";
import { encodeCurrencies } from "../../../modules/deposit-methods/method-model.js";
import { NO_QUOTE } from "../../../modules/fx-quotes/locked-quote.js";
import { depositRowFor } from "../../../test/callback-client.js";
import { useEnvTestDatabase } from "../../../test/cli-env.js";
import { insertPaymentSetup, type PaymentFixture, USD } from "../../../test/payment-fixtures.js";
import * as m0009 from "./0009-status-queries.js";
import { migrationProvider } from "./index.js";

// Migration 0004 on a database that already holds orders: each order gets the fee rule it was
// most likely created with (its method's current rule when that rule reproduces the order's
// stored fee), else its stored fee as a fixed fee. Nothing else about an order changes.

const tdb = useEnvTestDatabase({ LOG_LEVEL: "silent" });
let ctx: AppContext;
let migrator: Migrator;
let fx: PaymentFixture;

const BEFORE = "0003-currency-exponent-and-ledger-delete";
const THIS = "0004-deposit-fee-rules";

/** An order as the code before this migration wrote it (no fee_rule_* columns). */
async function legacyOrder(overrides: Parameters<typeof depositRowFor>[2] & { fee_minor: number }) {
  const {
    fee_rule_bps: _b,
    fee_rule_fixed_minor: _f,
    fee_rule_max_minor: _m,
    ...today
  } = depositRowFor(fx, ctx.clock.now(), overrides);
  // Nor the quote columns of 0014, which this test does not apply.
  const row = Object.fromEntries(Object.entries(today).filter(([k]) => !(k in NO_QUOTE)));
  // biome-ignore lint/suspicious/noExplicitAny: the table as it was before this migration
  await (ctx.db as any).insertInto("deposits").values(row).execute();
  return today.id;
}

const rulesOf = async (ids: string[]) => {
  const rows = await ctx.db
    .selectFrom("deposits")
    .select(["id", "fee_minor", "credit_minor", "fee_rule_bps", "fee_rule_fixed_minor", "fee_rule_max_minor"])
    .where("id", "in", ids)
    .execute();
  return ids.map((id) => {
    const { id: _id, ...r } = rows.find((x) => x.id === id)!;
    return r;
  });
};

beforeAll(async () => {
  void tdb;
  ctx = createAppContext(loadConfig());
  migrator = new Migrator({ db: ctx.db, provider: migrationProvider });
  const to = await migrator.migrateTo(BEFORE);
  if (to.error) throw to.error;
  // The fixtures write today's rows: the later migrations' added columns (0009) must exist. They
  // change nothing that 0004 reads or writes.
  await m0009.up(ctx.db);
  await ctx.db
    .insertInto("tenants")
    .values({ id: "t-mig", slug: "mig", name: "Mig", created_at: 1 })
    .execute();
  fx = await insertPaymentSetup(ctx, "t-mig");
});
afterAll(async () => ctx?.close());

describe("migration 0004: the fee rule kept with each order", () => {
  it("backfills existing orders from the method's rule when it reproduces their fee, else their fee as a fixed one", async () => {
    const reproduced = await legacyOrder({ amount_minor: 10_000, fee_minor: 280 });
    const capped = await legacyOrder({ amount_minor: 200_000, fee_minor: 2_000 });
    // Created when the method charged a flat 5.00: the current rule gives 2.80.
    const changed = await legacyOrder({ amount_minor: 10_000, fee_minor: 500, status: "expired" });
    // A currency the method no longer accepts.
    const gone = await legacyOrder({ amount_minor: 10_000, fee_minor: 150, currency: "EUR" });
    // Same code, another exponent than the method's currency: its minor units are not comparable.
    const otherExponent = await legacyOrder({ amount_minor: 1_000, fee_minor: 28, decimals: 1 });

    const applied = await migrator.migrateTo(THIS);
    expect(applied.error).toBeUndefined();
    expect(applied.results?.map((r) => [r.migrationName, r.status])).toEqual([[THIS, "Success"]]);

    const rule = { fee_rule_bps: 250, fee_rule_fixed_minor: 30, fee_rule_max_minor: 2_000 };
    const fixed = (fee: number) => ({ fee_rule_bps: 0, fee_rule_fixed_minor: fee, fee_rule_max_minor: null });
    expect(await rulesOf([reproduced, capped, changed, gone, otherExponent])).toEqual([
      { fee_minor: 280, credit_minor: 9_720, ...rule },
      { fee_minor: 2_000, credit_minor: 198_000, ...rule },
      { fee_minor: 500, credit_minor: 9_500, ...fixed(500) },
      { fee_minor: 150, credit_minor: 9_850, ...fixed(150) },
      { fee_minor: 28, credit_minor: 972, ...fixed(28) },
    ]);
  });

  it("backfills from each method's own rule, and rolls back and forth", async () => {
    // A second method whose USD fee is 1 % with no fixed part and no cap.
    const cheap = await ctx.db
      .insertInto("deposit_methods")
      .values({
        id: "m-cheap",
        tenant_id: "t-mig",
        integration_id: fx.integrationId,
        name: "Cheap",
        enabled: 1,
        sort_order: 1,
        currencies: encodeCurrencies([{ ...USD, feePercentBps: 100, feeFixedMinor: 0n, feeMaxMinor: null }]),
        visibility: "all",
        client_groups: "[]",
        field_labels: "{}",
        order_ttl_seconds: 1800,
        deleted_at: 5,
        created_at: 1,
        updated_at: 1,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    const down = await migrator.migrateTo(BEFORE);
    expect(down.error).toBeUndefined();
    const ofCheap = await legacyOrder({ amount_minor: 10_000, fee_minor: 100, method_id: cheap.id });
    const ofCard = await legacyOrder({ amount_minor: 10_000, fee_minor: 100 });
    expect((await migrator.migrateTo(THIS)).error).toBeUndefined();
    expect(await rulesOf([ofCheap, ofCard])).toEqual([
      {
        fee_minor: 100,
        credit_minor: 9_900,
        fee_rule_bps: 100,
        fee_rule_fixed_minor: 0,
        fee_rule_max_minor: null,
      },
      {
        fee_minor: 100,
        credit_minor: 9_900,
        fee_rule_bps: 0,
        fee_rule_fixed_minor: 100,
        fee_rule_max_minor: null,
      },
    ]);
  });
});
