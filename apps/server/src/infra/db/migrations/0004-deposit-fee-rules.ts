import { type Kysely, sql } from "kysely";

/**
 * Each deposit keeps the fee rule of its method's currency as it was when the order was created
 * (issue 14, item 3): a credit of a paid amount other than the ordered one (policy `credit_paid`,
 * a review resolution) takes its fee from this rule, so editing the method's fee later never
 * changes what an existing order credits. `fee_rule_bps` is in basis points, the other two in
 * the order's minor units; a null maximum is no cap.
 *
 * Orders created before this migration did not keep their rule, so it is backfilled:
 * - from the method's current rule for the order's currency, when that rule gives exactly the
 *   fee stored with the order on its ordered amount (same exponent too): the rule the order was
 *   most likely created with, and one that credits an exactly paid order what it always did;
 * - otherwise (the rule changed since, or the method or currency is gone) as a fixed fee equal to
 *   the stored fee: what was charged when the order was created, which is also what such an
 *   order credited before this change. Never a rule the order was not created under.
 */

// Above this the percentage product (amount × at most 10 000 bps) could overflow a BIGINT on
// PostgreSQL; such orders (over 9·10^14 minor units) keep the fixed-fee backfill.
const SAFE_AMOUNT = 900_000_000_000_000n;

type StoredRule = {
  code: string;
  decimals: number;
  fee_bps: number;
  fee_fixed: string;
  fee_max: string | null;
};

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's table types
export async function up(db: Kysely<any>): Promise<void> {
  // One column per statement: SQLite's ALTER TABLE adds one at a time.
  await db.schema
    .alterTable("deposits")
    .addColumn("fee_rule_bps", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable("deposits")
    .addColumn("fee_rule_fixed_minor", "bigint", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable("deposits").addColumn("fee_rule_max_minor", "bigint").execute();

  await sql`update deposits set fee_rule_fixed_minor = fee_minor`.execute(db);

  const methods = await db.selectFrom("deposit_methods").select(["id", "tenant_id", "currencies"]).execute();
  for (const m of methods as { id: string; tenant_id: string; currencies: string }[]) {
    let rules: StoredRule[];
    try {
      rules = JSON.parse(m.currencies) as StoredRule[];
    } catch {
      continue;
    }
    for (const r of Array.isArray(rules) ? rules : []) {
      // Integers from our own stored settings; BigInt() refuses anything else, and the values
      // are inlined so that both dialects compute in integers.
      let bps: bigint;
      let fixed: bigint;
      let max: bigint | null;
      let decimals: bigint;
      try {
        bps = BigInt(r.fee_bps);
        fixed = BigInt(r.fee_fixed);
        max = r.fee_max === null || r.fee_max === undefined ? null : BigInt(r.fee_max);
        decimals = BigInt(r.decimals);
      } catch {
        continue;
      }
      if (bps < 0n || bps > 10_000n || typeof r.code !== "string") continue;
      const pct = sql.raw(`((amount_minor * ${bps} + 5000) / 10000 + ${fixed})`);
      const fee =
        max === null
          ? pct
          : sql`(case when ${pct} > ${sql.raw(String(max))} then ${sql.raw(String(max))} else ${pct} end)`;
      await sql`
        update deposits
        set fee_rule_bps = ${sql.raw(String(bps))},
            fee_rule_fixed_minor = ${sql.raw(String(fixed))},
            fee_rule_max_minor = ${max === null ? sql`null` : sql.raw(String(max))}
        where method_id = ${m.id} and tenant_id = ${m.tenant_id} and currency = ${r.code}
          and decimals = ${sql.raw(String(decimals))}
          and amount_minor >= 0 and amount_minor <= ${sql.raw(String(SAFE_AMOUNT))}
          and fee_minor = ${fee}`.execute(db);
    }
  }
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  for (const column of ["fee_rule_max_minor", "fee_rule_fixed_minor", "fee_rule_bps"]) {
    await db.schema.alterTable("deposits").dropColumn(column).execute();
  }
}
