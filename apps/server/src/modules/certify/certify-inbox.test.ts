import { describe, expect, it } from "vitest";
import { tokenMatch } from "./certify-crm-emulator.js";
import { answerBody, type ExpectedOrder, type ScriptedAnswer, scriptedAnswer } from "./certify-inbox.js";

// How the suite answers a test order's callbacks while it plays the CRM (docs/certify.md#callbacks).
const order = (script: ExpectedOrder["script"], amountMinor = 1001n): ExpectedOrder => ({
  orderNo: "abcdefabcdef",
  script,
  amountMinor,
});
const body = (a: ScriptedAnswer) => (a.status === 204 ? null : JSON.parse(answerBody(a)));

describe("scriptedAnswer", () => {
  it("answers 500 to the first callback of a fail_first order, then 204", () => {
    const first = scriptedAnswer(order("fail_first"), 0, { status: 1 }, "current");
    expect(first.status).toBe(500);
    expect(body(first)).toEqual({ error: true, code: 500, type: "internal_error" });
    expect(scriptedAnswer(order("fail_first"), 1, { status: 1 }, "current")).toEqual({ status: 204 });
  });

  it("refuses a success of another amount with payment_amount_not_allowed, and accepts the ordered one", () => {
    const other = scriptedAnswer(
      order("refuse_other_amount", 1004n),
      0,
      { status: 1, amount: 10 },
      "current",
    );
    expect(other.status).toBe(400);
    expect(body(other)).toMatchObject({
      type: "payment_amount_not_allowed",
      detail: "`amount` `10` differs from the order's 10.04",
    });
    expect(
      scriptedAnswer(order("refuse_other_amount", 1004n), 0, { status: 1, amount: 10.04 }, "current").status,
    ).toBe(204);
    expect(
      scriptedAnswer(order("refuse_other_amount", 1004n), 0, { status: 0, amount: 10 }, "current").status,
    ).toBe(204);
  });

  it("refuses a wrong token as the CRM would, whatever the script", () => {
    for (const script of ["accept", "fail_first", "refuse_other_amount"] as const) {
      const a = scriptedAnswer(order(script), 0, { status: 1 }, "none");
      expect([a.status, body(a).type]).toEqual([400, "psp_token_invalid"]);
    }
    expect(scriptedAnswer(order("accept"), 0, { status: 1 }, "previous").status).toBe(204);
  });
});

describe("tokenMatch", () => {
  it("tells the current token from the previous one, and anything else from both", () => {
    expect(tokenMatch("new", "new", "old")).toBe("current");
    expect(tokenMatch("old", "new", "old")).toBe("previous");
    expect(tokenMatch("other", "new", "old")).toBe("none");
    expect(tokenMatch(undefined, "new", "old")).toBe("none");
    expect(tokenMatch(["new"], "new")).toBe("none");
    expect(tokenMatch("", "new", "")).toBe("none");
  });
});
