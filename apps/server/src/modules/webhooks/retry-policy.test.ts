import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  judgeAttempt,
  MAX_ATTEMPTS,
  nextAttemptAt,
  RETRY_AFTER_MAX_MS,
  RETRY_DELAYS_MS,
  retryAfterMs,
} from "./retry-policy.js";

const NOW = Date.UTC(2026, 11, 5, 12, 0, 0);
const S = 1000;
const H = 3600 * S;

describe("the retry schedule", () => {
  it("is the spec's: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h after each failure, then nothing", () => {
    expect(RETRY_DELAYS_MS).toEqual([5 * S, 300 * S, 1800 * S, 2 * H, 5 * H, 10 * H, 14 * H, 20 * H, 24 * H]);
    expect(MAX_ATTEMPTS).toBe(10);
    // random 0.5 is the middle of the jitter: the delay itself.
    expect(RETRY_DELAYS_MS.map((_, i) => (nextAttemptAt(i + 1, NOW, 0.5) as number) - NOW)).toEqual(
      RETRY_DELAYS_MS,
    );
    expect(nextAttemptAt(10, NOW, 0.5)).toBeNull();
    expect(nextAttemptAt(0, NOW, 0.5)).toBeNull();
  });

  it("spreads every delay by at most ±10 %, and honours a later Retry-After", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.option(fc.integer({ min: 0, max: 48 * H })),
        (made, random, wait) => {
          const base = RETRY_DELAYS_MS[made - 1] as number;
          const notBefore = wait === null ? undefined : NOW + wait;
          const at = nextAttemptAt(made, NOW, random, notBefore) as number;
          const jittered = at - NOW;
          if (notBefore === undefined || notBefore <= NOW + base * 0.9) {
            expect(jittered).toBeGreaterThanOrEqual(Math.floor(base * 0.9));
            expect(jittered).toBeLessThanOrEqual(Math.ceil(base * 1.1));
          }
          if (notBefore !== undefined) expect(at).toBeGreaterThanOrEqual(notBefore);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe("judging an attempt", () => {
  it("a 2xx delivers; 410 is gone; any other answer or none fails", () => {
    for (const status of [200, 201, 202, 204, 299])
      expect(judgeAttempt({ kind: "answer", status }, NOW).kind).toBe("delivered");
    expect(judgeAttempt({ kind: "answer", status: 410 }, NOW)).toEqual({ kind: "gone" });
    for (const status of [301, 302, 400, 401, 404, 429, 500, 502, 503])
      expect(judgeAttempt({ kind: "answer", status }, NOW)).toEqual({ kind: "failed" });
    expect(judgeAttempt({ kind: "no_answer", reason: "timeout" }, NOW)).toEqual({ kind: "failed" });
  });

  it("honours Retry-After on 429 and 503 only, as seconds or an HTTP date, capped at 24 h", () => {
    expect(judgeAttempt({ kind: "answer", status: 429, retryAfter: "120" }, NOW)).toEqual({
      kind: "failed",
      notBefore: NOW + 120 * S,
    });
    const date = new Date(NOW + 90 * S).toUTCString();
    expect(judgeAttempt({ kind: "answer", status: 503, retryAfter: date }, NOW)).toEqual({
      kind: "failed",
      notBefore: NOW + 90 * S,
    });
    expect(judgeAttempt({ kind: "answer", status: 503, retryAfter: "999999" }, NOW)).toEqual({
      kind: "failed",
      notBefore: NOW + RETRY_AFTER_MAX_MS,
    });
    expect(judgeAttempt({ kind: "answer", status: 500, retryAfter: "120" }, NOW)).toEqual({ kind: "failed" });
    expect(judgeAttempt({ kind: "answer", status: 429, retryAfter: "soon" }, NOW)).toEqual({
      kind: "failed",
    });
    expect(retryAfterMs("-5", NOW)).toBeUndefined();
    expect(retryAfterMs("1e3", NOW)).toBeUndefined();
  });
});
