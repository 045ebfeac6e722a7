import { describe, expect, it } from "vitest";
import { depositsLink, localDay, reviewLink } from "./dashboard-links.js";

describe("dashboard links", () => {
  it("turns a range into the deposits list's local days, the end exclusive", () => {
    const from = new Date(2026, 0, 4).getTime();
    const to = new Date(2026, 0, 11).getTime();
    expect(localDay(from)).toBe("2026-01-04");
    expect(depositsLink({ from, to }, { status: "succeeded", integrationId: "i1" })).toBe(
      "/deposits?status=succeeded&integrationId=i1&from=2026-01-04&to=2026-01-10",
    );
    expect(depositsLink({ from, to: from + 86_400_000 })).toBe("/deposits?from=2026-01-04&to=2026-01-04");
    expect(depositsLink({ from, to: from + 86_400_000 }, { status: "failed", currency: "EUR" })).toBe(
      "/deposits?status=failed&currency=EUR&from=2026-01-04&to=2026-01-04",
    );
  });

  it("opens the review queue on one reason", () => {
    expect(reviewLink("needs_assistance")).toBe("/review?reason=needs_assistance");
  });
});
