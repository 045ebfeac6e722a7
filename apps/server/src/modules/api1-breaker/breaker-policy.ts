import type { Api1Outcome } from "../deposits/api1-request.js";

/**
 * The API-1 circuit breaker of one integration as a pure state machine
 * (docs/operations.md#api-1-circuit-breaker). Saleor's two conditions, scaled down for low
 * volumes: over the last {@link BreakerPolicy.windowMs}, at least `minFailures` failed calls
 * AND a failure rate of at least `failureRate`. Open, it refuses calls for `coolDownMs`; then
 * one call at a time is let through as a probe (its lease: `probeLeaseMs` past the call's own
 * timeout); a probe that gets an answer closes it, one that fails opens it again.
 */
export type BreakerPolicy = {
  windowMs: number;
  /** Calls are counted in buckets of this size; the window is the sum of its recent buckets. */
  bucketMs: number;
  minFailures: number;
  /** 0..1 */
  failureRate: number;
  coolDownMs: number;
  /** Added to the API-1 timeout: how long a claimed probe keeps others out. */
  probeLeaseMs: number;
};

/**
 * 5 failures (Saleor's minimum count is meant for far higher traffic: a tenant backend here
 * may see a few deposits a minute) at 50 % or more over 5 minutes; a minute's cool-down.
 */
export const BREAKER_POLICY: BreakerPolicy = {
  windowMs: 5 * 60_000,
  bucketMs: 10_000,
  minFailures: 5,
  failureRate: 0.5,
  coolDownMs: 60_000,
  probeLeaseMs: 5_000,
};

export type BreakerMode = "off" | "dry_run" | "on";

export type BreakerState =
  | { state: "closed" }
  | { state: "open"; openedAt: number; reason: string }
  | { state: "half_open"; openedAt: number; reason: string; probeUntil: number };

export type WindowCounts = { calls: number; failures: number };

export type BreakerEvent =
  /** A deposit wants to call API-1; `leaseMs` is its timeout plus the policy's probe lease. */
  | { kind: "call"; leaseMs: number }
  /** A call's outcome, with the window's counts including it. */
  | { kind: "outcome"; failure: boolean; probe: boolean; window: WindowCounts }
  | { kind: "close_by_hand" };

export type Decision = "pass" | "probe" | "refuse";
export type Transition = "opened" | "half_open" | "closed";

export type Step = { next: BreakerState; decision?: Decision; transition?: Transition };

/** Whether the window's counts trip the breaker. */
export function trips(w: WindowCounts, p: BreakerPolicy = BREAKER_POLICY): boolean {
  return w.failures >= p.minFailures && w.calls > 0 && w.failures >= p.failureRate * w.calls;
}

/** Why it opened, for the admin: the figures that tripped it. */
export function openReason(w: WindowCounts, p: BreakerPolicy = BREAKER_POLICY): string {
  return `${w.failures} of ${w.calls} API-1 calls failed in ${Math.round(p.windowMs / 60_000)} min`;
}

export const PROBE_FAILED_REASON = "the half-open probe failed";

/** One step of the machine: what a state does with an event at `now`. */
export function step(s: BreakerState, e: BreakerEvent, now: number, p: BreakerPolicy = BREAKER_POLICY): Step {
  switch (e.kind) {
    case "close_by_hand":
      return s.state === "closed" ? { next: s } : { next: { state: "closed" }, transition: "closed" };
    case "call": {
      if (s.state === "closed") return { next: s, decision: "pass" };
      const probeDue = s.state === "open" ? now - s.openedAt >= p.coolDownMs : s.probeUntil <= now;
      if (!probeDue) return { next: s, decision: "refuse" };
      return {
        next: { state: "half_open", openedAt: s.openedAt, reason: s.reason, probeUntil: now + e.leaseMs },
        decision: "probe",
        transition: s.state === "open" ? "half_open" : undefined,
      };
    }
    case "outcome": {
      if (s.state === "closed") {
        if (e.failure && trips(e.window, p)) {
          return {
            next: { state: "open", openedAt: now, reason: openReason(e.window, p) },
            transition: "opened",
          };
        }
        return { next: s };
      }
      // Only the probe's outcome moves an open breaker: other calls were let through before it
      // opened (or in dry run) and say nothing about the backend now.
      if (s.state !== "half_open" || !e.probe) return { next: s };
      if (e.failure) {
        return { next: { state: "open", openedAt: now, reason: PROBE_FAILED_REASON }, transition: "opened" };
      }
      return { next: { state: "closed" }, transition: "closed" };
    }
  }
}

/** Seconds until an open breaker lets a probe through (the Retry-After of a refusal), at least 1. */
export function retryAfterSeconds(s: BreakerState, now: number, p: BreakerPolicy = BREAKER_POLICY): number {
  const until = s.state === "open" ? s.openedAt + p.coolDownMs : s.state === "half_open" ? s.probeUntil : now;
  return Math.max(1, Math.ceil((until - now) / 1000));
}

/**
 * What an API-1 outcome says about the backend: `failure` when it timed out, could not be
 * reached, answered 5xx or garbage; `success` when it answered sensibly (a payment URL, a
 * clean `result: false` decline, a 4xx refusal of our request); `null` when no call was made
 * (our own configuration error).
 */
export function backendVerdict(outcome: Api1Outcome): "success" | "failure" | null {
  if (outcome.ok) return "success";
  const code = outcome.reason.split(":", 1)[0] ?? "";
  if (code === "config_error" || code === "internal_error" || code === "blocked_address") return null;
  if (code === "result_false") return "success";
  const http = /^http_status_(\d{3})$/.exec(code);
  if (http) return Number(http[1]) >= 500 ? "failure" : "success";
  // timeout, connection_refused, dns_failure, network_error, too_large, bad_json, missing_url,
  // bad_url, insecure_url: unreachable or garbage.
  return "failure";
}
