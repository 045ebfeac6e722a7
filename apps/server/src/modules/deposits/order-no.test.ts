import { describe, expect, it } from "vitest";
import { newOrderNo } from "../../common/ids.js";

// Issue 4: order_no is 12 lower-case alphanumerics, unique and unguessable. Unguessable means
// drawn uniformly from a CSPRNG, not derived from time or a counter: over 6000 draws every
// character appears at every position, and consecutive numbers share no structure.

describe("order_no", () => {
  const draws = Array.from({ length: 6000 }, () => newOrderNo());

  it("is 12 lower-case alphanumerics, never repeated", () => {
    for (const o of draws) expect(o).toMatch(/^[a-z0-9]{12}$/);
    expect(new Set(draws).size).toBe(draws.length);
  });

  it("uses all 36 characters at each of the 12 positions (no time or counter part)", () => {
    for (let pos = 0; pos < 12; pos++) {
      const seen = new Set(draws.map((o) => o[pos]));
      // Expected ~167 of each character per position; a missing one means a fixed or biased part.
      expect(seen.size, `position ${pos}`).toBe(36);
    }
  });

  it("shares no prefix between consecutive numbers beyond chance", () => {
    let shared = 0;
    for (let i = 1; i < draws.length; i++) if (draws[i]!.slice(0, 2) === draws[i - 1]!.slice(0, 2)) shared++;
    // Chance: 1/1296 per pair, about 5 in 6000; a time-based prefix would make it thousands.
    expect(shared).toBeLessThan(60);
  });
});
