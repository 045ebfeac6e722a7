import { describe, expect, it } from "vitest";
import { t } from "../i18n/index.js";
import type { WithdrawalMethod } from "./types.js";
import {
  emptyWithdrawalMethod,
  inputOfMethod,
  levelCount,
  newBand,
  newField,
  validateWithdrawalMethod,
  type WithdrawalMethodFormValues,
  withdrawalMethodInput,
  withdrawalMethodValues,
  withdrawalServerPath,
} from "./withdrawal-method-model.js";

const saved: WithdrawalMethod = {
  id: "m1",
  name: "Bank transfer",
  enabled: true,
  sortOrder: 0,
  currencies: [
    {
      code: "USD",
      decimals: 2,
      min: "10.00",
      max: "5000.00",
      feePercent: "1.50",
      feeFixed: "0.30",
      feeMax: null,
    },
    {
      code: "JPY",
      decimals: 0,
      min: "1000",
      max: "500000",
      feePercent: "0.00",
      feeFixed: "0",
      feeMax: "500",
    },
  ],
  fields: [{ key: "iban", label: "IBAN", required: true }],
  visibility: "all",
  clientGroups: [],
  payoutMode: "manual",
  integrationId: null,
  approval: {
    bands: [
      { from: "0", levels: 1 },
      { from: "100", levels: 2 },
    ],
    rolesByLevel: [["owner", "admin"], ["finance"]],
    autoPayout: false,
  },
  failedPayout: "release",
};

const form = (over: Partial<WithdrawalMethodFormValues> = {}): WithdrawalMethodFormValues => ({
  ...withdrawalMethodValues(saved),
  ...over,
});

describe("the withdrawal method form", () => {
  it("gives back the saved settings as the body that replaces them", () => {
    expect(inputOfMethod(saved)).toEqual({
      name: "Bank transfer",
      enabled: true,
      currencies: [
        { code: "USD", min: "10.00", max: "5000.00", feePercent: "1.5", feeFixed: "0.30", feeMax: null },
        { code: "JPY", min: "1000", max: "500000", feePercent: "0", feeFixed: "0", feeMax: "500" },
      ],
      fields: [{ key: "iban", label: "IBAN", required: true }],
      visibility: "all",
      clientGroups: [],
      payoutMode: "manual",
      integrationId: null,
      approval: {
        bands: [
          { from: "0", levels: 1 },
          { from: "100", levels: 2 },
        ],
        rolesByLevel: [["owner", "admin"], ["finance"]],
        autoPayout: false,
      },
      failedPayout: "release",
    });
    expect(inputOfMethod(saved, { enabled: false }).enabled).toBe(false);
    expect(validateWithdrawalMethod(form())).toEqual({});
  });

  it("starts with one band from 0 decided by owners and admins", () => {
    const v = emptyWithdrawalMethod();
    expect(withdrawalMethodInput({ ...v, name: "x" }).approval).toEqual({
      bands: [{ from: "0", levels: 1 }],
      rolesByLevel: [["owner", "admin"]],
      autoPayout: false,
    });
  });

  it("sends roles for every level the bands ask, owners and admins where none were set", () => {
    const v = form({ bands: [newBand("0", 1), newBand("100", 3)], rolesByLevel: [["finance"]] });
    expect(levelCount(v)).toBe(3);
    expect(withdrawalMethodInput(v).approval.rolesByLevel).toEqual([
      ["finance"],
      ["owner", "admin"],
      ["owner", "admin"],
    ]);
    expect(validateWithdrawalMethod({ ...v, rolesByLevel: [["finance"], []] })).toEqual({
      "rolesByLevel.1": t("wmethods.levelNeedsRole"),
    });
  });

  it("checks the bands: from 0, increasing, an amount of every currency, 1 to 10 levels", () => {
    const errors = validateWithdrawalMethod(
      form({
        bands: [newBand("5", 1), newBand("100", 2), newBand("100", 11), newBand("150.5", 2), newBand("x", 2)],
      }),
    );
    expect(errors).toEqual({
      "bands.0.from": t("wmethods.firstBandZero"),
      "bands.2.from": t("wmethods.bandsAscending"),
      "bands.2.levels": t("validation.range", { min: 1, max: 10 }),
      "bands.3.from": t("wmethods.bandNotAmount", { code: "JPY" }),
      "bands.4.from": t("validation.decimal"),
      // Level 11 asked roles for 10 levels at most; all default to owners and admins.
    });
  });

  it("asks an integration and two levels for payouts through an integration, and sends autoPayout only then", () => {
    const v = form({ payoutMode: "integration", autoPayout: true });
    expect(validateWithdrawalMethod(v)).toEqual({
      integrationId: t("validation.required"),
      "bands.0.levels": t("wmethods.integrationLevels", { min: 2 }),
    });
    expect(withdrawalMethodInput({ ...v, integrationId: "i1" }).approval.autoPayout).toBe(true);
    expect(withdrawalMethodInput({ ...v, payoutMode: "manual", integrationId: "i1" })).toMatchObject({
      integrationId: null,
      approval: { autoPayout: false },
    });
  });

  it("refuses field keys that are not lower_snake, are the payout request's own, or repeat", () => {
    const field = (key: string, label = "L") => ({ ...newField(), key, label });
    const errors = validateWithdrawalMethod(
      form({
        fields: [field("iban"), field("Iban"), field("payout_no"), field("iban"), field("address", " ")],
      }),
    );
    expect(errors).toEqual({
      "fields.1.key": t("wmethods.fieldKeyFormat"),
      "fields.2.key": t("wmethods.fieldKeyReserved", { key: "payout_no" }),
      "fields.3.key": t("wmethods.fieldKeyTwice"),
      "fields.4.label": t("validation.required"),
    });
  });

  it("puts the server's approval issues on the policy's own fields", () => {
    expect(withdrawalServerPath("approval.bands.1.from")).toBe("bands.1.from");
    expect(withdrawalServerPath("approval.rolesByLevel.0")).toBe("rolesByLevel.0");
    expect(withdrawalServerPath("approval")).toBe("bands");
    expect(withdrawalServerPath("fields.0.key")).toBe("fields.0.key");
    expect(withdrawalServerPath("currencies.1.min")).toBe("currencies.1.min");
  });
});
