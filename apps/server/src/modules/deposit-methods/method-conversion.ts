import type { FieldIssue } from "../../common/errors.js";
import type { Db } from "../../infra/db/database.js";
import { exponentsInUse } from "../clients/currency-decimals.js";
import { describeUse } from "./currency-exponents.js";
import type { MethodCurrency } from "./method-model.js";

/**
 * The rules of a method's conversions that need the tenant's data, issues at
 * `currencies.<i>.conversion.…`: every rule's source is a live rate source of the tenant, and an
 * account currency keeps the tenant's decimals for it (wallets are keyed by client and currency,
 * so what a conversion credits must count in the wallets' exponent), including the method's own
 * payment currencies. `exceptMethodId`: the method being changed.
 */
export async function conversionStoreIssues(
  trx: Db,
  tenantId: string,
  currencies: readonly MethodCurrency[],
  inputs: readonly { code: string }[],
  opts: { exceptMethodId?: string; kept?: readonly MethodCurrency[] } = {},
): Promise<FieldIssue[]> {
  const converting = currencies.filter((c) => c.conversion);
  if (converting.length === 0) return [];
  const issues: FieldIssue[] = [];
  const at = (code: string, field: string) =>
    `currencies.${inputs.findIndex((i) => i.code === code)}.conversion.${field}`;

  const sourceIds = [...new Set(converting.flatMap((c) => c.conversion?.rules.map((r) => r.sourceId) ?? []))];
  const live = new Set(
    (
      await trx
        .selectFrom("fx_sources")
        .select("id")
        .where("tenant_id", "=", tenantId)
        .where("deleted_at", "is", null)
        .where("id", "in", sourceIds)
        .execute()
    ).map((r) => r.id),
  );
  const accounts = [...new Set(converting.map((c) => c.conversion?.account ?? ""))];
  const inUse = await exponentsInUse(trx, tenantId, accounts, { exceptMethodId: opts.exceptMethodId });
  for (const c of converting) {
    const conv = c.conversion;
    if (!conv) continue;
    conv.rules.forEach((r, j) => {
      if (!live.has(r.sourceId))
        issues.push({ path: at(c.code, `rules.${j}.sourceId`), message: "Rate source not found" });
    });
    // Keeping what the method already credits is no change: existing orders and wallets that
    // mix exponents must not lock it (as exponentIssues).
    const kept = (opts.kept ?? []).some(
      (k) => k.conversion?.account === conv.account && k.conversion.accountDecimals === conv.accountDecimals,
    );
    const own = currencies
      .filter((o) => o.code === conv.account && o.decimals !== conv.accountDecimals)
      .map((o) => `${o.decimals} decimals as a payment currency of this method`);
    const ownCredits = currencies
      .filter(
        (o) =>
          o.conversion?.account === conv.account && o.conversion.accountDecimals !== conv.accountDecimals,
      )
      .map((o) => `${o.conversion?.accountDecimals} decimals credited from ${o.code} by this method`);
    const others = inUse
      .filter(
        (u) =>
          u.code === conv.account && u.decimals !== conv.accountDecimals && !(kept && u.kind !== "method"),
      )
      .map((u) => `${u.decimals} decimals (${describeUse(u)})`);
    const clash = [...own, ...ownCredits, ...others];
    if (clash.length > 0)
      issues.push({
        path: at(c.code, "accountDecimals"),
        message: `${conv.account} already has ${clash.join(" and ")}: a wallet currency keeps the same decimals everywhere`,
      });
  }
  return issues;
}
