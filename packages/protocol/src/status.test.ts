import { describe, expect, it } from "vitest";
import { CallbackStatus, callbackStatusName, isCallbackStatus, isFinalCallbackStatus } from "./status.js";

describe("CallbackStatus", () => {
  // docs/psp-open-api.md#statuses
  it("has the spec's values", () => {
    expect(CallbackStatus).toEqual({ FAILED: 0, SUCCEEDED: 1, PROCESSING: 2 });
  });

  it("recognises exactly 0, 1 and 2", () => {
    for (const value of [0, 1, 2]) expect(isCallbackStatus(value)).toBe(true);
    for (const value of [-1, 3, 1.5, "1", null, undefined, true, Number.NaN])
      expect(isCallbackStatus(value)).toBe(false);
  });

  it("treats 0 and 1 as final, 2 as not", () => {
    expect(isFinalCallbackStatus(CallbackStatus.FAILED)).toBe(true);
    expect(isFinalCallbackStatus(CallbackStatus.SUCCEEDED)).toBe(true);
    expect(isFinalCallbackStatus(CallbackStatus.PROCESSING)).toBe(false);
  });

  it("names each status", () => {
    expect([0, 1, 2].map((s) => callbackStatusName(s as 0 | 1 | 2))).toEqual([
      "FAILED",
      "SUCCEEDED",
      "PROCESSING",
    ]);
  });
});
