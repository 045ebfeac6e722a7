import { formatRate, tryParseRate } from "@psphub/protocol";
import type { GuardedResponse } from "../../infra/http-out/guarded-client.js";

/**
 * The lookup's decisions, pure (docs/psp-open-api.md#exchange-rate-api-ours): when a rate is
 * still usable, when a cached one is refreshed, and what an external answer means.
 */

/** An answer's `time` may run ahead of our clock by this much (clock skew), not more. */
export const MAX_FUTURE_SKEW_MS = 60_000;
/** A cached external rate is refreshed in the background at most this often per pair. */
export const MIN_REFRESH_GAP_MS = 1_000;

/** Past `validUntil` a rate is stale; null: never (a manual source without a TTL). */
export function validUntil(rateTime: number, ttlSeconds: number | null): number | null {
  return ttlSeconds === null ? null : rateTime + ttlSeconds * 1_000;
}

export function isFresh(until: number | null, now: number): boolean {
  return until === null || now < until;
}

/**
 * What to do with a cached external rate: use it (`fresh`), use it and refresh in the
 * background once past half its TTL (`refresh`), or wait for a fetch (`fetch`: none, or stale).
 */
export function cacheDecision(
  entry: { rateTime: number; validUntil: number; lastAttemptAt: number } | undefined,
  now: number,
): "fresh" | "refresh" | "fetch" {
  if (!entry || now >= entry.validUntil) return "fetch";
  const halfway = entry.rateTime + (entry.validUntil - entry.rateTime) / 2;
  if (now >= halfway && now >= entry.lastAttemptAt + MIN_REFRESH_GAP_MS) return "refresh";
  return "fresh";
}

export type ExternalAnswer =
  | { ok: true; rate: string; rateTime: number }
  /** `detail` is for the log only (never the URL or key). */
  | { ok: false; detail: string };

/**
 * Reads an exchange-rate API's answer: 2xx, JSON `{"rate":"1.0781","time":<Unix ms>}` with
 * `rate` a string parseRate accepts and `time` an integer not more than a minute ahead.
 */
export function interpretRateResponse(res: GuardedResponse, now: number): ExternalAnswer {
  if (!res.ok) return { ok: false, detail: res.reason };
  if (res.status < 200 || res.status > 299) return { ok: false, detail: `http_status_${res.status}` };
  let body: unknown;
  try {
    body = JSON.parse(res.bodyText);
  } catch {
    return { ok: false, detail: "invalid_answer: not JSON" };
  }
  if (typeof body !== "object" || body === null || Array.isArray(body))
    return { ok: false, detail: "invalid_answer: not an object" };
  const { rate, time } = body as { rate?: unknown; time?: unknown };
  if (typeof rate !== "string") return { ok: false, detail: "invalid_answer: rate is not a string" };
  const parsed = tryParseRate(rate);
  if (!parsed) return { ok: false, detail: "invalid_answer: rate is not a plain decimal rate" };
  if (typeof time !== "number" || !Number.isSafeInteger(time) || time <= 0)
    return { ok: false, detail: "invalid_answer: time is not Unix milliseconds" };
  if (time > now + MAX_FUTURE_SKEW_MS) return { ok: false, detail: "invalid_answer: time is in the future" };
  return { ok: true, rate: formatRate(parsed), rateTime: time };
}

/** The client's message: the pair only, never the URL, key or why. */
export const unavailableMessage = (from: string, to: string): string =>
  `The ${from} → ${to} exchange rate is not available right now. Try again in a few minutes.`;
