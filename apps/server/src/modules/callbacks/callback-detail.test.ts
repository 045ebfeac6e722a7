import { describe, expect, it } from "vitest";
import { signRefused, statusRefused, tokenRefused } from "./callback-detail.js";

// The refusals the HTTP tests cannot reach (callback-detail.db.test.ts has every check end to end).
describe("callback details", () => {
  it("says how the header failed: missing, empty, repeated, or not the token", () => {
    expect(tokenRefused(undefined).detail).toBe("header crm-pay-token is missing");
    expect(tokenRefused("").detail).toBe("header crm-pay-token is missing");
    expect(tokenRefused(["a", "b"]).detail).toBe("header crm-pay-token is sent more than once");
    expect(tokenRefused("x").detail).toBe("header crm-pay-token is not this integration's token");
    expect(tokenRefused("x").diagnosis).toEqual({ check: "header_token" });
  });

  it("says a sign is missing, and keeps StringA in both forms only when they differ", () => {
    const missing = signRefused({ valid: false, reason: "missing_sign", stringA: "a=1" });
    expect(missing).toEqual({ detail: "`sign` is missing", diagnosis: { check: "sign", stringA: "a=1" } });
    const both = signRefused({ valid: false, reason: "mismatch", stringA: "a=1.0", stringAParsed: "a=1" });
    expect(both.diagnosis).toEqual({ check: "sign", stringA: "a=1.0", stringAParsed: "a=1" });
    expect(both.detail).toBe("sign does not verify (StringA begins `a=1.0`)");
  });

  it("quotes at most 40 characters of StringA in an answer, and keeps at most 16 KiB in the log", () => {
    const long = "k=".concat("v".repeat(20_000));
    const r = signRefused({ valid: false, reason: "mismatch", stringA: long });
    expect(r.detail).toBe(`sign does not verify (StringA begins \`${long.slice(0, 40)}…\`)`);
    expect(r.diagnosis.stringA).toHaveLength(16_384);
  });

  it("answers nothing for the outcomes answered 204", () => {
    expect(statusRefused("succeeded", { kind: "applied" } as never)).toBeNull();
    expect(statusRefused("succeeded", { kind: "repeat" })).toBeNull();
  });
});
