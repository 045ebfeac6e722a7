import type { CallbackErrorType } from "@psphub/protocol";
import type { AppContext } from "../../app-context.js";
import { RejectionLimiter, sourceKey } from "./callback-flood-guard.js";
import { addToCallbackLogCount, insertCallbackLog, refusedBodyPrefix } from "./callback-log-repo.js";

/** An API-2 request refused before its token matched (or before it could be read). */
export type RefusedCallback = {
  remoteAddr: string | null;
  contentType: string | undefined;
  rawBody: string | undefined;
  errorType: CallbackErrorType;
  /** The integration its merchant_id named, when there is one. */
  integration: { tenantId: string; integrationId: string; merchantId: string } | null;
};

export type FloodGuard = {
  /**
   * Counts a refused request. Under the limits: null (record it as usual, body cut to a prefix).
   * Over them: the seconds to put in Retry-After; the request is then only counted, in one
   * summary row per minute, integration, cause and error type.
   */
  refuse(r: RefusedCallback): number | null;
  /** Writes the counts not yet written. */
  flush(): Promise<void>;
  close(): Promise<void>;
};

type Summary = {
  id: string | null;
  windowStart: number;
  pending: number;
  first: RefusedCallback & { at: number };
};

/**
 * The per-process flood guard of API-2. Counters are in memory: their job is to bound what a
 * flood writes, and a request over the limit must cost no database write at all (a counter in
 * the database would be a write per flood request). With N processes the bound is N times the
 * limit per minute, still bounded. Throttled requests are summed and written at most once per
 * `flushMs` per summary (an insert, then increments), so an admin still sees the flood.
 */
export function createFloodGuard(
  deps: Pick<AppContext, "db" | "clock" | "logger" | "config">,
  opts: { flushMs?: number } = {},
): FloodGuard {
  const limiter = new RejectionLimiter({
    perAddress: deps.config.callbackRejectionsPerMinutePerAddress,
    perMerchant: deps.config.callbackRejectionsPerMinutePerMerchant,
    windowMs: 60_000,
    maxKeys: 100_000,
  });
  const flushMs = opts.flushMs ?? 1_000;
  const summaries = new Map<string, Summary>();
  let latestWindow = Number.NEGATIVE_INFINITY;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let closed = false;

  const schedule = () => {
    if (timer || closed) return;
    timer = setTimeout(() => {
      timer = undefined;
      void flush();
    }, flushMs);
    timer.unref();
  };

  async function writeSummaries(): Promise<void> {
    for (const [key, s] of summaries) {
      if (s.pending === 0) {
        if (s.windowStart < latestWindow) summaries.delete(key);
        continue;
      }
      const n = s.pending;
      s.pending = 0;
      try {
        if (s.id === null) {
          const { first } = s;
          s.id = await insertCallbackLog(deps.db, {
            tenant_id: first.integration?.tenantId ?? null,
            integration_id: first.integration?.integrationId ?? null,
            deposit_id: null,
            merchant_id: first.integration?.merchantId ?? null,
            order_no: null,
            content_type: first.contentType ?? null,
            raw_body: refusedBodyPrefix(first.rawBody),
            verdict: "rejected",
            error_type: first.errorType,
            error_detail: `throttled: too many refused requests (the first: ${first.errorType}); answered 429 and counted, not stored one by one`,
            http_status: 429,
            remote_addr: first.remoteAddr,
            created_at: first.at,
            request_count: n,
          });
        } else {
          await addToCallbackLogCount(deps.db, s.id, n);
        }
      } catch (err) {
        s.pending += n;
        deps.logger.error({ err }, "could not record throttled API-2 callbacks");
        schedule();
      }
    }
  }

  function flush(): Promise<void> {
    running = running.then(writeSummaries);
    return running;
  }

  return {
    refuse(r) {
      const now = deps.clock.now();
      const verdict = limiter.hit(sourceKey(r.remoteAddr), r.integration?.integrationId ?? null, now);
      if (!verdict.throttled) return null;
      const cause = verdict.by === "merchant" ? "merchant" : `address ${sourceKey(r.remoteAddr)}`;
      const key = [verdict.windowStart, r.integration?.integrationId ?? "", cause, r.errorType].join("|");
      let s = summaries.get(key);
      if (!s) {
        const first = { ...r, rawBody: refusedBodyPrefix(r.rawBody), at: now };
        s = { id: null, windowStart: verdict.windowStart, pending: 0, first };
        summaries.set(key, s);
      }
      s.pending += 1;
      latestWindow = Math.max(latestWindow, verdict.windowStart);
      schedule();
      return verdict.retryAfterSeconds;
    },
    flush,
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await flush();
    },
  };
}
