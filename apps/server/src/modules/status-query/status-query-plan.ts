import type { AssistanceClaim } from "../review/review-repo.js";
import { dueAt } from "./status-query-schedule.js";

/**
 * What happens to an order's schedule after one of its scheduled queries (pure): the query's
 * result, summarised, decides between ending the schedule, the next step, and flagging the order
 * for assistance when the steps ran out without a final status.
 */

/** A query's result as the schedule sees it. */
export type QueryResultKind =
  /** The backend's authentic answer reports success or failure (whatever the checks made of it). */
  | "final"
  /** The backend's authentic answer reports the order still open (processing). */
  | "still_open"
  | "not_found"
  /** No usable answer: transport failure, bad status, garbage, bad sign, another order. */
  | "failed";

export type NextStep =
  | { kind: "end" }
  | { kind: "next"; step: number; dueAt: number }
  | { kind: "assist"; why: AssistanceClaim["why"] };

/** After query `step` (0-based) of `schedule` ran at `now` with `result`. */
export function nextStep(
  schedule: readonly number[],
  step: number,
  result: QueryResultKind,
  now: number,
  random: number,
): NextStep {
  if (result === "final") return { kind: "end" };
  const due = dueAt(schedule, step + 1, now, random);
  if (due !== null) return { kind: "next", step: step + 1, dueAt: due };
  return { kind: "assist", why: result === "failed" ? "query_failed" : result };
}
