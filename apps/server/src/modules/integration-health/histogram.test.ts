import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { emptyHistogram, LATENCY_BOUNDS_MS, merge, parseHistogram, percentile, record } from "./histogram.js";

const B = LATENCY_BOUNDS_MS;

describe("histogram", () => {
  it("percentiles are bucket upper bounds; the open bucket reports its lower bound", () => {
    const h = emptyHistogram(B);
    for (let i = 0; i < 90; i++) record(h, B, 40);
    for (let i = 0; i < 9; i++) record(h, B, 900);
    record(h, B, 60_000);
    expect(percentile(h, B, 0.5)).toBe(50);
    expect(percentile(h, B, 0.95)).toBe(1_000);
    expect(percentile(h, B, 0.99)).toBe(1_000);
    expect(percentile(h, B, 1)).toBe(30_000);
    expect(percentile(emptyHistogram(B), B, 0.5)).toBeNull();
  });

  it("merging minutes gives the same percentiles as one histogram of every sample", () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.nat(40_000), { maxLength: 30 }), { maxLength: 10 }), (minutes) => {
        const all = emptyHistogram(B);
        const merged = emptyHistogram(B);
        for (const samples of minutes) {
          const m = emptyHistogram(B);
          for (const s of samples) {
            record(m, B, s);
            record(all, B, s);
          }
          merge(merged, parseHistogram(JSON.stringify(m), B));
        }
        for (const q of [0.5, 0.95, 0.99]) expect(percentile(merged, B, q)).toBe(percentile(all, B, q));
        // The percentile never under-states a sample it covers.
        const sorted = minutes.flat().sort((a, b) => a - b);
        const p = percentile(all, B, 0.5);
        if (sorted.length > 0 && p !== null && p < 30_000) {
          expect(p).toBeGreaterThanOrEqual(sorted[Math.ceil(0.5 * sorted.length) - 1] ?? 0);
        }
      }),
    );
  });

  it("a malformed stored histogram reads as empty", () => {
    expect(parseHistogram("not json", B)).toEqual(emptyHistogram(B));
    expect(parseHistogram('[1,"x"]', B).slice(0, 2)).toEqual([1, 0]);
  });
});
