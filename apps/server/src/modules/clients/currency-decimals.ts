import { isoExponent, MAX_EXPONENT, MIN_EXPONENT } from "@psphub/protocol";
import { type Db, decodeJson, hasRowLocks } from "../../infra/db/database.js";
import {
  type ExponentFacts,
  type ExponentInUse,
  type ExponentProblems,
  findMixedExponents,
  type WalletExponentMismatch,
} from "../deposit-methods/currency-exponents.js";
import { decodeCurrencies, type MethodCurrency } from "../deposit-methods/method-model.js";

/** The exponent used when neither a deposit method nor ISO 4217 defines one. */
export const DEFAULT_DECIMALS = 2;

const validExponent = (n: unknown): n is number =>
  typeof n === "number" && Number.isInteger(n) && n >= MIN_EXPONENT && n <= MAX_EXPONENT;

/**
 * A resolver of currency exponents for one tenant, loading the tenant's deposit-method currency
 * settings once. Nothing new is stored: the exponent is derived, in this order:
 * 1. the tenant's deposit methods that accept the currency (live methods before soft-deleted
 *    ones, most recently updated first), since they define e.g. `USDT` with 6 decimals;
 * 2. the ISO 4217 exponent (`isoExponent` of the protocol package);
 * 3. {@link DEFAULT_DECIMALS}.
 */
export async function currencyDecimalsResolver(db: Db, tenantId: string): Promise<(code: string) => number> {
  const rows = await db
    .selectFrom("deposit_methods")
    .select(["currencies", "deleted_at", "updated_at"])
    .where("tenant_id", "=", tenantId)
    .execute();
  rows.sort(
    (a, b) => Number(a.deleted_at !== null) - Number(b.deleted_at !== null) || b.updated_at - a.updated_at,
  );
  const configured = new Map<string, number>();
  for (const row of rows) {
    let currencies: { code: string; decimals: number }[];
    try {
      currencies = decodeCurrencies(row.currencies);
    } catch {
      continue;
    }
    for (const c of currencies) {
      const code = String(c.code).toUpperCase();
      if (!configured.has(code) && validExponent(c.decimals)) configured.set(code, c.decimals);
    }
  }
  // A currency only credited (a conversion's account currency) has its decimals there.
  for (const row of rows) {
    for (const c of currenciesOf(row.currencies)) {
      const a = c.conversion;
      if (a && !configured.has(a.account) && validExponent(a.accountDecimals))
        configured.set(a.account, a.accountDecimals);
    }
  }
  return (code: string) => {
    const upper = code.toUpperCase();
    const fromMethod = configured.get(upper);
    if (fromMethod !== undefined) return fromMethod;
    const iso = isoExponent(upper);
    return validExponent(iso) ? iso : DEFAULT_DECIMALS;
  };
}

/** The exponent (decimals) of a currency for a tenant: see {@link currencyDecimalsResolver}. */
export async function currencyDecimals(db: Db, tenantId: string, code: string): Promise<number> {
  return (await currencyDecimalsResolver(db, tenantId))(code);
}

const currenciesOf = (text: string): MethodCurrency[] => {
  try {
    return decodeCurrencies(text);
  } catch {
    return [];
  }
};

/**
 * Serialises changes of a tenant's currency exponents (method create and update) on
 * PostgreSQL, so that two methods giving a currency different decimals cannot both pass the
 * check at once. NO KEY UPDATE: inserts that reference the tenant (KEY SHARE) never wait for it.
 * SQLite has one writer, whose transactions are serialised anyway.
 */
export async function lockTenantExponents(trx: Db, tenantId: string): Promise<void> {
  if (!hasRowLocks(trx)) return;
  await trx.selectFrom("tenants").select("id").where("id", "=", tenantId).forNoKeyUpdate().execute();
}

/**
 * What already fixes the decimals of `codes` at a tenant: its live deposit and withdrawal
 * methods (except `exceptMethodId`, the one being changed), its orders and withdrawals (each keeps
 * the decimals it was created with), and its wallets (counted in the tenant's exponent for their
 * currency).
 */
export async function exponentsInUse(
  db: Db,
  tenantId: string,
  codes: readonly string[],
  opts: { exceptMethodId?: string } = {},
): Promise<ExponentInUse[]> {
  if (codes.length === 0) return [];
  const wanted = new Set(codes);
  const uses: ExponentInUse[] = [];
  const methods = await db
    .selectFrom("deposit_methods")
    .select(["id", "name", "currencies"])
    .where("tenant_id", "=", tenantId)
    .where("deleted_at", "is", null)
    .orderBy("sort_order")
    .orderBy("id")
    .execute();
  for (const m of methods) {
    if (m.id === opts.exceptMethodId) continue;
    for (const c of currenciesOf(m.currencies)) {
      if (wanted.has(c.code)) uses.push({ code: c.code, decimals: c.decimals, kind: "method", name: m.name });
      // A currency a method credits (its wallets') is in use at the decimals it credits in.
      const a = c.conversion;
      if (a && wanted.has(a.account))
        uses.push({ code: a.account, decimals: a.accountDecimals, kind: "method", name: m.name });
    }
  }
  // Withdrawal methods pay out in their currencies' decimals, and withdrawals keep theirs.
  const payoutMethods = await db
    .selectFrom("withdrawal_methods")
    .select(["id", "name", "currencies"])
    .where("tenant_id", "=", tenantId)
    .where("deleted_at", "is", null)
    .orderBy("sort_order")
    .orderBy("id")
    .execute();
  for (const m of payoutMethods) {
    if (m.id === opts.exceptMethodId) continue;
    for (const c of decodeJson<Array<{ code: string; decimals: number }>>(m.currencies, []))
      if (wanted.has(c.code))
        uses.push({ code: c.code, decimals: c.decimals, kind: "method", name: `${m.name} (withdrawals)` });
  }
  const withdrawals = await db
    .selectFrom("withdrawals")
    .select((eb) => ["currency", "decimals", eb.fn.countAll().as("n")])
    .where("tenant_id", "=", tenantId)
    .where("currency", "in", [...wanted])
    .groupBy(["currency", "decimals"])
    .execute();
  for (const w of withdrawals)
    uses.push({ code: w.currency, decimals: w.decimals, kind: "withdrawals", count: Number(w.n) });
  const orders = await db
    .selectFrom("deposits")
    .select((eb) => ["currency", "decimals", eb.fn.countAll().as("n")])
    .where("tenant_id", "=", tenantId)
    .where("currency", "in", [...wanted])
    .groupBy(["currency", "decimals"])
    .execute();
  for (const o of orders) {
    uses.push({ code: o.currency, decimals: o.decimals, kind: "orders", count: Number(o.n) });
  }
  // Orders crediting a currency through a quote hold its decimals too.
  const credited = await db
    .selectFrom("deposits")
    .select((eb) => ["account_currency", "account_decimals", eb.fn.countAll().as("n")])
    .where("tenant_id", "=", tenantId)
    .where("account_currency", "in", [...wanted])
    .groupBy(["account_currency", "account_decimals"])
    .execute();
  for (const o of credited) {
    if (o.account_currency === null || o.account_decimals === null) continue;
    uses.push({ code: o.account_currency, decimals: o.account_decimals, kind: "orders", count: Number(o.n) });
  }
  const wallets = await db
    .selectFrom("wallets")
    .select((eb) => ["currency", eb.fn.countAll().as("n")])
    .where("tenant_id", "=", tenantId)
    .where("currency", "in", [...wanted])
    .groupBy("currency")
    .execute();
  if (wallets.length > 0) {
    const decimals = await currencyDecimalsResolver(db, tenantId);
    for (const w of wallets) {
      uses.push({ code: w.currency, decimals: decimals(w.currency), kind: "wallets", count: Number(w.n) });
    }
  }
  return uses;
}

/**
 * Where one tenant's data mixes exponents (see findMixedExponents): live methods disagreeing on
 * a currency's decimals, orders and wallet entries in another exponent than the tenant's.
 */
export async function findExponentProblems(db: Db, tenantId: string): Promise<ExponentProblems> {
  const methods = await db
    .selectFrom("deposit_methods")
    .select(["name", "currencies"])
    .where("tenant_id", "=", tenantId)
    .where("deleted_at", "is", null)
    .orderBy("sort_order")
    .orderBy("id")
    .execute();
  const orders = await db
    .selectFrom("deposits")
    .select((eb) => ["currency", "decimals", eb.fn.countAll().as("n")])
    .where("tenant_id", "=", tenantId)
    .groupBy(["currency", "decimals"])
    .execute();
  const walletEntries = await walletEntriesByExponent(db, tenantId);
  return findMixedExponents(
    {
      methods: methods.map((m) => ({ name: m.name, currencies: currenciesOf(m.currencies) })),
      orders: orders.map((o) => ({ currency: o.currency, decimals: o.decimals, count: Number(o.n) })),
      walletEntries,
    },
    await currencyDecimalsResolver(db, tenantId),
  );
}

/** Wallets of a tenant holding entries in another exponent than the wallet's (for ledger/check). */
export async function findWalletExponentMismatches(
  db: Db,
  tenantId: string,
): Promise<WalletExponentMismatch[]> {
  const walletEntries = await walletEntriesByExponent(db, tenantId);
  if (walletEntries.length === 0) return [];
  const facts = { methods: [], orders: [], walletEntries };
  return findMixedExponents(facts, await currencyDecimalsResolver(db, tenantId)).wallets;
}

/** A tenant's wallet entries counted by exponent: a deposit entry's is its order's (adjustments carry none). */
async function walletEntriesByExponent(db: Db, tenantId: string): Promise<ExponentFacts["walletEntries"]> {
  const rows = await db
    .selectFrom("ledger_entries as e")
    .innerJoin("wallets as w", "w.id", "e.wallet_id")
    .innerJoin("deposits as d", "d.id", "e.deposit_id")
    // A quoted order's credit counts in its account currency's decimals (docs/exchange-rates.md).
    .select((eb) => [
      "w.id",
      "w.client_id",
      "w.currency",
      eb.fn.coalesce("d.account_decimals", "d.decimals").as("decimals"),
      eb.fn.countAll().as("n"),
    ])
    .where("w.tenant_id", "=", tenantId)
    .groupBy((eb) => [
      "w.id",
      "w.client_id",
      "w.currency",
      eb.fn.coalesce("d.account_decimals", "d.decimals"),
    ])
    .execute();
  return rows.map((e) => ({
    walletId: e.id,
    clientId: e.client_id,
    currency: e.currency,
    decimals: e.decimals,
    count: Number(e.n),
  }));
}
