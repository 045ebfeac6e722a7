import { describe, expect, it } from "vitest";
import { depositFields, isVisibleTo } from "./method-model.js";

describe("depositFields", () => {
  const integration = {
    customParams: [
      { key: "custom_2", label: "Account", type: "text" as const, required: false, order: 1 },
      { key: "custom_1", label: "Bank", type: "select" as const, required: true, options: ["A"], order: 0 },
    ],
  };

  it("follows the integration's parameters in order, relabelled per method, keys unchanged", () => {
    const fields = depositFields({ fieldLabels: { custom_2: "IBAN", gone: "Stale" } }, integration);
    expect(fields.map((f) => [f.key, f.label, f.defaultLabel])).toEqual([
      ["custom_1", "Bank", "Bank"],
      ["custom_2", "IBAN", "Account"],
    ]);
  });

  it("isVisibleTo respects groups", () => {
    expect(isVisibleTo({ visibility: "all", clientGroups: [] }, null)).toBe(true);
    expect(isVisibleTo({ visibility: "groups", clientGroups: ["vip"] }, "vip")).toBe(true);
    expect(isVisibleTo({ visibility: "groups", clientGroups: ["vip"] }, null)).toBe(false);
    expect(isVisibleTo({ visibility: "groups", clientGroups: ["vip"] }, "retail")).toBe(false);
  });
});
