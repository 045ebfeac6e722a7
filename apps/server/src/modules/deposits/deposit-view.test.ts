import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PROVIDER_UNAVAILABLE_MESSAGE } from "./api1-request.js";
import { clientFailureOf, isSettledForClient, isUnderReview } from "./deposit-view.js";

/** Rows written before the protocol removed invisible formatting still hold it in failure_message. */
describe("a failed order's message as shown", () => {
  const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;

  it("removes bidi controls a stored tenant message still holds", () => {
    const failed = (failure_message: string | null) =>
      clientFailureOf({ status: "failed", failure_reason: "result_false: x", failure_message });
    expect(failed("\u2067Refund: open invoice_\u202Efdp.exe\u2069")).toEqual({
      code: "payment_provider_failed",
      reason: "api1_declined",
      message: "Refund: open invoice_fdp.exe",
    });
    expect(failed("\u202e\u200f")).toEqual({
      code: "payment_provider_failed",
      reason: "api1_declined",
      message: null,
    });
    expect(failed(PROVIDER_UNAVAILABLE_MESSAGE)?.message).toBeNull();
  });

  it("never shows a control or format character, whatever was stored", () => {
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.constantFrom("a", " ", "\u202e", "\u2066", "\u200b", "\ufeff", "\n", "\u0000", "\u2028"),
          maxLength: 40,
        }),
        fc.constantFrom("result_false: x", "http_status_403", "rejected_by_staff", "psp_failed"),
        (stored, reason) => {
          const f = clientFailureOf({ status: "failed", failure_reason: reason, failure_message: stored });
          expect(f?.message ?? "").not.toMatch(INVISIBLE);
          expect(f?.message).not.toBe("");
          // Only a proper refusal's own words ever reach the client.
          if (!reason.startsWith("result_false")) expect(f?.message).toBeNull();
        },
      ),
    );
  });
});

describe("what the client sees of a payment under review", () => {
  it("is 'being checked' only for an open item that reports a payment", () => {
    expect(isUnderReview([])).toBe(false);
    expect(isUnderReview([{ status: 0 }])).toBe(false);
    expect(isUnderReview([{ status: 0 }, { status: 1 }])).toBe(true);
  });
  it("keeps watching an order until it succeeded or failed with nothing under review", () => {
    const statuses = ["pending", "processing", "succeeded", "failed", "expired", "cancelled"] as const;
    fc.assert(
      fc.property(fc.constantFrom(...statuses), fc.boolean(), (status, underReview) => {
        const done = isSettledForClient({ status, underReview });
        expect(done).toBe(!underReview && (status === "succeeded" || status === "failed"));
      }),
    );
  });
});
