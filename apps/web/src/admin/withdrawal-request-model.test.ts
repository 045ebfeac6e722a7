import { describe, expect, it } from "vitest";
import { t } from "../i18n/index.js";
import {
  issuesAtFields,
  methodsForClient,
  moreThanAvailable,
  staffWithdrawalBody,
  validateStaffWithdrawal,
} from "./withdrawal-request-model.js";

const usd = {
  code: "USD",
  decimals: 2,
  min: "10.00",
  max: "5000.00",
  feePercent: "1.00",
  feeFixed: "0.50",
  feeMax: null,
};
const eur = { ...usd, code: "EUR" };
const fields = [
  { key: "iban", label: "IBAN", required: true },
  { key: "note", label: "Note", required: false },
];
const method = (over: Partial<Parameters<typeof methodsForClient>[0][number]> = {}) => ({
  id: "m1",
  enabled: true,
  visibility: "all" as const,
  clientGroups: [] as string[],
  currencies: [usd, eur],
  fields,
  ...over,
});

describe("a withdrawal requested by staff for a client", () => {
  it("offers the enabled methods visible to the client's group, in the currencies of its wallets", () => {
    const methods = [
      method(),
      method({ id: "off", enabled: false }),
      method({ id: "vip", visibility: "groups", clientGroups: ["vip"] }),
      method({ id: "jpy", currencies: [{ ...usd, code: "JPY", decimals: 0 }] }),
    ];
    const plain = methodsForClient(methods, { group: null, wallets: [{ currency: "USD" }] });
    expect(plain.map((m) => m.id)).toEqual(["m1"]);
    expect(plain[0]!.currencies.map((c) => c.code)).toEqual(["USD"]);
    const vip = methodsForClient(methods, { group: "vip", wallets: [{ currency: "EUR" }] });
    expect(vip.map((m) => [m.id, m.currencies.map((c) => c.code)])).toEqual([
      ["m1", ["EUR"]],
      ["vip", ["EUR"]],
    ]);
    expect(methodsForClient(methods, { group: null, wallets: [] })).toEqual([]);
  });

  it("checks the limits, the fields and the client's available balance, in the staff's words", () => {
    const available = (c: string) => (c === "USD" ? "487.20" : null);
    const ok = { currency: "USD", amount: "150.00", fieldValues: ["DE89 3704", ""] };
    expect(validateStaffWithdrawal(method(), ok, available)).toEqual({});
    expect(validateStaffWithdrawal(method(), { ...ok, amount: "487.21" }, available)).toEqual({
      amount: moreThanAvailable("487.20", "USD"),
    });
    expect(moreThanAvailable("1234.50", "USD")).toBe(
      "More than the client can withdraw now: at most 1,234.50 USD",
    );
    // Exactly what is available may be asked for; a typed "1,000" is an amount.
    expect(validateStaffWithdrawal(method(), { ...ok, amount: "487.20" }, available)).toEqual({});
    expect(validateStaffWithdrawal(method(), { ...ok, amount: "5" }, available).amount).toBe(
      t("validation.belowMin", { min: "10.00 USD" }),
    );
    expect(validateStaffWithdrawal(method(), { ...ok, fieldValues: ["  ", ""] }, available)).toEqual({
      "fieldValues.0": t("validation.required"),
    });
    // Unknown available balance: the server decides.
    expect(validateStaffWithdrawal(method(), { ...ok, currency: "EUR", amount: "900" }, available)).toEqual(
      {},
    );
    expect(validateStaffWithdrawal(method(), { ...ok, currency: "GBP" }, available).currency).toBe(
      t("validation.required"),
    );
  });

  it("sends the canonical amount and only the fields filled in", () => {
    expect(
      staffWithdrawalBody("c1", method(), {
        currency: "USD",
        amount: "1,000.5",
        fieldValues: [" DE89 ", " "],
      }),
    ).toEqual({
      clientId: "c1",
      methodId: "m1",
      currency: "USD",
      amount: "1000.5",
      fields: { iban: "DE89" },
    });
  });

  it("puts the server's issues at the form's fields, by their paths", () => {
    expect(
      issuesAtFields(
        [
          { path: "amount", message: "Outside the method's minimum and maximum" },
          { path: "fields.note", message: "Too long" },
          { path: "body.currency", message: "Required" },
          { path: "fields.swift", message: "Not a field of this method" },
          { path: "amount", message: "A second issue of the same field" },
        ],
        method(),
      ),
    ).toEqual({
      amount: "Outside the method's minimum and maximum",
      "fieldValues.1": "Too long",
      currency: "Required",
      form: "swift: Not a field of this method",
    });
  });
});
