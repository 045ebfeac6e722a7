import { type JobLoop, startJobLoop } from "../../infra/jobs/job-loop.js";
import { type QueryResult, runStatusQuery, type StatusQueryDeps } from "./query-status.js";
import { nextStep } from "./status-query-plan.js";
import { advanceSchedule, type Claim, claimDueQueries, flagNeedsAssistance } from "./status-query-repo.js";
import { DEFAULT_STATUS_QUERY_SCHEDULE, scheduleOf } from "./status-query-schedule.js";

/**
 * The scheduled API-3 queries: a loop in every server process claims the orders whose query is
 * due (status-query-repo.ts: a short transaction, a lease instead of a held lock), queries each
 * with no transaction open, applies the answer, then moves the order's schedule on with a
 * compare-and-set on the lease. The due time lives in the database, so the schedule survives
 * restarts, and a claim whose process died is taken again once its lease has passed.
 */

export type WorkerDeps = StatusQueryDeps & {
  /** The jitter's source, in [0, 1) (tests fix it). */
  random?: () => number;
};

/**
 * A claim's lease by default (STATUS_QUERY_LEASE_SECONDS): the longest query timeout an
 * integration may set (60 s) plus a margin for judging the answer; only a process that died holds
 * a claim that long.
 */
export const CLAIM_LEASE_MS = 90_000;

/** Claims up to `limit` due orders and runs their queries at once; resolves when all are done. */
export async function runDueStatusQueries(deps: WorkerDeps, limit: number): Promise<number> {
  const claims = await claimDueQueries(deps.db, deps.clock.now(), limit, CLAIM_LEASE_MS);
  await Promise.all(claims.map((c) => runClaim(deps, c)));
  return claims.length;
}

/** One claimed order: its query, then its schedule moved on (never throws). */
export async function runClaim(deps: WorkerDeps, { target: t, lease }: Claim): Promise<void> {
  try {
    if (!t.statusQueryEnabled || t.status === "succeeded" || t.status === "failed") {
      // API-3 was turned off for its integration, or the order is final: nothing left to ask.
      await advanceSchedule(deps.db, t.depositId, lease, null);
      return;
    }
    const r = await runStatusQuery(deps, t, "schedule", t.step);
    const now = deps.clock.now();
    const next = nextStep(scheduleFor(t.schedule), t.step, r.kind, now, (deps.random ?? Math.random)());
    if (next.kind === "end") await advanceSchedule(deps.db, t.depositId, lease, null);
    else if (next.kind === "next") await advanceSchedule(deps.db, t.depositId, lease, next);
    else {
      const flagged = await flagNeedsAssistance(deps.db, t, lease, {
        why: next.why,
        queries: t.step + 1,
        lastOutcome: lastOutcome(r),
        callbackLogId: r.callbackLogId,
        now,
      });
      if (flagged) {
        deps.metrics.assistanceFlags.inc();
        deps.logger.warn(
          { orderNo: t.orderNo, depositId: t.depositId, why: next.why },
          "order needs assistance",
        );
      }
    }
  } catch (err) {
    // The lease brings the order back: it is queried again once the lease has passed.
    deps.logger.error({ err, orderNo: t.orderNo, depositId: t.depositId }, "status query step failed");
  }
}

function scheduleFor(stored: string | null): readonly number[] {
  try {
    return scheduleOf(stored);
  } catch {
    return DEFAULT_STATUS_QUERY_SCHEDULE;
  }
}

const lastOutcome = (r: QueryResult): string =>
  r.kind === "still_open"
    ? "processing"
    : r.kind === "not_found"
      ? "order_not_found"
      : (r.reason ?? r.outcome);

export type StatusQueryWorker = JobLoop;

/** The loop of one process (infra/jobs/job-loop.ts): at most `concurrency` queries in flight. */
export function startStatusQueryWorker(
  deps: WorkerDeps,
  opts: { pollMs: number; concurrency: number; leaseMs?: number },
): StatusQueryWorker {
  const leaseMs = opts.leaseMs ?? CLAIM_LEASE_MS;
  return startJobLoop({
    pollMs: opts.pollMs,
    concurrency: opts.concurrency,
    claim: (free) => claimDueQueries(deps.db, deps.clock.now(), free, leaseMs),
    run: (c) => runClaim(deps, c),
    onClaimError: (err) => deps.logger.error({ err }, "status query claim failed"),
  });
}
