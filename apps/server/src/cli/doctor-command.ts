import { Migrator } from "kysely";
import { createAppContext } from "../app-context.js";
import { loadConfig } from "../config/config.js";
import type { Db } from "../infra/db/database.js";
import { migrationProvider } from "../infra/db/migrations/index.js";
import { findExponentProblems } from "../modules/clients/currency-decimals.js";
import { findLedgerMismatches, type LedgerMismatch } from "../modules/clients/ledger.js";
import type { ExponentProblems } from "../modules/deposit-methods/currency-exponents.js";
import type { Command } from "./command.js";

/** What the doctor found at one tenant. */
export type TenantFindings = {
  slug: string;
  name: string;
  exponents: ExponentProblems;
  ledger: LedgerMismatch[];
};

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The readable report of one tenant's problems: one line each (none when it has none). */
export function tenantProblemLines(f: TenantFindings): string[] {
  const lines: string[] = [];
  for (const m of f.exponents.methods) {
    const uses = m.uses.map(
      (u) => `${plural(u.decimals, "decimal")} (${u.methods.map((name) => `method "${name}"`).join(", ")})`,
    );
    lines.push(`${m.currency}: live deposit methods disagree on its decimals: ${uses.join(", ")}`);
  }
  for (const o of f.exponents.orders) {
    lines.push(
      `${o.currency}: ${plural(o.count, "order")} created with ${plural(o.decimals, "decimal")}, ` +
        `but the tenant's ${o.currency} has ${o.expected}: their amounts count ${o.decimals}-decimal minor units`,
    );
  }
  for (const w of f.exponents.wallets) {
    const entries = w.entries.map((e) => `${plural(e.count, "entry", "entries")} in ${e.decimals}`);
    lines.push(
      `wallet ${w.walletId} of client ${w.clientId} (${w.currency}, ${plural(w.decimals, "decimal")}) ` +
        `holds ${entries.join(", ")} decimals: its balance adds up different exponents`,
    );
  }
  for (const l of f.ledger) {
    lines.push(
      l.balanceMinor !== l.ledgerSumMinor
        ? `wallet ${l.walletId}: balance ${l.balanceMinor} minor units, but its entries sum to ${l.ledgerSumMinor}`
        : `wallet ${l.walletId}: held ${l.heldMinor} minor units, but its holds sum to ${l.holdSumMinor} (balance ${l.balanceMinor})`,
    );
  }
  return lines;
}

/** Every tenant's findings on a migrated database. Reads only. */
export async function examine(db: Db): Promise<TenantFindings[]> {
  const tenants = await db.selectFrom("tenants").select(["id", "slug", "name"]).orderBy("slug").execute();
  const mismatches = await findLedgerMismatches(db);
  const wallets = await db.selectFrom("wallets").select(["id", "tenant_id"]).execute();
  const tenantOf = new Map(wallets.map((w) => [w.id, w.tenant_id]));
  const findings: TenantFindings[] = [];
  for (const t of tenants) {
    findings.push({
      slug: t.slug,
      name: t.name,
      exponents: await findExponentProblems(db, t.id),
      ledger: mismatches.filter((m) => tenantOf.get(m.walletId) === t.id),
    });
  }
  return findings;
}

export const doctorCommand: Command = {
  name: "doctor",
  summary: "check the stored data for problems (mixed currency exponents, ledger sums); changes nothing",
  usage: "doctor",
  options: {},
  async run() {
    const ctx = createAppContext(loadConfig());
    try {
      const migrations = await new Migrator({ db: ctx.db, provider: migrationProvider }).getMigrations();
      const pending = migrations.filter((m) => m.executedAt === undefined).map((m) => m.name);
      if (pending.length > 0) {
        console.log(
          `psphub doctor: the database is not migrated (pending: ${pending.join(", ")}); run "psphub migrate" first`,
        );
        return 1;
      }
      const findings = await examine(ctx.db);
      let problems = 0;
      let affected = 0;
      for (const f of findings) {
        const lines = tenantProblemLines(f);
        if (lines.length === 0) continue;
        problems += lines.length;
        affected++;
        console.log(`tenant ${f.slug} (${f.name}):`);
        for (const line of lines) console.log(`  ${line}`);
      }
      if (problems === 0) {
        console.log(`psphub doctor: no problems found (${plural(findings.length, "tenant")} checked)`);
        return 0;
      }
      console.log(
        `psphub doctor: ${plural(problems, "problem")} at ${plural(affected, "tenant")}. Nothing was ` +
          "changed or rescaled: which exponent a stored amount meant is for a person to decide; correct " +
          "balances with new adjustment entries (the ledger is append-only) and give every method the same decimals.",
      );
      return 1;
    } finally {
      await ctx.close();
    }
  },
};
