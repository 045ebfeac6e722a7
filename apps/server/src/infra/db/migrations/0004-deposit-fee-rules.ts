import { type Kysely, sql } from "kysely";

/**
 * Each deposit keeps the fee rule of its method's currency as it was when the order was
 * created: a credit of a paid amount other than the ordered one (policy `credit_paid`, a review
 * resolution) takes its fee from this rule, so editing the method's fee later never
 * changes what an existing order credits. `fee_rule_bps` is in basis points, the other two in
 * the order's minor units; a null maximum is no cap.
 *
 * Orders created before this migration did not keep their rule, so it is backfilled:
 * - from the method's current rule for the order's currency, when that rule gives exactly the
 *   fee stored with the order on its ordered amount (same exponent too): the rule the order was
 *   most likely created with, and one that credits an exactly paid order what it always did;
 * - otherwise (the rule changed since, or the method or currency is gone) as a fixed fee equal to
 *   the stored fee: what was charged when the order was created, which is also what such an
 *   order credited before this change.
 * Either way an order paid exactly its ordered amount credits what it always did. (A method
 * whose rule changed to another one giving the same fee on that amount is taken for the
 * original: the stored fee is the only record of the old rule.)
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

  // Every method's current rules, checked against the orders in one pass per chunk of rules
  // (a VALUES table joined to the orders: there is no index on deposits.method_id to make one
  // statement per rule cheap on a large table).
  const rules = currentRules(
    (await db.selectFrom("deposit_methods").select(["id", "tenant_id", "currencies"]).execute()) as {
      id: string;
      tenant_id: string;
      currencies: string;
    }[],
  );
  for (let i = 0; i < rules.length; i += RULES_PER_STATEMENT) {
    const chunk = rules.slice(i, i + RULES_PER_STATEMENT);
    // Integers are inlined (validated as such by currentRules) so that both dialects compute
    // in integers; ids and codes are bound.
    const int = (v: bigint | null) => sql.raw(v === null ? "cast(null as bigint)" : String(v));
    const values = sql.join(
      chunk.map(
        (r) =>
          sql`(${r.methodId}, ${r.tenantId}, ${r.code}, ${int(r.decimals)}, ${int(r.bps)}, ${int(r.fixed)}, ${int(r.max)})`,
      ),
    );
    const pct = sql.raw("((deposits.amount_minor * v.bps + 5000) / 10000 + v.fixed)");
    await sql`
      with v (method_id, tenant_id, currency, decimals, bps, fixed, cap) as (values ${values})
      update deposits
      set fee_rule_bps = v.bps, fee_rule_fixed_minor = v.fixed, fee_rule_max_minor = v.cap
      from v
      where deposits.method_id = v.method_id and deposits.tenant_id = v.tenant_id
        and deposits.currency = v.currency and deposits.decimals = v.decimals
        and deposits.amount_minor >= 0 and deposits.amount_minor <= ${sql.raw(String(SAFE_AMOUNT))}
        and deposits.fee_minor = (case when v.cap is not null and ${pct} > v.cap then v.cap else ${pct} end)`.execute(
      db,
    );
  }
}

const RULES_PER_STATEMENT = 100;
// Fixed parts and caps beyond this are not fees anyone configured: such a rule is skipped.
const MAX_MINOR = BigInt(Number.MAX_SAFE_INTEGER);

type Rule = {
  methodId: string;
  tenantId: string;
  code: string;
  decimals: bigint;
  bps: bigint;
  fixed: bigint;
  max: bigint | null;
};

/** The methods' stored currency rules that are whole, in range integers; others are skipped. */
function currentRules(methods: { id: string; tenant_id: string; currencies: string }[]): Rule[] {
  const out: Rule[] = [];
  for (const m of methods) {
    let stored: unknown;
    try {
      stored = JSON.parse(m.currencies);
    } catch {
      continue;
    }
    for (const r of Array.isArray(stored) ? (stored as StoredRule[]) : []) {
      try {
        const rule: Rule = {
          methodId: m.id,
          tenantId: m.tenant_id,
          code: r.code,
          decimals: BigInt(r.decimals),
          bps: BigInt(r.fee_bps),
          fixed: BigInt(r.fee_fixed),
          max: r.fee_max === null || r.fee_max === undefined ? null : BigInt(r.fee_max),
        };
        const inRange = (v: bigint) => v >= 0n && v <= MAX_MINOR;
        if (
          typeof r.code === "string" &&
          rule.decimals >= 0n &&
          rule.decimals <= 18n &&
          rule.bps >= 0n &&
          rule.bps <= 10_000n &&
          inRange(rule.fixed) &&
          (rule.max === null || inRange(rule.max))
        )
          out.push(rule);
      } catch {
        // BigInt() refused a value that is not a whole number: not a rule to trust.
      }
    }
  }
  return out;
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  for (const column of ["fee_rule_max_minor", "fee_rule_fixed_minor", "fee_rule_bps"]) {
    await db.schema.alterTable("deposits").dropColumn(column).execute();
  }
}
