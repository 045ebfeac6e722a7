import { decodeJson, toBool } from "../../infra/db/database.js";
import type { DepositMethodsTable } from "../../infra/db/schema.js";
import type { CustomParam, Integration } from "../psp-integrations/integration-model.js";

/**
 * One accepted currency of a deposit method. Amounts are integer minor units of the currency
 * (exponent `decimals`); the fee percentage is in basis points (2.5 % = 250).
 */
export interface MethodCurrency {
  code: string;
  decimals: number;
  minMinor: bigint;
  maxMinor: bigint;
  feePercentBps: number;
  feeFixedMinor: bigint;
  /** null: no cap. */
  feeMaxMinor: bigint | null;
  /** Absent or null: credits a wallet in this currency itself (docs/exchange-rates.md). */
  conversion?: MethodConversion | null;
}

/** One rate rule of a conversion: `group` null is the default of every client group. */
export interface ConversionRule {
  group: string | null;
  sourceId: string;
  markupBps: number;
}

/**
 * What a payment currency credits instead of itself: a wallet in `account` (minor units of
 * `accountDecimals`), at the rate of the client group's rule (else the default rule's).
 */
export interface MethodConversion {
  account: string;
  accountDecimals: number;
  rules: ConversionRule[];
}

/** The rule of a client's group, else the default rule (validation keeps one). */
export function ruleFor(conversion: MethodConversion, group: string | null): ConversionRule | undefined {
  return (
    (group === null ? undefined : conversion.rules.find((r) => r.group === group)) ??
    conversion.rules.find((r) => r.group === null)
  );
}

/**
 * Stored form of a conversion. Key names and order are fixed: the rate sources find the methods
 * using a source with a LIKE on `"source_id":"<id>"` (modules/fx-rates).
 */
interface StoredConversion {
  account: string;
  account_decimals: number;
  rules: { group: string | null; source_id: string; markup_bps: number }[];
}

/** JSON form stored in deposit_methods.currencies (bigints as decimal strings of minor units). */
export interface StoredMethodCurrency {
  code: string;
  decimals: number;
  min: string;
  max: string;
  fee_bps: number;
  fee_fixed: string;
  fee_max: string | null;
  /** Absent or null: no conversion. */
  conversion?: StoredConversion | null;
}

const encodeConversion = (c: MethodConversion): StoredConversion => ({
  account: c.account,
  account_decimals: c.accountDecimals,
  rules: c.rules.map((r) => ({ group: r.group, source_id: r.sourceId, markup_bps: r.markupBps })),
});

const decodeConversion = (c: StoredConversion | null | undefined): MethodConversion | null =>
  c === null || c === undefined
    ? null
    : {
        account: c.account,
        accountDecimals: c.account_decimals,
        rules: c.rules.map((r) => ({ group: r.group, sourceId: r.source_id, markupBps: r.markup_bps })),
      };

export const encodeCurrencies = (cs: MethodCurrency[]): string =>
  JSON.stringify(
    cs.map(
      (c): StoredMethodCurrency => ({
        code: c.code,
        decimals: c.decimals,
        min: c.minMinor.toString(),
        max: c.maxMinor.toString(),
        fee_bps: c.feePercentBps,
        fee_fixed: c.feeFixedMinor.toString(),
        fee_max: c.feeMaxMinor === null ? null : c.feeMaxMinor.toString(),
        // Left out when null: a same-currency method's JSON stays as it always was.
        ...(c.conversion ? { conversion: encodeConversion(c.conversion) } : {}),
      }),
    ),
  );

export const decodeCurrencies = (text: string): MethodCurrency[] =>
  decodeJson<StoredMethodCurrency[]>(text, []).map((c) => ({
    code: c.code,
    decimals: c.decimals,
    minMinor: BigInt(c.min),
    maxMinor: BigInt(c.max),
    feePercentBps: c.fee_bps,
    feeFixedMinor: BigInt(c.fee_fixed),
    feeMaxMinor: c.fee_max === null ? null : BigInt(c.fee_max),
    ...(c.conversion ? { conversion: decodeConversion(c.conversion) } : {}),
  }));

export interface DepositMethod {
  id: string;
  tenantId: string;
  integrationId: string;
  name: string;
  enabled: boolean;
  sortOrder: number;
  currencies: MethodCurrency[];
  visibility: "all" | "groups";
  clientGroups: string[];
  /** Per-method labels of the integration's custom parameters, by key. */
  fieldLabels: Record<string, string>;
  orderTtlSeconds: number;
  /** Offered instead while this method's integration is unavailable (its API-1 breaker is open). */
  fallbackMethodId: string | null;
  createdAt: number;
  updatedAt: number;
}

export const DEFAULT_ORDER_TTL_SECONDS = 30 * 60;

export function toDepositMethod(row: DepositMethodsTable): DepositMethod {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    integrationId: row.integration_id,
    name: row.name,
    enabled: toBool(row.enabled),
    sortOrder: row.sort_order,
    currencies: decodeCurrencies(row.currencies),
    visibility: row.visibility,
    clientGroups: decodeJson<string[]>(row.client_groups, []),
    fieldLabels: decodeJson<Record<string, string>>(row.field_labels, {}),
    orderTtlSeconds: row.order_ttl_seconds,
    fallbackMethodId: row.fallback_method_id ?? null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

// The fee rule is the protocol package's, shared with the web's fee preview.
export { computeFee } from "@psphub/protocol";

/** A deposit field as the client sees it: the integration's custom parameter, relabelled per method. */
export interface DepositField extends CustomParam {
  /** The integration's own label, before the method's override. */
  defaultLabel: string;
}

/**
 * The method's deposit fields, derived from its integration's custom parameters every time,
 * so parameters added after the method was created appear at once. A label never changes a key.
 */
export function depositFields(
  method: Pick<DepositMethod, "fieldLabels">,
  integration: Pick<Integration, "customParams">,
): DepositField[] {
  return [...integration.customParams]
    .sort((a, b) => a.order - b.order)
    .map((p) => ({ ...p, defaultLabel: p.label, label: method.fieldLabels[p.key]?.trim() || p.label }));
}

/** Whether a client (by group) may see and use a method. */
export function isVisibleTo(
  method: Pick<DepositMethod, "visibility" | "clientGroups">,
  clientGroup: string | null,
): boolean {
  return method.visibility === "all" || (clientGroup !== null && method.clientGroups.includes(clientGroup));
}
