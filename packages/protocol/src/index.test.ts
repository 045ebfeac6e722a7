import { describe, expect, it } from "vitest";
import * as protocol from "./index.js";

describe("index", () => {
  it("exports the public API", () => {
    for (const name of [
      "stringA",
      "sign",
      "verify",
      "verifyDetailed",
      "compareKeys",
      "parseFlatJson",
      "parseFormBody",
      "isoExponent",
      "parseAmount",
      "tryParseAmount",
      "formatAmount",
      "formatAmountNumber",
      "defaultApi1ParamConfig",
      "validateApi1ParamConfig",
      "nextCustomKey",
      "toConfiguredKeys",
      "fromConfiguredKeys",
      "parseApi1Response",
      "cleanTenantText",
      "parseCallback",
      "callbackErrorBody",
      "ProtocolError",
      "MoneyError",
      "CALLBACK_ERROR_TYPES",
      "CallbackStatus",
      "MAX_SIGNIFICANT_DIGITS",
    ]) {
      expect(protocol, name).toHaveProperty(name);
    }
  });

  it("has no test helpers in the public API", () => {
    expect(protocol).not.toHaveProperty("RUNS");
    expect(protocol).not.toHaveProperty("sha1Pure");
  });
});
