import { performance } from "node:perf_hooks";
import type { AppContext } from "../../app-context.js";
import { NotFoundError, ValidationError } from "../../common/errors.js";
import { parseInput } from "../../common/validation.js";
import { findRate, findSource } from "./fx-source-repo.js";
import { testInput } from "./fx-source-schemas.js";
import { isFresh, unavailableMessage, validUntil } from "./rate-freshness.js";
import { fetchExternalRate } from "./rate-lookup.js";

export type TestOutcome =
  | { ok: true; rate: string; rateTime: number; latencyMs: number }
  | { ok: false; reason: string; message: string; latencyMs: number };

/**
 * The "Test" action: one live call to an external source (never its cache), or a manual
 * source's row, judged as a deposit would be. Always an outcome, never an error, but for a
 * missing source. The reason is the admin's (`timeout`, `http_status_401`, `stale`, …).
 */
export async function testFxSource(
  ctx: Pick<AppContext, "db" | "clock" | "secretBox" | "httpOut">,
  tenantId: string,
  id: string,
  input: { from: string; to: string },
): Promise<TestOutcome> {
  const { from, to } = parseInput(testInput, input);
  if (from === to)
    throw new ValidationError("The pair is invalid", [
      { path: "to", message: "A pair needs two different currencies" },
    ]);
  const source = await findSource(ctx.db, tenantId, id);
  if (!source) throw new NotFoundError("Rate source");
  const ttl = source.ttl_seconds === null ? null : Number(source.ttl_seconds);
  if (source.kind === "manual") {
    const started = performance.now();
    const row = await findRate(ctx.db, tenantId, id, from, to);
    const latencyMs = Math.round(performance.now() - started);
    if (!row)
      return {
        ok: false,
        reason: "no_rate",
        message: `There is no ${from} → ${to} rate in this table.`,
        latencyMs,
      };
    const rateTime = Number(row.updated_at);
    if (!isFresh(validUntil(rateTime, ttl), ctx.clock.now()))
      return {
        ok: false,
        reason: "stale",
        message: `The ${from} → ${to} rate is older than the source's TTL.`,
        latencyMs,
      };
    return { ok: true, rate: row.rate, rateTime, latencyMs };
  }
  const answer = await fetchExternalRate(ctx, source, from, to, () => ctx.clock.now());
  const latencyMs = Math.round(answer.latencyMs);
  if (!answer.ok)
    return { ok: false, reason: answer.detail, message: unavailableMessage(from, to), latencyMs };
  if (!isFresh(validUntil(answer.rateTime, ttl), ctx.clock.now()))
    return {
      ok: false,
      reason: "stale",
      message: `The API answered ${answer.rate}, but its time is older than the source's TTL.`,
      latencyMs,
    };
  return { ok: true, rate: answer.rate, rateTime: answer.rateTime, latencyMs };
}
