import { describe, expect, it } from "vitest";
import {
  CALLBACK_ERROR_TYPES,
  type CallbackErrorType,
  callbackErrorBody,
  isCallbackErrorType,
  MoneyError,
  ProtocolError,
} from "./errors.js";

// The spec's API-2 error types (docs/psp-open-api.md#api-2-error-types).
const SPEC_TYPES = [
  "psp_token_invalid",
  "psp_setting_not_found",
  "deposit_method_not_found",
  "payment_not_found",
  "payment_status_not_pending",
  "payment_request_exists",
  "payment_status_not_allowed",
  "payment_amount_not_allowed",
  "payment_currency_not_allowed",
];

describe("errors", () => {
  it("ProtocolError carries a code and a message and is an Error", () => {
    const error = new ProtocolError("nested_value", 'the value of "a" is an object');
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: "ProtocolError",
      code: "nested_value",
      message: 'the value of "a" is an object',
    });
  });

  it("MoneyError extends ProtocolError", () => {
    const error = new MoneyError("amount_negative", "no");
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ name: "MoneyError", code: "amount_negative" });
  });

  it("lists the spec's nine API-2 types with status 400, then our three", () => {
    const types = Object.keys(CALLBACK_ERROR_TYPES);
    expect(types).toEqual([...SPEC_TYPES, "request_malformed", "request_too_large", "internal_error"]);
    for (const type of SPEC_TYPES) {
      expect(CALLBACK_ERROR_TYPES[type as CallbackErrorType]).toMatchObject({ httpStatus: 400, ours: false });
    }
    expect(CALLBACK_ERROR_TYPES.request_malformed).toMatchObject({ httpStatus: 400, ours: true });
    expect(CALLBACK_ERROR_TYPES.request_too_large).toMatchObject({ httpStatus: 413, ours: true });
    for (const info of Object.values(CALLBACK_ERROR_TYPES)) expect(info.meaning.length).toBeGreaterThan(10);
  });

  // docs/psp-open-api.md#api-2-answers
  it("builds the error body of the spec", () => {
    expect(callbackErrorBody("psp_token_invalid")).toEqual({
      error: true,
      code: 400,
      type: "psp_token_invalid",
    });
    expect(callbackErrorBody("request_too_large")).toEqual({
      error: true,
      code: 413,
      type: "request_too_large",
    });
    expect(JSON.stringify(callbackErrorBody("payment_not_found"))).toBe(
      '{"error":true,"code":400,"type":"payment_not_found"}',
    );
    // Ours: the detail comes after the spec's three keys, and only when given.
    expect(JSON.stringify(callbackErrorBody("payment_not_found", "no order `x`"))).toBe(
      '{"error":true,"code":400,"type":"payment_not_found","detail":"no order `x`"}',
    );
  });

  it("recognises error types, not inherited names", () => {
    expect(isCallbackErrorType("payment_not_found")).toBe(true);
    expect(isCallbackErrorType("toString")).toBe(false);
    expect(isCallbackErrorType("nope")).toBe(false);
    expect(isCallbackErrorType(400)).toBe(false);
  });
});
