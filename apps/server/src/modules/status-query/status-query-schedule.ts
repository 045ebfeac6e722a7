/**
 * When an order's API-3 status queries run (docs/psp-open-api.md#api-3-status-query): pure
 * functions over an integration's schedule, a list of delays in seconds, each counted from the
 * query before it (the first from API-1's success).
 */

/** The spec's default: 1 min, then every 5 min five times, then 1 h and 1 day. */
export const DEFAULT_STATUS_QUERY_SCHEDULE: readonly number[] = [60, 300, 300, 300, 300, 300, 3600, 86_400];

/** Bounds an admin may set: 1–20 steps of 10 s to 7 days. */
export const SCHEDULE_LIMITS = {
  minSteps: 1,
  maxSteps: 20,
  minDelaySeconds: 10,
  maxDelaySeconds: 604_800,
} as const;

/**
 * The spread around each delay: ±5 %, so orders created together do not query together, while
 * every query stays within 5 % of its nominal time.
 */
export const JITTER_FRACTION = 0.05;

/** The integration's stored schedule (JSON array of seconds), or the default when none is stored. */
export function scheduleOf(stored: string | null): readonly number[] {
  if (stored === null) return DEFAULT_STATUS_QUERY_SCHEDULE;
  const parsed: unknown = JSON.parse(stored);
  if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((s) => Number.isInteger(s) && s > 0)) {
    throw new Error("psp_integrations.status_query_schedule is not a list of positive whole seconds");
  }
  return parsed as number[];
}

/**
 * When query number `step` (0-based) of `schedule` is due, counted from `from` (Unix ms: API-1's
 * success for step 0, the previous query otherwise); null when the schedule has no such step.
 * `random` in [0, 1) picks the jitter.
 */
export function dueAt(
  schedule: readonly number[],
  step: number,
  from: number,
  random: number,
): number | null {
  const delaySeconds = schedule[step];
  if (delaySeconds === undefined) return null;
  const delayMs = delaySeconds * 1000;
  return from + Math.round(delayMs * (1 + JITTER_FRACTION * (2 * random - 1)));
}

/** The nominal time of the whole schedule, in ms (B5's target is measured against it). */
export function scheduleLengthMs(schedule: readonly number[]): number {
  return schedule.reduce((sum, s) => sum + s * 1000, 0);
}
