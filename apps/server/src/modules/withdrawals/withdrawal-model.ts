import { computeFee, MAX_MINOR_UNITS, tryParseAmount } from "@psphub/protocol";
import { decodeJson, toBool } from "../../infra/db/database.js";
import type { WithdrawalMethodsTable } from "../../infra/db/schema.js";
import type { MethodCurrency } from "../deposit-methods/method-model.js";
import type { ApprovalPolicy } from "./approval-policy.js";

/** One currency a withdrawal method pays out in: limits and fee, in minor units, as a deposit method's. */
export type WithdrawalCurrency = Omit<MethodCurrency, "conversion">;

/** A field the client fills in (IBAN, wallet address…). */
export type WithdrawalField = { key: string; label: string; required: boolean };

export type WithdrawalMethod = {
  id: string;
  tenantId: string;
  name: string;
  enabled: boolean;
  sortOrder: number;
  /** Who sees it in the portal: everyone, or clients of these groups. */
  visibility: "all" | "groups";
  clientGroups: string[];
  currencies: WithdrawalCurrency[];
  fields: WithdrawalField[];
  payoutMode: "manual" | "integration";
  integrationId: string | null;
  /** The approval policy as configured: band amounts in units of the withdrawal's currency. */
  approval: ApprovalSettings;
  failedPayout: "release" | "keep";
  deleted: boolean;
};

type StoredCurrency = Omit<WithdrawalCurrency, "minMinor" | "maxMinor" | "feeFixedMinor" | "feeMaxMinor"> & {
  minMinor: string;
  maxMinor: string;
  feeFixedMinor: string;
  feeMaxMinor: string | null;
};
/**
 * The approval policy as an admin sets it: each band starts at an amount in units of the
 * withdrawal's own currency ("1000": 1,000.00 USD, 1,000 JPY), so one method serves all its
 * currencies.
 */
export type ApprovalSettings = Omit<ApprovalPolicy, "bands"> & {
  bands: Array<{ from: string; levels: number }>;
};

/** The policy in minor units of a currency with these decimals. */
export function policyFor(approval: ApprovalSettings, decimals: number): ApprovalPolicy {
  return {
    ...approval,
    bands: approval.bands.map((b) => {
      const parsed = tryParseAmount(b.from, decimals);
      // Saving refuses a band a currency cannot hold; a stored one that still cannot is never reached.
      return { fromMinor: parsed.ok ? parsed.minor : MAX_MINOR_UNITS + 1n, levels: b.levels };
    }),
  };
}

export function toWithdrawalMethod(row: WithdrawalMethodsTable): WithdrawalMethod {
  const approval = decodeJson<ApprovalSettings>(row.approval_policy, {
    bands: [],
    rolesByLevel: [],
    autoPayout: false,
  });
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    enabled: toBool(row.enabled),
    sortOrder: row.sort_order,
    visibility: row.visibility,
    clientGroups: decodeJson<string[]>(row.client_groups, []),
    currencies: decodeJson<StoredCurrency[]>(row.currencies, []).map((c) => ({
      ...c,
      minMinor: BigInt(c.minMinor),
      maxMinor: BigInt(c.maxMinor),
      feeFixedMinor: BigInt(c.feeFixedMinor),
      feeMaxMinor: c.feeMaxMinor === null ? null : BigInt(c.feeMaxMinor),
    })),
    fields: decodeJson<WithdrawalField[]>(row.fields, []),
    payoutMode: row.payout_mode,
    integrationId: row.integration_id,
    approval,
    failedPayout: row.failed_payout,
    deleted: row.deleted_at !== null,
  };
}

/** The stored forms (JSON with minor units as decimal strings). */
export const encodeCurrencies = (cs: readonly WithdrawalCurrency[]): string =>
  JSON.stringify(
    cs.map((c) => ({
      ...c,
      minMinor: String(c.minMinor),
      maxMinor: String(c.maxMinor),
      feeFixedMinor: String(c.feeFixedMinor),
      feeMaxMinor: c.feeMaxMinor === null ? null : String(c.feeMaxMinor),
    })),
  );
export const encodeApproval = (a: ApprovalSettings): string => JSON.stringify(a);

/** The fee of a withdrawal and what the client receives (pure; the fee never exceeds the amount). */
export function withdrawalFigures(
  c: WithdrawalCurrency,
  amountMinor: bigint,
): { feeMinor: bigint; payoutMinor: bigint } {
  const fee = computeFee(amountMinor, c);
  const feeMinor = fee > amountMinor ? amountMinor : fee;
  return { feeMinor, payoutMinor: amountMinor - feeMinor };
}
