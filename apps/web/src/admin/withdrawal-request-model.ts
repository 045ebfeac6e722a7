import { t } from "../i18n/index.js";
import type { FieldIssue } from "../lib/api.js";
import { groupDigits, tryParseAmount } from "../lib/money.js";
import { canonicalAmount } from "../portal/deposit-form-model.js";
import {
  usableCurrencies,
  type WithdrawFormValues,
  withdrawAmountError,
  withdrawFieldError,
} from "../portal/withdraw-form-model.js";
import type { WithdrawalMethod } from "./types.js";

/**
 * A withdrawal requested by staff on a client's behalf (`POST /api/admin/withdrawals`,
 * docs/withdrawals.md#the-approval-queue): the portal's rules (portal/withdraw-form-model.ts:
 * limits, fee, fields) worded for the person asking for the client, the methods the client may
 * use, and the server's refusals mapped onto the form's fields. The server checks everything
 * again; the person who asks never approves it.
 */

type Method = Pick<
  WithdrawalMethod,
  "id" | "enabled" | "visibility" | "clientGroups" | "currencies" | "fields"
>;
type WalletLike = { currency: string; available: string };

/**
 * The methods the server lets this client use (enabled, visible to the client's group), in a
 * currency the client has a wallet in, with only those currencies.
 */
export function methodsForClient<M extends Method>(
  methods: readonly M[],
  client: { group: string | null; wallets: readonly Pick<WalletLike, "currency">[] },
): M[] {
  return methods
    .filter(
      (m) =>
        m.enabled &&
        (m.visibility === "all" || (client.group !== null && m.clientGroups.includes(client.group))),
    )
    .map((m) => ({ ...m, currencies: usableCurrencies(m, client.wallets) }))
    .filter((m) => m.currencies.length > 0);
}

/** More than the client's available balance: at most `available` (decimal text) of `currency`. */
export const moreThanAvailable = (available: string, currency: string): string =>
  t("staffWithdraw.moreThanAvailable", { available: `${groupDigits(available)} ${currency}` });

/** The form's errors, by form path (`currency`, `amount`, `fieldValues.<i>`); empty when it may be sent. */
export function validateStaffWithdrawal(
  method: Pick<Method, "currencies" | "fields">,
  v: WithdrawFormValues,
  availableOf: (currency: string) => string | null,
): Record<string, string> {
  const e: Record<string, string> = {};
  const c = method.currencies.find((x) => x.code === v.currency);
  if (!c) e.currency = t("validation.required");
  // The method's limits as the portal checks them; the available balance in the staff's words.
  const a = withdrawAmountError(c, v.amount, null);
  if (a) e.amount = a;
  else if (c) {
    const available = availableOf(c.code);
    const asked = tryParseAmount(canonicalAmount(v.amount) ?? "", c.decimals);
    const left = available === null ? null : tryParseAmount(available, c.decimals);
    if (asked.ok && left?.ok && asked.minor > left.minor) e.amount = moreThanAvailable(available!, c.code);
  }
  method.fields.forEach((f, i) => {
    const err = withdrawFieldError(f, v.fieldValues[i] ?? "");
    if (err) e[`fieldValues.${i}`] = err;
  });
  return e;
}

/** The body of `POST /api/admin/withdrawals` (without the idempotency key): blank fields left out. */
export function staffWithdrawalBody(
  clientId: string,
  method: Pick<Method, "id" | "fields">,
  v: WithdrawFormValues,
): { clientId: string; methodId: string; currency: string; amount: string; fields: Record<string, string> } {
  const fields: Record<string, string> = {};
  method.fields.forEach((f, i) => {
    const value = (v.fieldValues[i] ?? "").trim();
    if (value) fields[f.key] = value;
  });
  return {
    clientId,
    methodId: method.id,
    currency: v.currency,
    amount: canonicalAmount(v.amount) ?? v.amount.trim(),
    fields,
  };
}

/**
 * The server's field issues at the form's fields: `amount`, `currency`, `methodId` and each
 * `fields.<key>` (a schema issue's path starts with `body.`); an issue of no field of the form
 * (a key the method does not have) goes to `form`.
 */
export function issuesAtFields(
  issues: readonly FieldIssue[],
  method: Pick<Method, "fields">,
): Record<string, string> {
  const out: Record<string, string> = {};
  const put = (path: string, message: string) => {
    if (!(path in out)) out[path] = message;
  };
  for (const issue of issues) {
    const path = issue.path.replace(/^body\.?/, "");
    if (path.startsWith("fields.")) {
      const key = path.slice("fields.".length);
      const i = method.fields.findIndex((f) => f.key === key);
      if (i >= 0) put(`fieldValues.${i}`, issue.message);
      else put("form", `${key}: ${issue.message}`);
    } else if (path === "amount" || path === "currency" || path === "methodId") put(path, issue.message);
    else put("form", path ? `${path}: ${issue.message}` : issue.message);
  }
  return out;
}
