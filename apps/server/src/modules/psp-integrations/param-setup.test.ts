import { defaultApi1ParamConfig } from "@psphub/protocol/admin";
import { describe, expect, it } from "vitest";
import { buildParamSetup } from "./param-setup.js";

const text = (label: string, key?: string) => ({ key, label, type: "text" as const, required: false });

describe("buildParamSetup", () => {
  it("merges given settings over the base and keeps the rest", () => {
    const base = defaultApi1ParamConfig();
    base.email = { key: "mail", enabled: true };
    const r = buildParamSetup(base, { device: { enabled: false }, amount: { key: "amt" } }, []);
    expect(r.issues).toEqual([]);
    expect(r.paramConfig.email).toEqual({ key: "mail", enabled: true });
    expect(r.paramConfig.device).toEqual({ key: "device", enabled: false });
    expect(r.paramConfig.amount).toEqual({ key: "amt", enabled: true });
    expect(base.amount.key).toBe("amount");
  });

  it("gives custom keys that clash with nothing, including a standard key renamed to custom_1", () => {
    const r = buildParamSetup(defaultApi1ParamConfig(), { phone: { key: "custom_1" } }, [
      text("A"),
      text("B", "custom_3"),
      text("C"),
    ]);
    expect(r.issues).toEqual([]);
    expect(r.customParams.map((p) => [p.key, p.order])).toEqual([
      ["custom_4", 0],
      ["custom_3", 1],
      ["custom_5", 2],
    ]);
  });

  it("maps protocol issues to request paths", () => {
    const r = buildParamSetup(
      defaultApi1ParamConfig(),
      { amount: { enabled: false }, order_no: { key: "sign" } },
      [text("A", "bad key"), text("B", "email")],
    );
    expect(r.issues.map((i) => i.path).sort()).toEqual([
      "customParams.0.key",
      "customParams.1.key",
      "paramConfig.amount.enabled",
      "paramConfig.order_no.key",
    ]);
  });
});
