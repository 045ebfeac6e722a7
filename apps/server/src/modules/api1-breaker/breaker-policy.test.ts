import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type BreakerEvent,
  type BreakerState,
  backendVerdict,
  BREAKER_POLICY as P,
  PROBE_FAILED_REASON,
  retryAfterSeconds,
  step,
  trips,
} from "./breaker-policy.js";

const T0 = 1_000_000;
const closed: BreakerState = { state: "closed" };
const open: BreakerState = { state: "open", openedAt: T0, reason: "r" };
const halfOpen: BreakerState = {
  state: "half_open",
  openedAt: T0,
  reason: "r",
  probeUntil: T0 + P.coolDownMs + 10_000,
};
const call: BreakerEvent = { kind: "call", leaseMs: 10_000 };
const outcome = (failure: boolean, probe: boolean, calls = 10, failures = 10): BreakerEvent => ({
  kind: "outcome",
  failure,
  probe,
  window: { calls, failures },
});

describe("the breaker, state by event", () => {
  it("closed: lets every call through; a failure opens it only when the window trips", () => {
    expect(step(closed, call, T0)).toEqual({ next: closed, decision: "pass" });
    expect(step(closed, outcome(false, false), T0).next).toBe(closed);
    expect(step(closed, outcome(true, false, 10, 4), T0).next).toBe(closed);
    expect(step(closed, outcome(true, false, 11, 5), T0).next).toBe(closed);
    const s = step(closed, outcome(true, false, 10, 5), T0);
    expect(s.transition).toBe("opened");
    expect(s.next).toEqual({ state: "open", openedAt: T0, reason: "5 of 10 API-1 calls failed in 5 min" });
    expect(step(closed, { kind: "close_by_hand" }, T0)).toEqual({ next: closed });
  });

  it("open: refuses during the cool-down, then the next call is the probe (half-open)", () => {
    expect(step(open, call, T0 + P.coolDownMs - 1).decision).toBe("refuse");
    const s = step(open, call, T0 + P.coolDownMs);
    expect(s.decision).toBe("probe");
    expect(s.transition).toBe("half_open");
    expect(s.next).toEqual({
      state: "half_open",
      openedAt: T0,
      reason: "r",
      probeUntil: T0 + P.coolDownMs + 10_000,
    });
    // Outcomes of calls let through earlier do not move it.
    expect(step(open, outcome(false, false), T0 + 1).next).toBe(open);
    expect(step(open, outcome(true, false), T0 + 1).next).toBe(open);
    expect(step(open, { kind: "close_by_hand" }, T0 + 1)).toEqual({ next: closed, transition: "closed" });
  });

  it("half-open: one probe at a time; its success closes, its failure re-opens with a new cool-down", () => {
    expect(step(halfOpen, call, T0 + P.coolDownMs + 1).decision).toBe("refuse");
    const again = step(halfOpen, call, T0 + P.coolDownMs + 10_000);
    expect(again.decision).toBe("probe");
    expect(again.transition).toBeUndefined();
    expect(step(halfOpen, outcome(false, true), T0 + 70_000)).toEqual({ next: closed, transition: "closed" });
    expect(step(halfOpen, outcome(true, true), T0 + 70_000)).toEqual({
      next: { state: "open", openedAt: T0 + 70_000, reason: PROBE_FAILED_REASON },
      transition: "opened",
    });
    expect(step(halfOpen, outcome(true, false), T0 + 70_000).next).toBe(halfOpen);
    expect(step(halfOpen, { kind: "close_by_hand" }, T0)).toEqual({ next: closed, transition: "closed" });
  });

  it("trips exactly at the minimum count and the rate, whatever the volume", () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.nat(1000), (a, b) => {
        const calls = Math.max(a, b);
        const failures = Math.min(a, b);
        expect(trips({ calls, failures })).toBe(
          failures >= P.minFailures && failures * 2 >= calls && calls > 0,
        );
      }),
    );
  });

  it("a refusal's Retry-After is the rest of the cool-down, at least a second", () => {
    expect(retryAfterSeconds(open, T0)).toBe(60);
    expect(retryAfterSeconds(open, T0 + 59_500)).toBe(1);
    expect(retryAfterSeconds(open, T0 + 120_000)).toBe(1);
  });
});

describe("what an API-1 outcome says about the backend", () => {
  const failed = (reason: string, declined = false) =>
    backendVerdict({ ok: false, reason, clientMessage: "m", declined });
  it("unreachable, 5xx or garbage is a failure; a clean decline or a 4xx is an answer; our own error is nothing", () => {
    expect(backendVerdict({ ok: true, paymentUrl: "https://p" })).toBe("success");
    for (const r of [
      "timeout",
      "connection_refused",
      "dns_failure: x",
      "network_error: y",
      "http_status_502",
      "bad_json",
    ])
      expect(failed(r)).toBe("failure");
    for (const r of ["missing_url", "bad_url", "insecure_url", "too_large", "http_status_500: boom"])
      expect(failed(r)).toBe("failure");
    expect(failed("result_false: Card declined", true)).toBe("success");
    expect(failed("result_false")).toBe("success");
    expect(failed("http_status_401: invalid token")).toBe("success");
    expect(failed("config_error: duplicate key")).toBeNull();
    expect(failed("internal_error")).toBeNull();
    expect(failed("blocked_address: 10.0.0.1")).toBeNull();
  });
});
