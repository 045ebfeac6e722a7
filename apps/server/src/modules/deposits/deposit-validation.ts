import { formatAmount, isJsonNumberText, tryParseAmount } from "@psphub/protocol";
import { type FieldIssue, NotFoundError, ValidationError } from "../../common/errors.js";
import {
  computeFee,
  type DepositField,
  type DepositMethod,
  depositFields,
  isVisibleTo,
  type MethodCurrency,
} from "../deposit-methods/method-model.js";
import type { Integration } from "../psp-integrations/integration-model.js";

/**
 * Pure checks of a deposit request against its method (no I/O): availability, currency, amount
 * (limits, precision, fee) and the client's deposit fields. Every problem becomes a field issue
 * with a path (`amount`, `currency`, `fields.<key>`, `methodId`), all reported at once.
 */

/** What a method looks like to one client: usable, hidden/gone (404), or switched off (400). */
export type MethodAvailability = "ok" | "not_found" | "disabled";

export type MethodContext = {
  method: DepositMethod;
  /** deposit_methods.deleted_at: a soft-deleted method is gone for new deposits. */
  deletedAt: number | null;
  integration: Pick<Integration, "enabled" | "customParams">;
};

/**
 * Decision (ours): a method that does not exist, belongs to another tenant, is soft-deleted or
 * is not visible to the client's group answers 404 exactly like an unknown id, so a client
 * cannot learn which hidden methods exist. A visible method that is disabled (or whose
 * integration is disabled) answers 400 on `methodId`, since the client may have seen it listed.
 */
export function methodAvailability(
  m: MethodContext | undefined,
  clientGroup: string | null,
): MethodAvailability {
  if (!m || m.deletedAt !== null || !isVisibleTo(m.method, clientGroup)) return "not_found";
  if (!m.method.enabled || !m.integration.enabled) return "disabled";
  return "ok";
}

export function assertMethodUsable(
  m: MethodContext | undefined,
  clientGroup: string | null,
): asserts m is MethodContext {
  const a = methodAvailability(m, clientGroup);
  if (a === "not_found") throw new NotFoundError("Deposit method");
  if (a === "disabled")
    throw new ValidationError("This deposit method is not available", [
      { path: "methodId", message: "This deposit method is currently not available" },
    ]);
}

export const FIELD_TEXT_MAX = 200;
const EMAIL_MAX = 254;
const NUMBER_MAX = 40;
const PHONE = /^\+?[0-9 ()-]{5,20}$/;
// Deliberately plain: a dot-atom local part and a host name with at least one dot and a TLD.
const EMAIL =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,63}$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** Why one value does not fit its field, or undefined when it does. `value` is already trimmed. */
export function fieldValueProblem(
  field: Pick<DepositField, "type" | "options">,
  value: string,
): string | undefined {
  if (CONTROL.test(value)) return "must not contain control characters";
  switch (field.type) {
    case "text":
      return Array.from(value).length > FIELD_TEXT_MAX
        ? `must be at most ${FIELD_TEXT_MAX} characters`
        : undefined;
    case "number":
      return value.length > NUMBER_MAX || !isJsonNumberText(value)
        ? "must be a number, e.g. 42 or 3.5"
        : undefined;
    case "email":
      return value.length > EMAIL_MAX || !EMAIL.test(value) ? "must be a valid email address" : undefined;
    case "phone":
      return PHONE.test(value)
        ? undefined
        : "must be a phone number (digits, spaces, ( ) - and an optional leading +)";
    case "select":
      return (field.options ?? []).includes(value)
        ? undefined
        : `must be one of: ${(field.options ?? []).join(", ")}`;
    default:
      return "has an unsupported type";
  }
}

/**
 * The client's deposit fields against the method's fields: unknown keys refused, required ones
 * present and non-empty, each value of its type. Values are trimmed; an empty optional value is
 * left out (it would not be signed or sent anyway).
 */
export function validateFieldValues(
  fields: readonly DepositField[],
  input: Readonly<Record<string, string>>,
): { values: Record<string, string>; issues: FieldIssue[] } {
  const issues: FieldIssue[] = [];
  const values: Record<string, string> = {};
  const known = new Map(fields.map((f) => [f.key, f]));
  for (const key of Object.keys(input)) {
    if (!known.has(key))
      issues.push({ path: `fields.${key}`, message: "is not a field of this deposit method" });
  }
  for (const f of fields) {
    const raw = Object.hasOwn(input, f.key) ? input[f.key] : undefined;
    const value = typeof raw === "string" ? raw.trim() : "";
    if (value === "") {
      if (f.required) issues.push({ path: `fields.${f.key}`, message: `${f.label} is required` });
      continue;
    }
    const problem = fieldValueProblem(f, value);
    if (problem) issues.push({ path: `fields.${f.key}`, message: `${f.label} ${problem}` });
    else values[f.key] = value;
  }
  return { values, issues };
}

export type AmountCheck =
  | { ok: true; amountMinor: bigint; feeMinor: bigint; creditMinor: bigint }
  | { ok: false; issue: FieldIssue };

/** Amount text → minor units within the currency's limits, with its fee (which must stay below it). */
export function checkAmount(amountText: string, c: MethodCurrency): AmountCheck {
  const bad = (message: string): AmountCheck => ({ ok: false, issue: { path: "amount", message } });
  const show = (minor: bigint) => `${formatAmount(minor, c.decimals)} ${c.code}`;
  const parsed = tryParseAmount(amountText.trim(), c.decimals);
  if (!parsed.ok) {
    switch (parsed.code) {
      case "amount_too_precise":
        return bad(
          c.decimals === 0
            ? `${c.code} amounts must be whole numbers`
            : `${c.code} amounts may have at most ${c.decimals} decimals`,
        );
      case "amount_negative":
        return bad("The amount must not be negative");
      case "amount_too_large":
        return bad(`The maximum amount is ${show(c.maxMinor)}`);
      default:
        return bad("Enter the amount as a decimal number, e.g. 100.50");
    }
  }
  const amountMinor = parsed.minor;
  if (amountMinor <= 0n) return bad("The amount must be greater than zero");
  if (amountMinor < c.minMinor) return bad(`The minimum amount is ${show(c.minMinor)}`);
  if (amountMinor > c.maxMinor) return bad(`The maximum amount is ${show(c.maxMinor)}`);
  const feeMinor = computeFee(amountMinor, c);
  if (feeMinor >= amountMinor) return bad(`The amount must be larger than its fee of ${show(feeMinor)}`);
  return { ok: true, amountMinor, feeMinor, creditMinor: amountMinor - feeMinor };
}

export type DepositRequestParts = {
  currency: string;
  amount: string;
  fields: Readonly<Record<string, string>>;
};

export type ValidatedDeposit = {
  currency: MethodCurrency;
  amountMinor: bigint;
  feeMinor: bigint;
  creditMinor: bigint;
  /** Trimmed values by custom key, empty optional ones left out. */
  fields: Record<string, string>;
};

/**
 * The amount part of a deposit request (a quote's): method usable, currency accepted, amount
 * within limits and above its fee. Throws as {@link validateDepositRequest}.
 */
export function validateAmountRequest(
  m: MethodContext | undefined,
  clientGroup: string | null,
  input: Pick<DepositRequestParts, "currency" | "amount">,
): Omit<ValidatedDeposit, "fields"> {
  assertMethodUsable(m, clientGroup);
  const code = input.currency.trim().toUpperCase();
  const currency = m.method.currencies.find((c) => c.code.toUpperCase() === code);
  if (!currency) {
    const accepted = m.method.currencies.map((c) => c.code).join(", ");
    throw new ValidationError("The deposit request is invalid", [
      {
        path: "currency",
        message: `${code || "This currency"} is not accepted by this method${accepted ? ` (accepted: ${accepted})` : ""}`,
      },
    ]);
  }
  const amount = checkAmount(input.amount, currency);
  if (!amount.ok) throw new ValidationError("The deposit request is invalid", [amount.issue]);
  return {
    currency,
    amountMinor: amount.amountMinor,
    feeMinor: amount.feeMinor,
    creditMinor: amount.creditMinor,
  };
}

/**
 * The whole pure check of a deposit request. Throws NotFoundError (method gone or hidden) or
 * one ValidationError listing every issue.
 */
export function validateDepositRequest(
  m: MethodContext | undefined,
  clientGroup: string | null,
  input: DepositRequestParts,
): ValidatedDeposit {
  assertMethodUsable(m, clientGroup);
  const issues: FieldIssue[] = [];
  const code = input.currency.trim().toUpperCase();
  const currency = m.method.currencies.find((c) => c.code.toUpperCase() === code);
  let amount: AmountCheck | undefined;
  if (!currency) {
    const accepted = m.method.currencies.map((c) => c.code).join(", ");
    issues.push({
      path: "currency",
      message: `${code || "This currency"} is not accepted by this method${accepted ? ` (accepted: ${accepted})` : ""}`,
    });
  } else {
    amount = checkAmount(input.amount, currency);
    if (!amount.ok) issues.push(amount.issue);
  }
  const fields = validateFieldValues(depositFields(m.method, m.integration), input.fields);
  issues.push(...fields.issues);
  if (issues.length > 0 || !currency || !amount?.ok)
    throw new ValidationError("The deposit request is invalid", issues);
  return {
    currency,
    amountMinor: amount.amountMinor,
    feeMinor: amount.feeMinor,
    creditMinor: amount.creditMinor,
    fields: fields.values,
  };
}
