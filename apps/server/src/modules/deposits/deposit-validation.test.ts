import { describe, expect, it } from "vitest";
import { AppError, NotFoundError, ValidationError } from "../../common/errors.js";
import type { DepositMethod, MethodCurrency } from "../deposit-methods/method-model.js";
import type { CustomParam } from "../psp-integrations/integration-model.js";
import {
  checkAmount,
  fieldValueProblem,
  type MethodContext,
  methodAvailability,
  validateDepositRequest,
  validateFieldValues,
} from "./deposit-validation.js";

const USD: MethodCurrency = {
  code: "USD",
  decimals: 2,
  minMinor: 1_000n,
  maxMinor: 500_000n,
  feePercentBps: 250,
  feeFixedMinor: 30n,
  feeMaxMinor: 2_000n,
};
const JPY: MethodCurrency = {
  code: "JPY",
  decimals: 0,
  minMinor: 100n,
  maxMinor: 1_000_000n,
  feePercentBps: 0,
  feeFixedMinor: 0n,
  feeMaxMinor: null,
};
const PARAMS: CustomParam[] = [
  { key: "bank", label: "Bank", type: "select", required: true, options: ["abc", "xyz"], order: 1 },
  { key: "note", label: "Note", type: "text", required: false, order: 2 },
  { key: "payer_email", label: "Payer email", type: "email", required: false, order: 3 },
  { key: "payer_phone", label: "Payer phone", type: "phone", required: false, order: 4 },
  { key: "account", label: "Account", type: "number", required: false, order: 5 },
];

function methodCtx(over: Partial<DepositMethod> = {}, extra: Partial<MethodContext> = {}): MethodContext {
  return {
    method: {
      id: "m1",
      tenantId: "t1",
      integrationId: "i1",
      name: "Card",
      enabled: true,
      sortOrder: 0,
      currencies: [USD, JPY],
      visibility: "all",
      clientGroups: [],
      fieldLabels: { bank: "Your bank" },
      orderTtlSeconds: 1800,
      fallbackMethodId: null,
      createdAt: 0,
      updatedAt: 0,
      ...over,
    },
    deletedAt: null,
    integration: { enabled: true, customParams: PARAMS },
    ...extra,
  };
}

function issuesOf(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ValidationError) return e.details?.issues ?? [];
    throw e;
  }
  throw new Error("expected a ValidationError");
}

describe("method availability", () => {
  it("is ok for an enabled, visible method of an enabled integration", () => {
    expect(methodAvailability(methodCtx(), null)).toBe("ok");
  });
  it("hides unknown, soft-deleted and invisible methods as not found", () => {
    expect(methodAvailability(undefined, null)).toBe("not_found");
    expect(methodAvailability(methodCtx({}, { deletedAt: 5 }), null)).toBe("not_found");
    const vip = methodCtx({ visibility: "groups", clientGroups: ["vip"] });
    expect(methodAvailability(vip, null)).toBe("not_found");
    expect(methodAvailability(vip, "retail")).toBe("not_found");
    expect(methodAvailability(vip, "vip")).toBe("ok");
  });
  it("reports a disabled method or integration as disabled", () => {
    expect(methodAvailability(methodCtx({ enabled: false }), null)).toBe("disabled");
    expect(
      methodAvailability(methodCtx({}, { integration: { enabled: false, customParams: [] } }), null),
    ).toBe("disabled");
  });
  it("answers 404 for hidden methods and 400 on methodId for disabled ones", () => {
    const input = { currency: "USD", amount: "100", fields: { bank: "abc" } };
    expect(() => validateDepositRequest(undefined, null, input)).toThrow(NotFoundError);
    expect(issuesOf(() => validateDepositRequest(methodCtx({ enabled: false }), null, input))).toEqual([
      { path: "methodId", message: expect.any(String) },
    ]);
  });
});

describe("amount", () => {
  it("parses to minor units and computes fee and credit", () => {
    expect(checkAmount("100.10", USD)).toEqual({
      ok: true,
      amountMinor: 10_010n,
      feeMinor: 250n + 30n, // 2.5 % of 100.10 = 2.5025 → 2.50, + 0.30
      creditMinor: 10_010n - 280n,
    });
    expect(checkAmount("1e2", USD)).toMatchObject({ ok: true, amountMinor: 10_000n });
    expect(checkAmount("100.0000", USD)).toMatchObject({ ok: true, amountMinor: 10_000n });
  });
  it("refuses more decimals than the currency has, with a clear message", () => {
    expect(checkAmount("100.123", USD)).toEqual({
      ok: false,
      issue: { path: "amount", message: "USD amounts may have at most 2 decimals" },
    });
    expect(checkAmount("100.5", JPY)).toEqual({
      ok: false,
      issue: { path: "amount", message: "JPY amounts must be whole numbers" },
    });
  });
  it.each(["", "abc", "+1", "1,000", "0x10", "NaN", ".5", "5."])("refuses %j as not a number", (text) => {
    expect(checkAmount(text, USD)).toMatchObject({ ok: false, issue: { path: "amount" } });
  });
  it("enforces min and max with the limits in the message", () => {
    expect(checkAmount("9.99", USD)).toEqual({
      ok: false,
      issue: { path: "amount", message: "The minimum amount is 10.00 USD" },
    });
    expect(checkAmount("5000.01", USD)).toEqual({
      ok: false,
      issue: { path: "amount", message: "The maximum amount is 5000.00 USD" },
    });
    expect(checkAmount("10", USD)).toMatchObject({ ok: true });
    expect(checkAmount("5000", USD)).toMatchObject({ ok: true });
    expect(checkAmount("-10", USD)).toMatchObject({ ok: false });
    expect(checkAmount("0", { ...USD, minMinor: 0n })).toMatchObject({ ok: false });
    expect(checkAmount("1e30", USD)).toMatchObject({ ok: false });
  });
  it("refuses an amount its fee would swallow", () => {
    const pricey = { ...USD, minMinor: 1n, feeFixedMinor: 500n, feeMaxMinor: null };
    expect(checkAmount("5", pricey)).toEqual({
      ok: false,
      issue: { path: "amount", message: "The amount must be larger than its fee of 5.13 USD" },
    });
    expect(checkAmount("6", pricey)).toMatchObject({ ok: true, feeMinor: 515n, creditMinor: 85n });
  });
});

describe("deposit fields", () => {
  const fields = PARAMS.map((p) => ({ ...p, defaultLabel: p.label }));

  it("accepts valid values, trims them and leaves out empty optional ones", () => {
    const r = validateFieldValues(fields, {
      bank: " abc ",
      note: "",
      payer_email: "a.b+c@example.co.uk",
      payer_phone: "+1 (555) 010-0100",
      account: "12345",
    });
    expect(r.issues).toEqual([]);
    expect(r.values).toEqual({
      bank: "abc",
      payer_email: "a.b+c@example.co.uk",
      payer_phone: "+1 (555) 010-0100",
      account: "12345",
    });
  });
  it("requires required fields, refuses unknown keys, checks every type", () => {
    const r = validateFieldValues(fields, {
      bank: "nope",
      note: "x".repeat(201),
      payer_email: "not-an-email",
      payer_phone: "call me",
      account: "12a",
      hacker: "1",
    });
    expect(r.issues.map((i) => i.path).sort()).toEqual(
      [
        "fields.account",
        "fields.bank",
        "fields.hacker",
        "fields.note",
        "fields.payer_email",
        "fields.payer_phone",
      ].sort(),
    );
    expect(validateFieldValues(fields, {}).issues).toEqual([
      { path: "fields.bank", message: "Bank is required" },
    ]);
    expect(validateFieldValues(fields, { bank: "   " }).issues).toEqual([
      { path: "fields.bank", message: "Bank is required" },
    ]);
  });
  it.each([
    ["number", "1.5e3", true],
    ["number", "007", false],
    ["number", "-2", true],
    ["email", "x@y.z", false],
    ["email", "x@@y.com", false],
    ["email", "first.last@sub.example.com", true],
    ["phone", "+44 20 7946 0958", true],
    ["phone", "1234", false],
    ["phone", "+1-555-0100-0100-0100-0", false],
    ["text", "x".repeat(200), true],
    ["text", "line\nbreak", false],
  ] as const)("%s %j valid=%s", (type, value, valid) => {
    expect(fieldValueProblem({ type, options: [] }, value) === undefined).toBe(valid);
  });
});

describe("validateDepositRequest", () => {
  it("returns the currency, amounts and cleaned fields", () => {
    const v = validateDepositRequest(methodCtx(), null, {
      currency: "usd",
      amount: "100.10",
      fields: { bank: "xyz" },
    });
    expect(v.currency.code).toBe("USD");
    expect(v.amountMinor).toBe(10_010n);
    expect(v.fields).toEqual({ bank: "xyz" });
  });
  it("reports currency, amount and field issues together with paths", () => {
    expect(
      issuesOf(() =>
        validateDepositRequest(methodCtx(), null, { currency: "EUR", amount: "1", fields: { bank: "no" } }),
      ).map((i) => i.path),
    ).toEqual(["currency", "fields.bank"]);
    const issues = issuesOf(() =>
      validateDepositRequest(methodCtx(), null, { currency: "USD", amount: "1.001", fields: { x: "1" } }),
    );
    expect(issues.map((i) => i.path)).toEqual(["amount", "fields.x", "fields.bank"]);
    // the method's label override is what the client reads
    expect(issues[2]?.message).toBe("Your bank is required");
  });
  it("throws only AppErrors", () => {
    try {
      validateDepositRequest(methodCtx(), null, { currency: "", amount: "", fields: {} });
    } catch (e) {
      expect(e).toBeInstanceOf(AppError);
    }
  });
});
