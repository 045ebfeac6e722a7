/**
 * When a webhook delivery is tried again, and what an answer means (pure; docs/webhooks.md#delivery).
 * The spec's schedule: after the first attempt, retries 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
 * 14 h, 20 h and 24 h later, each spread by ±10 % so that a recovering receiver is not hit by
 * every delivery at the same instant.
 */

const S = 1_000;
const M = 60 * S;
const H = 60 * M;
export const RETRY_DELAYS_MS: readonly number[] = [
  5 * S,
  5 * M,
  30 * M,
  2 * H,
  5 * H,
  10 * H,
  14 * H,
  20 * H,
  24 * H,
];
/** The first attempt and every retry. */
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;
/** A 2xx must come within this. */
export const ATTEMPT_TIMEOUT_MS = 15_000;
/** The consecutive failures of one event that open the endpoint's `webhook_failing` alert. */
export const FAILING_ALERT_AT = 4;
/** An endpoint failing without a success for this long is disabled. */
export const DISABLE_AFTER_MS = 5 * 24 * H;
/** The longest `Retry-After` honoured: a longer one waits this long. */
export const RETRY_AFTER_MAX_MS = 24 * H;
const JITTER = 0.1;

/** What one HTTP attempt brought back. */
export type AttemptAnswer =
  | { kind: "answer"; status: number; retryAfter?: string }
  | { kind: "no_answer"; reason: string };

export type AttemptVerdict =
  | { kind: "delivered" }
  /** 410 Gone: the receiver says the endpoint no longer exists. */
  | { kind: "gone" }
  /** A failure; `notBefore` when the receiver asked (429/503 with `Retry-After`). */
  | { kind: "failed"; notBefore?: number };

/** A 2xx is success; redirects are not followed, so a 3xx fails like any other answer. */
export function judgeAttempt(a: AttemptAnswer, now: number): AttemptVerdict {
  if (a.kind === "no_answer") return { kind: "failed" };
  if (a.status >= 200 && a.status < 300) return { kind: "delivered" };
  if (a.status === 410) return { kind: "gone" };
  if ((a.status === 429 || a.status === 503) && a.retryAfter !== undefined) {
    const wait = retryAfterMs(a.retryAfter, now);
    if (wait !== undefined) return { kind: "failed", notBefore: now + Math.min(wait, RETRY_AFTER_MAX_MS) };
  }
  return { kind: "failed" };
}

/** `Retry-After` as delay-seconds or an HTTP date, in ms from `now`; undefined when unreadable. */
export function retryAfterMs(value: string, now: number): number | undefined {
  const v = value.trim();
  if (/^\d{1,10}$/.test(v)) return Number(v) * S;
  const at = Date.parse(v);
  if (Number.isNaN(at) || !/[a-z]/i.test(v)) return undefined;
  return Math.max(0, at - now);
}

/**
 * When the next attempt is due after `attemptsMade` failed ones, or null when the schedule is
 * spent. `random` in [0, 1) spreads the delay by ±10 %; a receiver's `notBefore` is honoured
 * when it is later.
 */
export function nextAttemptAt(
  attemptsMade: number,
  now: number,
  random: number,
  notBefore?: number,
): number | null {
  const delay = RETRY_DELAYS_MS[attemptsMade - 1];
  if (attemptsMade < 1 || delay === undefined) return null;
  const jittered = Math.round(delay * (1 - JITTER + 2 * JITTER * random));
  return Math.max(now + jittered, notBefore ?? 0);
}
