import type { Logger } from "pino";
import { LruMap } from "../../common/lru-map.js";
import type { SecretBox } from "../../infra/crypto/secret-box.js";
import type { Db } from "../../infra/db/database.js";
import type { FxSourceKind } from "../../infra/db/schema.js";
import type { GuardedClient } from "../../infra/http-out/guarded-client.js";
import { openAlert, resolveAlert } from "../integration-health/alert-repo.js";
import { type FxSourceRow, findRate, findSource } from "./fx-source-repo.js";
import {
  cacheDecision,
  type ExternalAnswer,
  interpretRateResponse,
  isFresh,
  unavailableMessage,
  validUntil,
} from "./rate-freshness.js";

/** A rate wanted from one of a tenant's sources: `from` (payment) → `to` (account currency). */
export type RateRequest = { tenantId: string; sourceId: string; from: string; to: string };

/** Why no rate can be used; `message` is for the client and the admin alike (no secrets). */
export type RateRefusal = "source_not_found" | "no_rate" | "stale" | "unavailable";

export type RateAnswer =
  | {
      ok: true;
      /** Decimal text, at most 12 significant digits (protocol fx.ts). */
      rate: string;
      /** The rate's own time, Unix ms: an external answer's `time`, a manual rate's last change. */
      rateTime: number;
      /** Past this the rate is stale and is not used; null: a manual source without a TTL. */
      validUntil: number | null;
      sourceKind: FxSourceKind;
      sourceId: string;
      sourceName: string;
      /** The pair's own markup (a manual rate's); 0 for an external source. */
      pairMarkupBps: number;
    }
  | { ok: false; reason: RateRefusal; message: string };

/** Where deposits get their rates (modules/fx-rates): manual tables and cached external APIs. */
export interface RateLookup {
  rateFor(request: RateRequest, now: number): Promise<RateAnswer>;
  /** Drops what the process cached of a source after a change to it (fx-rates use-cases). */
  forgetSource?(tenantId: string, sourceId: string): void;
}

export type RateLookupDeps = { db: Db; secretBox: SecretBox; httpOut: GuardedClient; logger?: Logger };

/** Cached external rates (pairs × sources) per process. */
export const RATE_CACHE_ENTRIES = 10_000;
/** Source rows are read again after this, or at once after a change in this process. */
export const SOURCE_ROW_TTL_MS = 1_000;
/** A source's alert is checked (opened or resolved) at most this often per process. */
export const ALERT_CHECK_GAP_MS = 5_000;
/** An exchange-rate API's answer is tiny; anything bigger is refused. */
export const MAX_RATE_BODY_BYTES = 4 * 1024;

type CachedRate = { rate: string; rateTime: number; validUntil: number; lastAttemptAt: number };

/** One call to a source's exchange-rate API (the lookup and the Test action). */
export async function fetchExternalRate(
  deps: Pick<RateLookupDeps, "secretBox" | "httpOut">,
  source: FxSourceRow,
  from: string,
  to: string,
  now: () => number,
): Promise<ExternalAnswer & { latencyMs: number }> {
  if (!source.url || !source.key_enc) return { ok: false, detail: "not an external source", latencyMs: 0 };
  const url = new URL(source.url);
  url.searchParams.set("from", from);
  url.searchParams.set("to", to);
  const res = await deps.httpOut.request({
    url: url.href,
    method: "GET",
    headers: { key: deps.secretBox.open(source.key_enc), accept: "application/json" },
    timeoutMs: Number(source.timeout_ms),
    maxBodyBytes: MAX_RATE_BODY_BYTES,
  });
  return { ...interpretRateResponse(res, now()), latencyMs: res.latencyMs };
}

/** The process's rate lookup, built once per AppContext. */
export function createRateLookup(deps: RateLookupDeps): RateLookup {
  const sources = new LruMap<string, { row: FxSourceRow | undefined; loadedAt: number }>(RATE_CACHE_ENTRIES);
  const rates = new LruMap<string, CachedRate>(RATE_CACHE_ENTRIES);
  const inflight = new Map<string, Promise<ExternalAnswer>>();
  const alertChecks = new Map<string, { openCheckedAt: number; resolveCheckedAt: number }>();

  async function sourceRow(tenantId: string, sourceId: string, now: number) {
    const key = `${tenantId}|${sourceId}`;
    const hit = sources.get(key);
    if (hit && now >= hit.loadedAt && now < hit.loadedAt + SOURCE_ROW_TTL_MS) return hit.row;
    const row = await findSource(deps.db, tenantId, sourceId);
    sources.set(key, { row, loadedAt: now });
    return row;
  }

  function checksOf(sourceId: string) {
    let c = alertChecks.get(sourceId);
    if (!c) {
      c = { openCheckedAt: Number.NEGATIVE_INFINITY, resolveCheckedAt: Number.NEGATIVE_INFINITY };
      alertChecks.set(sourceId, c);
      if (alertChecks.size > RATE_CACHE_ENTRIES)
        alertChecks.delete(alertChecks.keys().next().value as string);
    }
    return c;
  }

  async function alertOnRefusal(source: FxSourceRow, data: Record<string, number>, now: number) {
    const c = checksOf(source.id);
    if (now < c.openCheckedAt + ALERT_CHECK_GAP_MS) return;
    c.openCheckedAt = now;
    // The next good rate checks for the alert at once.
    c.resolveCheckedAt = Number.NEGATIVE_INFINITY;
    try {
      await openAlert(
        deps.db,
        { tenantId: source.tenant_id, integrationId: source.id, kind: "fx_rate_stale", data },
        now,
      );
    } catch (err) {
      deps.logger?.warn({ err, sourceId: source.id }, "fx_rate_stale alert could not be opened");
    }
  }

  async function alertOnGoodRate(source: FxSourceRow, now: number) {
    const c = checksOf(source.id);
    if (now < c.resolveCheckedAt + ALERT_CHECK_GAP_MS) return;
    c.resolveCheckedAt = now;
    try {
      await resolveAlert(deps.db, source.id, "fx_rate_stale", now);
    } catch (err) {
      deps.logger?.warn({ err, sourceId: source.id }, "fx_rate_stale alert could not be resolved");
    }
  }

  /** Fetches once per pair at a time: concurrent callers share the one call (single flight). */
  function fetchShared(cacheKey: string, source: FxSourceRow, from: string, to: string, now: number) {
    const running = inflight.get(cacheKey);
    if (running) return running;
    const p = (async (): Promise<ExternalAnswer> => {
      try {
        const answer = await fetchExternalRate(deps, source, from, to, () => now);
        const ttl = Number(source.ttl_seconds ?? 0);
        if (answer.ok) {
          const until = validUntil(answer.rateTime, ttl) as number;
          if (isFresh(until, now))
            rates.set(cacheKey, {
              rate: answer.rate,
              rateTime: answer.rateTime,
              validUntil: until,
              lastAttemptAt: now,
            });
        } else {
          deps.logger?.warn(
            { sourceId: source.id, from, to, reason: answer.detail },
            "exchange-rate API call failed",
          );
          const kept = rates.get(cacheKey);
          if (kept) kept.lastAttemptAt = now;
        }
        return answer;
      } catch (err) {
        deps.logger?.warn({ err, sourceId: source.id }, "exchange-rate API call failed");
        return { ok: false, detail: "internal_error" };
      } finally {
        inflight.delete(cacheKey);
      }
    })();
    inflight.set(cacheKey, p);
    return p;
  }

  async function external(req: RateRequest, source: FxSourceRow, now: number): Promise<RateAnswer> {
    // The row's updated_at is in the key: a changed URL, key or TTL never serves an old rate.
    const cacheKey = `${source.id}|${Number(source.updated_at)}|${req.from}|${req.to}`;
    const cached = rates.get(cacheKey);
    const decision = cacheDecision(cached, now);
    const answerFrom = (c: CachedRate): RateAnswer => ({
      ok: true,
      rate: c.rate,
      rateTime: c.rateTime,
      validUntil: c.validUntil,
      sourceKind: "external",
      sourceId: source.id,
      sourceName: source.name,
      pairMarkupBps: 0,
    });
    if (cached && decision !== "fetch") {
      if (decision === "refresh") {
        cached.lastAttemptAt = now;
        void fetchShared(cacheKey, source, req.from, req.to, now);
      }
      return answerFrom(cached);
    }
    const answer = await fetchShared(cacheKey, source, req.from, req.to, now);
    const fresh = rates.get(cacheKey);
    if (fresh && isFresh(fresh.validUntil, now)) {
      await alertOnGoodRate(source, now);
      return answerFrom(fresh);
    }
    if (answer.ok) {
      // It answered, but with a rate older than the source's TTL.
      await alertOnRefusal(source, { ageSeconds: Math.floor((now - answer.rateTime) / 1_000) }, now);
      return { ok: false, reason: "stale", message: unavailableMessage(req.from, req.to) };
    }
    await alertOnRefusal(
      source,
      cached ? { ageSeconds: Math.floor((now - cached.rateTime) / 1_000) } : {},
      now,
    );
    return { ok: false, reason: "unavailable", message: unavailableMessage(req.from, req.to) };
  }

  async function manual(req: RateRequest, source: FxSourceRow, now: number): Promise<RateAnswer> {
    const row = await findRate(deps.db, req.tenantId, source.id, req.from, req.to);
    if (!row)
      return {
        ok: false,
        reason: "no_rate",
        message: `There is no ${req.from} → ${req.to} exchange rate. Please contact support.`,
      };
    const rateTime = Number(row.updated_at);
    const until = validUntil(rateTime, source.ttl_seconds === null ? null : Number(source.ttl_seconds));
    if (!isFresh(until, now)) {
      await alertOnRefusal(source, { ageSeconds: Math.floor((now - rateTime) / 1_000) }, now);
      return { ok: false, reason: "stale", message: unavailableMessage(req.from, req.to) };
    }
    await alertOnGoodRate(source, now);
    return {
      ok: true,
      rate: row.rate,
      rateTime,
      validUntil: until,
      sourceKind: "manual",
      sourceId: source.id,
      sourceName: source.name,
      pairMarkupBps: Number(row.markup_bps),
    };
  }

  return {
    async rateFor(req, now) {
      const source = await sourceRow(req.tenantId, req.sourceId, now);
      if (!source || source.tenant_id !== req.tenantId)
        return { ok: false, reason: "source_not_found", message: unavailableMessage(req.from, req.to) };
      return source.kind === "external" ? external(req, source, now) : manual(req, source, now);
    },
    forgetSource(tenantId, sourceId) {
      sources.delete(`${tenantId}|${sourceId}`);
    },
  };
}
