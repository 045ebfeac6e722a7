import { randomId } from "@mantine/hooks";
import { isPayoutRequestKey, tryParseAmount } from "@psphub/protocol";
import { t } from "../i18n/index.js";
import {
  type CurrencyRowValues,
  currencyBodyOf,
  currencyDecimals,
  currencyRowErrors,
  currencyRowOf,
  newCurrencyRow,
} from "./method-currency-row.js";
import type { WithdrawalMethod, WithdrawalMethodInput } from "./types.js";

/**
 * The withdrawal method form's values and rules (docs/withdrawals.md#withdrawal-methods): the
 * currencies as a deposit method's, the client's fields, who sees it, the payout mode, and the
 * approval policy (amount bands in units of each currency, roles per level), checked here as the
 * server checks them so most problems show inline before saving; the server checks again.
 */

/** The roles that may decide a level (viewers never do). */
export const DECIDING_ROLES = ["owner", "admin", "finance"] as const;
export type DecidingRole = (typeof DECIDING_ROLES)[number];
/** A level with no roles named is decided by owners and admins (the server's default). */
export const DEFAULT_LEVEL_ROLES: readonly DecidingRole[] = ["owner", "admin"];
export const MAX_LEVELS = 10;
/** Payouts through an integration need at least this many levels. */
export const MIN_LEVELS_FOR_INTEGRATION = 2;

export interface FieldRow {
  uid: string;
  key: string;
  label: string;
  required: boolean;
}

export interface BandRow {
  uid: string;
  /** The amount the band starts at, in units of each currency ("1000" = 1,000.00 USD, 1,000 JPY). */
  from: string;
  levels: number | string;
}

export interface WithdrawalMethodFormValues {
  name: string;
  enabled: boolean;
  currencies: CurrencyRowValues[];
  fields: FieldRow[];
  visibility: "all" | "groups";
  clientGroups: string[];
  payoutMode: "manual" | "integration";
  integrationId: string | null;
  bands: BandRow[];
  /** Roles per level, index 0 = level 1; only the first `levelCount` levels are used. */
  rolesByLevel: DecidingRole[][];
  autoPayout: boolean;
  failedPayout: "release" | "keep";
}

export const newField = (): FieldRow => ({ uid: randomId(), key: "", label: "", required: true });
export const newBand = (from = "", levels: number | string = 2): BandRow => ({
  uid: randomId(),
  from,
  levels,
});

export const emptyWithdrawalMethod = (): WithdrawalMethodFormValues => ({
  name: "",
  enabled: true,
  currencies: [newCurrencyRow()],
  fields: [],
  visibility: "all",
  clientGroups: [],
  payoutMode: "manual",
  integrationId: null,
  bands: [newBand("0", 1)],
  rolesByLevel: [[...DEFAULT_LEVEL_ROLES]],
  autoPayout: false,
  failedPayout: "release",
});

const deciding = (roles: readonly string[]): DecidingRole[] =>
  DECIDING_ROLES.filter((r) => roles.includes(r));

export const withdrawalMethodValues = (m: WithdrawalMethod): WithdrawalMethodFormValues => ({
  name: m.name,
  enabled: m.enabled,
  currencies: m.currencies.map(currencyRowOf),
  fields: m.fields.map((f) => ({ uid: randomId(), ...f })),
  visibility: m.visibility,
  clientGroups: m.clientGroups,
  payoutMode: m.payoutMode,
  integrationId: m.integrationId,
  bands: m.approval.bands.map((b) => newBand(b.from, b.levels)),
  rolesByLevel: m.approval.rolesByLevel.map(deciding),
  autoPayout: m.approval.autoPayout,
  failedPayout: m.failedPayout,
});

/** How many levels the policy asks at most: the levels rows the form shows roles for. */
export function levelCount(v: Pick<WithdrawalMethodFormValues, "bands">): number {
  let n = 1;
  for (const b of v.bands) {
    const l = Number(b.levels);
    if (Number.isInteger(l) && l > n) n = Math.min(l, MAX_LEVELS);
  }
  return n;
}

/** The roles of level `i + 1` as the form shows them (a level not set yet: owners and admins). */
export const rolesAt = (v: Pick<WithdrawalMethodFormValues, "rolesByLevel">, i: number): DecidingRole[] =>
  v.rolesByLevel[i] ?? [...DEFAULT_LEVEL_ROLES];

export function withdrawalMethodInput(v: WithdrawalMethodFormValues): WithdrawalMethodInput {
  const integration = v.payoutMode === "integration";
  return {
    name: v.name.trim(),
    enabled: v.enabled,
    currencies: v.currencies.map(currencyBodyOf),
    fields: v.fields.map((f) => ({ key: f.key.trim(), label: f.label.trim(), required: f.required })),
    visibility: v.visibility,
    clientGroups: v.visibility === "groups" ? v.clientGroups.map((g) => g.trim()) : [],
    payoutMode: v.payoutMode,
    integrationId: integration ? v.integrationId : null,
    approval: {
      bands: v.bands.map((b) => ({ from: b.from.trim(), levels: Number(b.levels) })),
      rolesByLevel: Array.from({ length: levelCount(v) }, (_, i) => rolesAt(v, i)),
      autoPayout: integration && v.autoPayout,
    },
    failedPayout: v.failedPayout,
  };
}

/** A saved method, as the body that replaces its settings (the list's on/off switch sends it). */
export const inputOfMethod = (m: WithdrawalMethod, patch: Partial<WithdrawalMethodInput> = {}) => ({
  ...withdrawalMethodInput(withdrawalMethodValues(m)),
  ...patch,
});

/** Server issue paths → form paths (the policy is edited beside the rest, not under `approval.`). */
export function withdrawalServerPath(path: string): string {
  if (path === "approval") return "bands";
  if (path.startsWith("approval.")) return path.slice("approval.".length);
  return path;
}

/** A decimal amount as minor units of 8 decimals (bands compare across currencies); null if unreadable. */
function bandKey(from: string): bigint | null {
  const r = tryParseAmount(from, 8);
  return r.ok ? r.minor : null;
}

export function validateWithdrawalMethod(v: WithdrawalMethodFormValues): Record<string, string> {
  const e: Record<string, string> = {};
  if (!v.name.trim()) e.name = t("validation.required");
  if (v.visibility === "groups" && v.clientGroups.length === 0) e.clientGroups = t("methods.groupsRequired");
  if (v.currencies.length === 0) e.currencies = t("methods.currencyRequired");
  const seen = new Set<string>();
  v.currencies.forEach((c, i) => {
    currencyRowErrors(c, i, seen, e);
  });

  const keys = new Set<string>();
  v.fields.forEach((f, i) => {
    const key = f.key.trim();
    if (!/^[a-z][a-z0-9_]{0,39}$/.test(key)) e[`fields.${i}.key`] = t("wmethods.fieldKeyFormat");
    else if (isPayoutRequestKey(key)) e[`fields.${i}.key`] = t("wmethods.fieldKeyReserved", { key });
    else if (keys.has(key)) e[`fields.${i}.key`] = t("wmethods.fieldKeyTwice");
    keys.add(key);
    if (!f.label.trim()) e[`fields.${i}.label`] = t("validation.required");
  });

  const integration = v.payoutMode === "integration";
  if (integration && !v.integrationId) e.integrationId = t("validation.required");

  let previous: bigint | null = null;
  v.bands.forEach((b, i) => {
    const from = b.from.trim();
    const key = bandKey(from);
    if (key === null) e[`bands.${i}.from`] = t("validation.decimal");
    else if (i === 0 && key !== 0n) e[`bands.${i}.from`] = t("wmethods.firstBandZero");
    else if (previous !== null && key <= previous) e[`bands.${i}.from`] = t("wmethods.bandsAscending");
    else {
      // "100.5" is no amount of JPY: every currency of the method must read the band's start.
      const refused = v.currencies.find((c) => {
        const d = currencyDecimals(c);
        return d !== undefined && !tryParseAmount(from, d).ok;
      });
      if (refused)
        e[`bands.${i}.from`] = t("wmethods.bandNotAmount", { code: refused.code.trim().toUpperCase() });
    }
    if (key !== null) previous = key;
    const levels = Number(b.levels);
    if (!Number.isInteger(levels) || levels < 1 || levels > MAX_LEVELS)
      e[`bands.${i}.levels`] = t("validation.range", { min: 1, max: MAX_LEVELS });
    else if (integration && levels < MIN_LEVELS_FOR_INTEGRATION)
      e[`bands.${i}.levels`] = t("wmethods.integrationLevels", { min: MIN_LEVELS_FOR_INTEGRATION });
  });
  if (v.bands.length === 0) e.bands = t("wmethods.bandRequired");

  for (let i = 0; i < levelCount(v); i++)
    if (rolesAt(v, i).length === 0) e[`rolesByLevel.${i}`] = t("wmethods.levelNeedsRole");
  return e;
}
