import { sign } from "@psphub/protocol";
import { describe, expect, it } from "vitest";
import type { DepositStatus } from "../../infra/db/schema.js";
import type { ResultStatus } from "../settlement/settlement-planner.js";
import { readCallbackBody } from "./callback-body.js";
import { claimOutcome, contradictsSettledAmount } from "./callback-outcome.js";

describe("claimOutcome", () => {
  it("answers 204 for applied and repeated results", () => {
    for (const to of ["processing", "succeeded", "failed"] as const) {
      expect(claimOutcome(to, { kind: "applied", from: "pending", to })).toEqual({
        verdict: "accepted",
        errorType: null,
        review: null,
      });
      expect(claimOutcome(to, { kind: "repeat" })).toEqual({
        verdict: "duplicate",
        errorType: null,
        review: null,
      });
    }
  });

  const cases: [ResultStatus, DepositStatus, string, string | null][] = [
    ["processing", "succeeded", "payment_status_not_allowed", null],
    ["processing", "failed", "payment_status_not_allowed", null],
    ["processing", "expired", "payment_status_not_allowed", null],
    ["processing", "cancelled", "payment_status_not_allowed", null],
    ["failed", "succeeded", "payment_status_not_pending", "conflict"],
    ["succeeded", "failed", "payment_status_not_pending", "conflict"],
    ["failed", "expired", "payment_status_not_pending", null],
    ["failed", "cancelled", "payment_status_not_pending", null],
  ];
  for (const [to, current, type, review] of cases) {
    it(`${to} against ${current}: ${type}${review ? ` + ${review} item` : ""}`, () => {
      expect(claimOutcome(to, { kind: "conflict", current })).toEqual({
        verdict: review ? "review" : "rejected",
        errorType: type,
        review,
      });
    });
  }

  it("keeps a late success for review", () => {
    for (const current of ["expired", "cancelled"] as const) {
      expect(claimOutcome("succeeded", { kind: "late", current })).toEqual({
        verdict: "review",
        errorType: "payment_status_not_pending",
        review: "late_success",
      });
    }
  });
});

describe("contradictsSettledAmount", () => {
  const order = (status: DepositStatus, paid: number | null) => ({
    status,
    amount_minor: 10_000,
    paid_amount_minor: paid,
  });
  it("is a success with another amount than the one a succeeded order was settled with", () => {
    expect(contradictsSettledAmount(order("succeeded", 10_000), 1, 9_000n)).toBe(true);
    expect(contradictsSettledAmount(order("succeeded", 9_000), 1, 10_000n)).toBe(true);
    // Approved by hand, no paid amount reported: the ordered amount is what it settled with.
    expect(contradictsSettledAmount(order("succeeded", null), 1, 12_000n)).toBe(true);
  });
  it("is not the same amount again, a failure or processing, or an order that did not succeed", () => {
    expect(contradictsSettledAmount(order("succeeded", 9_000), 1, 9_000n)).toBe(false);
    expect(contradictsSettledAmount(order("succeeded", null), 1, 10_000n)).toBe(false);
    for (const requested of [0, 2]) {
      expect(contradictsSettledAmount(order("succeeded", 10_000), requested, 1n)).toBe(false);
    }
    for (const status of ["pending", "processing", "failed", "expired", "cancelled"] as const) {
      expect(contradictsSettledAmount(order(status, 10_000), 1, 1n)).toBe(false);
    }
  });
});

describe("readCallbackBody", () => {
  const fields = {
    merchant_id: "m",
    order_no: "o",
    amount: 100,
    currency: "USD",
    time: 1,
    status: 1,
  };
  const signed = { ...fields, sign: sign(fields, "tok") };
  const json = JSON.stringify(signed);
  const form = new URLSearchParams(
    Object.entries(signed).map(([k, v]): [string, string] => [k, String(v)]),
  ).toString();

  it("reads JSON by content type or by sniffing, keeping the raw text to verify against", () => {
    for (const ct of ["application/json", "application/json; charset=utf-8", undefined, "text/plain"]) {
      const r = readCallbackBody(json, ct);
      expect(r.ok && r.body.form === false && r.body.signed === json, String(ct)).toBe(true);
    }
  });

  it("reads forms by content type or by sniffing", () => {
    for (const ct of ["application/x-www-form-urlencoded", undefined, "text/plain"]) {
      const r = readCallbackBody(form, ct);
      expect(r.ok && r.body.form && r.body.callback.amountText === "100", String(ct)).toBe(true);
    }
  });

  it("refuses what is not one flat, complete object", () => {
    const bad: [string, string | undefined][] = [
      ["", "application/json"],
      ["   ", undefined],
      ["[]", "application/json"],
      ['{"a":{}}', "application/json"],
      [`${json.slice(0, -1)},"status":2}`, "application/json"],
      ["{", "application/json"],
      [form, "application/json"],
      [json, "application/x-www-form-urlencoded"],
      ["hello", undefined],
      [JSON.stringify({ ...signed, status: "1" }), "application/json"],
      [JSON.stringify({ ...signed, time: -1 }), "application/json"],
    ];
    for (const [body, ct] of bad) expect(readCallbackBody(body, ct).ok, body).toBe(false);
    expect(readCallbackBody(undefined, undefined).ok).toBe(false);
  });
});
