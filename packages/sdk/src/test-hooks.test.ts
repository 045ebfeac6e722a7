import { describe, expect, it } from "vitest";
import type { PaymentRequest } from "./api1-handler.js";
import { testHookSteps } from "./test-hooks.js";

// docs/certify.md#test-hooks, value by value.
const order = (amount: string, minor: bigint | undefined, more: Partial<PaymentRequest> = {}) =>
  ({ amount, amountMinor: minor, exponent: 2, currency: "USD", test: true, ...more }) as PaymentRequest;

describe("testHookSteps", () => {
  it("settles each magic amount of a test order as documented", () => {
    expect(testHookSteps(order("10.01", 1001n))).toEqual([
      { status: "success", paidAmount: "10.01", afterMs: 0 },
    ]);
    expect(testHookSteps(order("10.02", 1002n))).toEqual([
      { status: "failed", paidAmount: "10.02", afterMs: 0 },
    ]);
    expect(testHookSteps(order("10.03", 1003n))).toEqual([
      { status: "processing", paidAmount: "10.03", afterMs: 0 },
      { status: "success", paidAmount: "10.03", afterMs: 1_000 },
    ]);
    expect(testHookSteps(order("10.04", 1004n))).toEqual([
      { status: "success", paidAmount: "10.00", afterMs: 0 },
    ]);
  });

  it("does nothing for a real order, another amount, or a currency without 2 decimals", () => {
    expect(testHookSteps(order("10.01", 1001n, { test: false }))).toEqual([]);
    expect(testHookSteps(order("10.05", 1005n))).toEqual([]);
    expect(testHookSteps(order("1001", 1001n, { exponent: 0, currency: "JPY" }))).toEqual([]);
    expect(testHookSteps(order("10.01", undefined, { exponent: undefined, currency: "XTS" }))).toEqual([]);
  });
});
