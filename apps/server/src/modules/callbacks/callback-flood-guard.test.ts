import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RejectionLimiter, sourceKey } from "./callback-flood-guard.js";

const WINDOW = 60_000;

describe("RejectionLimiter", () => {
  it("lets through at most the limits per source and per merchant in each window, and everything within them", () => {
    const hit = fc.record({
      source: fc.constantFrom("a", "b", "c"),
      merchant: fc.constantFrom("m1", "m2", null),
      // Offsets within three windows, in time order once sorted.
      at: fc.integer({ min: 0, max: 3 * WINDOW - 1 }),
    });
    fc.assert(
      fc.property(
        fc.array(hit, { maxLength: 300 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 20 }),
        (hits, perAddress, perMerchant) => {
          const limiter = new RejectionLimiter({ perAddress, perMerchant, windowMs: WINDOW, maxKeys: 1_000 });
          const t0 = Date.UTC(2026, 0, 1);
          const counts = new Map<string, number>();
          for (const h of [...hits].sort((x, y) => x.at - y.at)) {
            const w = Math.floor(h.at / WINDOW);
            const bySource = `${w}|s|${h.source}`;
            const byMerchant = `${w}|m|${h.merchant}`;
            const seenSource = (counts.get(bySource) ?? 0) + 1;
            const seenMerchant = h.merchant === null ? 0 : (counts.get(byMerchant) ?? 0) + 1;
            counts.set(bySource, seenSource);
            if (h.merchant !== null) counts.set(byMerchant, seenMerchant);
            const v = limiter.hit(h.source, h.merchant, t0 + h.at);
            // Throttled exactly when this hit is beyond either limit of its window.
            expect(v.throttled).toBe(seenSource > perAddress || seenMerchant > perMerchant);
            if (v.throttled) {
              expect(v.retryAfterSeconds).toBeGreaterThanOrEqual(1);
              expect(v.retryAfterSeconds).toBeLessThanOrEqual(WINDOW / 1000);
            }
          }
        },
      ),
    );
  });

  it("counts a new source as over the limit once it tracks maxKeys sources in a window", () => {
    const limiter = new RejectionLimiter({ perAddress: 5, perMerchant: 5, windowMs: WINDOW, maxKeys: 2 });
    expect(limiter.hit("a", null, 0).throttled).toBe(false);
    expect(limiter.hit("b", null, 0).throttled).toBe(false);
    expect(limiter.hit("c", null, 0).throttled).toBe(true);
    expect(limiter.hit("a", null, 1).throttled).toBe(false);
    expect(limiter.hit("c", null, WINDOW).throttled).toBe(false);
  });
});

describe("sourceKey", () => {
  it("is the IPv4 address, the IPv4 behind a mapped IPv6 address, or the IPv6 /64", () => {
    expect(sourceKey("198.51.100.7")).toBe("198.51.100.7");
    expect(sourceKey("::ffff:198.51.100.7")).toBe("198.51.100.7");
    expect(sourceKey("2001:db8:1:2::5")).toBe(sourceKey("2001:db8:1:2:ffff:1:2:3"));
    expect(sourceKey("2001:db8:1:2::5")).not.toBe(sourceKey("2001:db8:1:3::5"));
    expect(sourceKey(null)).toBe("other:");
    expect(sourceKey("not an address")).toBe("other:not an address");
  });
});
