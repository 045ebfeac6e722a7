import { isFinalCallbackStatus } from "@psphub/protocol";
import { type Callback, callbackEndpoint, encodeCallback } from "./callback.js";
import { SdkError } from "./errors.js";
import { TOKEN_HEADER } from "./request-checks.js";

/** Exponential backoff with full jitter: attempt n waits random(0, min(maxMs, baseMs·2^(n−1))). */
export interface RetryPolicy {
  /** First backoff step. Default 500 ms. */
  readonly baseMs?: number;
  /** Largest backoff step. Default 30 s. */
  readonly maxMs?: number;
  /** Full jitter (true, the default) or the exact step (false). */
  readonly jitter?: boolean;
}

/** How {@link sendCallback} and `sendPayoutCallback` post and retry (everything but what is sent). */
export interface DeliveryOptions {
  /**
   * Retry until this many ms after the first attempt: no attempt starts later (one in flight
   * may still take `attemptTimeoutMs`). 0 sends exactly once. Default 60 s.
   */
  readonly deadlineMs?: number;
  readonly retry?: RetryPolicy;
  /** Time allowed for one attempt (connect, send, answer). Default 10 s. */
  readonly attemptTimeoutMs?: number;
  /** Default: the global `fetch` (Node 20+). */
  readonly fetch?: typeof globalThis.fetch;
  /** Stops waiting and retrying (the result is `gave_up` with `lastError: "aborted"`). */
  readonly signal?: AbortSignal;
  /** Told after every attempt; `nextDelayMs` is set when another attempt follows. */
  readonly onAttempt?: (info: AttemptInfo) => void;
  /** For tests: jitter source in [0, 1). Default `Math.random`. */
  readonly random?: () => number;
}

/** Options of {@link sendCallback}. */
export interface SendCallbackOptions extends DeliveryOptions {
  /** `CRM_Callback_URL` from the back office (`/pay/callback` is appended), or the full endpoint. */
  readonly callbackUrl: string;
  /** The integration's token: sent as `crm-pay-token` and used to sign. */
  readonly token: string;
  readonly callback: Callback;
}

/** One attempt, as told to `onAttempt`. */
export interface AttemptInfo {
  readonly attempt: number;
  /** The HTTP status, when an answer came. */
  readonly status?: number;
  /** The API-2 error type of the answer, when it had one. */
  readonly type?: string;
  /** The CRM's reason in words (psphub's `detail`), when the answer had one. */
  readonly detail?: string;
  /** The network error, when no answer came. */
  readonly error?: string;
  readonly nextDelayMs?: number;
}

interface Sent {
  /** The endpoint posted to. */
  readonly url: string;
  /** The exact JSON body posted (the same on every attempt). */
  readonly body: string;
  readonly attempts: number;
}

/** The outcome of {@link sendCallback}. */
export type SendCallbackResult =
  /** The CRM accepted the callback (204): applied, or a repeat of the status it already has. */
  | (Sent & { readonly kind: "done"; readonly status: number })
  /**
   * The CRM answered `payment_status_not_pending` to a final status (0 or 1): the order already
   * reached a different final status (or expired). Retrying cannot change that; the CRM kept the
   * callback for an admin to review. Look at the order on your side.
   */
  | (Sent & {
      readonly kind: "done_conflicting";
      readonly status: number;
      readonly type: "payment_status_not_pending";
    })
  /** Any other 3xx/4xx answer: never retried. `type` is the API-2 error type when the body had one. */
  | (Sent & {
      readonly kind: "rejected";
      readonly status: number;
      readonly type?: string;
      /** Why, in words, when the CRM said (psphub's `detail`: which check failed, what to fix). */
      readonly detail?: string;
      /** The answer's body, at most 2000 characters. */
      readonly response: string;
    })
  /** Network errors or 5xx until the deadline. */
  | (Sent & { readonly kind: "gave_up"; readonly lastError: string; readonly lastStatus?: number });

const RESPONSE_CAP = 16 * 1024;

async function readCapped(response: Response): Promise<string> {
  const body = response.body;
  if (body === null || body === undefined || typeof body.getReader !== "function") {
    return typeof response.text === "function" ? (await response.text()).slice(0, RESPONSE_CAP) : "";
  }
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const step = await reader.read();
    if (step.done) break;
    text += decoder.decode(step.value, { stream: true });
    if (text.length >= RESPONSE_CAP) {
      await reader.cancel().catch(() => {});
      break;
    }
  }
  return text.slice(0, RESPONSE_CAP);
}

/** The API-2 error envelope's `type` and, when given, `detail`. */
function errorOf(text: string): { type?: string; detail?: string } {
  try {
    const json: unknown = JSON.parse(text);
    if (typeof json !== "object" || json === null) return {};
    const { type, detail } = json as { type?: unknown; detail?: unknown };
    return {
      ...(typeof type === "string" ? { type } : {}),
      ...(typeof detail === "string" ? { detail: detail.slice(0, 500) } : {}),
    };
  } catch {
    // Not JSON: no type.
    return {};
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === "TimeoutError") return "timed out";
    const cause = (error as { cause?: unknown }).cause;
    const detail = cause instanceof Error ? `: ${(cause as { code?: string }).code ?? cause.message}` : "";
    return `${error.message}${detail}`;
  }
  return String(error);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
    throw new SdkError("invalid_config", `${name} must be a non-negative number of milliseconds`);
  }
  return v;
}

/**
 * Signs and posts an API-2 callback, retrying where that can help (docs/psp-open-api.md#api-2-retries):
 *
 * - 2xx (the CRM answers 204) → `done`. A repeat of the status the order already has is `done`
 *   too: the CRM is idempotent and credits once.
 * - 4xx `payment_status_not_pending` to a final status → `done_conflicting` (not retried).
 * - network error, timeout, 5xx → retried with exponential backoff and full jitter until
 *   `deadlineMs` → `gave_up`.
 * - any other 3xx/4xx → `rejected`, never retried (redirects are not followed).
 *
 * Every attempt posts the same body (same `time`, same `sign`). Throws only for a callback or
 * options that cannot be sent at all (`SdkError`, `ProtocolError` for an empty token).
 */
export async function sendCallback(options: SendCallbackOptions): Promise<SendCallbackResult> {
  const url = callbackEndpoint(options.callbackUrl);
  const { body } = encodeCallback(options.callback, options.token);
  return deliver(url, body, options.token, isFinalCallbackStatus(options.callback.status), options);
}

/**
 * Posts a signed body (API-2's or API-5's) to `url` with the token header, retrying by the rules
 * of {@link sendCallback}; `final` tells whether its status is 0 or 1 (for `done_conflicting`).
 */
export async function deliver(
  url: string,
  body: string,
  token: string,
  final: boolean,
  options: DeliveryOptions,
): Promise<SendCallbackResult> {
  const deadlineMs = nonNegative(options.deadlineMs, 60_000, "deadlineMs");
  const attemptTimeoutMs = nonNegative(options.attemptTimeoutMs, 10_000, "attemptTimeoutMs");
  const baseMs = nonNegative(options.retry?.baseMs, 500, "retry.baseMs");
  const maxMs = nonNegative(options.retry?.maxMs, 30_000, "retry.maxMs");
  const jitter = options.retry?.jitter ?? true;
  const random = options.random ?? Math.random;
  const doFetch = options.fetch ?? globalThis.fetch;
  if (typeof doFetch !== "function") throw new SdkError("invalid_config", "no fetch: pass options.fetch");

  const deadlineAt = Date.now() + deadlineMs;
  let attempts = 0;
  let lastError = "";
  let lastStatus: number | undefined;
  for (;;) {
    if (options.signal?.aborted) {
      return { kind: "gave_up", url, body, attempts, lastError: "aborted", ...statusPart(lastStatus) };
    }
    attempts++;
    let status: number | undefined;
    let text = "";
    try {
      const timeout = AbortSignal.timeout(Math.max(1, attemptTimeoutMs));
      const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
      const response = await doFetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json",
          [TOKEN_HEADER]: token,
        },
        body,
        redirect: "manual",
        signal,
      });
      status = response.status;
      text = await readCapped(response);
    } catch (error) {
      lastError = options.signal?.aborted ? "aborted" : describe(error);
    }

    if (status !== undefined) {
      lastStatus = status;
      const refusal = status >= 400 ? errorOf(text) : {};
      const type = refusal.type;
      if (status >= 200 && status < 300) {
        options.onAttempt?.({ attempt: attempts, status });
        return { kind: "done", url, body, attempts, status };
      }
      if (status < 500) {
        options.onAttempt?.({ attempt: attempts, status, ...refusal });
        if (final && type === "payment_status_not_pending") {
          return { kind: "done_conflicting", url, body, attempts, status, type };
        }
        return {
          kind: "rejected",
          url,
          body,
          attempts,
          status,
          ...refusal,
          response: text.slice(0, 2000),
        };
      }
      lastError = `HTTP ${status}${type === undefined ? "" : ` ${type}`}`;
    }

    const remaining = deadlineAt - Date.now();
    if (remaining <= 0 || options.signal?.aborted) {
      options.onAttempt?.({ attempt: attempts, ...attemptPart(status, lastError) });
      return { kind: "gave_up", url, body, attempts, lastError, ...statusPart(lastStatus) };
    }
    const step = Math.min(maxMs, baseMs * 2 ** Math.min(attempts - 1, 52));
    const delay = Math.min(remaining, Math.floor(jitter ? random() * step : step));
    options.onAttempt?.({ attempt: attempts, ...attemptPart(status, lastError), nextDelayMs: delay });
    await sleep(delay, options.signal);
  }
}

const statusPart = (status: number | undefined) => (status === undefined ? {} : { lastStatus: status });
const attemptPart = (status: number | undefined, error: string) =>
  status === undefined ? { error } : { status };
