import { describe, expect, it } from "vitest";
import { t } from "../i18n/index.js";
import {
  newIdempotencyKey,
  previewWithdrawal,
  usableCurrencies,
  validateWithdrawal,
  withdrawAmountError,
} from "./withdraw-form-model.js";

const usd = {
  code: "USD",
  decimals: 2,
  min: "10.00",
  max: "5000.00",
  feePercent: "1.50",
  feeFixed: "0.30",
  feeMax: "20.00",
};
const jpy = {
  code: "JPY",
  decimals: 0,
  min: "1000",
  max: "500000",
  feePercent: "0.00",
  feeFixed: "2000",
  feeMax: null,
};
const method = { currencies: [usd, jpy], fields: [{ key: "iban", label: "IBAN", required: true }] };

describe("the withdrawal form in the browser", () => {
  it("works out the fee and what the client receives in minor units, as the server does", () => {
    // 1.5 % of 150.00 = 2.25, + 0.30 = 2.55.
    expect(previewWithdrawal(usd, "150.00")).toEqual({ amount: "150.00", fee: "2.55", payout: "147.45" });
    expect(previewWithdrawal(usd, "1,000")).toEqual({ amount: "1000.00", fee: "15.30", payout: "984.70" });
    // Capped at 20.00.
    expect(previewWithdrawal(usd, "5000")).toEqual({ amount: "5000.00", fee: "20.00", payout: "4980.00" });
    // 0.3 − 0.2 in floats is 0.09999999999999998; in minor units it is exact.
    expect(
      previewWithdrawal({ ...usd, feePercent: "0", feeFixed: "0.20", feeMax: null }, "0.30")?.payout,
    ).toBe("0.10");
    // The fee never exceeds the amount.
    expect(previewWithdrawal(jpy, "1500")).toEqual({ amount: "1500", fee: "1500", payout: "0" });
    expect(previewWithdrawal(usd, "abc")).toBeNull();
    expect(previewWithdrawal(usd, "0")).toBeNull();
  });

  it("refuses amounts outside the limits or above the available balance", () => {
    expect(withdrawAmountError(usd, "5", "100.00")).toBe(t("validation.belowMin", { min: "10.00 USD" }));
    expect(withdrawAmountError(usd, "6000", null)).toBe(t("validation.aboveMax", { max: "5,000.00 USD" }));
    expect(withdrawAmountError(usd, "10.001", null)).toBe(t("validation.tooPrecise", { decimals: 2 }));
    expect(withdrawAmountError(usd, "150.00", "97.20")).toBe(
      t("withdraw.moreThanAvailable", { available: "97.20 USD" }),
    );
    expect(withdrawAmountError(usd, "97.20", "97.20")).toBeNull();
    expect(withdrawAmountError(usd, "", "97.20")).toBe(t("validation.required"));
  });

  it("checks the method's required fields, and offers only currencies the client has a wallet in", () => {
    expect(
      validateWithdrawal(method, { currency: "USD", amount: "50", fieldValues: [" "] }, () => "100.00"),
    ).toEqual({
      "fieldValues.0": t("validation.required"),
    });
    expect(usableCurrencies(method, [{ currency: "JPY" }, { currency: "EUR" }]).map((c) => c.code)).toEqual([
      "JPY",
    ]);
  });

  it("makes a new idempotency key each time", () => {
    const a = newIdempotencyKey();
    expect(a.length).toBeGreaterThanOrEqual(8);
    expect(newIdempotencyKey()).not.toBe(a);
  });
});
