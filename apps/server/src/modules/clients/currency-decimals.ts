import { isoExponent, MAX_EXPONENT, MIN_EXPONENT } from "@psphub/protocol";
import type { Db } from "../../infra/db/database.js";
import { decodeCurrencies } from "../deposit-methods/method-model.js";

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
