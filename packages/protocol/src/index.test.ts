import { describe, expect, it } from "vitest";
import * as admin from "./admin.js";
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
      "parseApi1Response",
      "parseCallback",
      "callbackErrorBody",
      "ProtocolError",
      "MoneyError",
      "CALLBACK_ERROR_TYPES",
      "CallbackStatus",
      "MAX_SIGNIFICANT_DIGITS",
      "signWebhook",
      "webhookSignatures",
      "parseWebhookSecret",
      "newWebhookSecret",
      "WEBHOOK_HEADERS",
      "PAYOUT_REQUEST_PATH",
      "PAYOUT_STATUS_PATH",
      "PAYOUT_CALLBACK_PATH",
      "PAYOUT_NOT_FOUND",
      "PAYOUT_REQUEST_KEYS",
      "PAYOUT_CALLBACK_FIELDS",
      "isPayoutRequestKey",
      "signPayoutRequest",
      "parsePayoutRequestAnswer",
      "parsePayoutCallback",
      "signPayoutStatusQuery",
      "parsePayoutStatusAnswer",
      "signPayoutCallback",
    ]) {
      expect(protocol, name).toHaveProperty(name);
    }
  });

  it("has no test helpers in the public API", () => {
    expect(protocol).not.toHaveProperty("RUNS");
    expect(protocol).not.toHaveProperty("sha1Pure");
  });

  it("keeps the API-1 parameter configuration in the admin entry, apart from the wire protocol", () => {
    const configuration = [
      "API1_PARAM_NAMES",
      "API1_PARAMS",
      "defaultApi1ParamConfig",
      "validateApi1ParamConfig",
      "nextCustomKey",
      "toConfiguredKeys",
      "fromConfiguredKeys",
      "isApi1ParamName",
      "PARAM_KEY_PATTERN",
      "cleanTenantText",
    ];
    for (const name of configuration) {
      expect(admin, name).toHaveProperty(name);
      expect(protocol, name).not.toHaveProperty(name);
    }
    expect(Object.keys(admin).sort()).toEqual([...configuration].sort());
  });
});
