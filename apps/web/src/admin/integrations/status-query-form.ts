import { randomId } from "@mantine/hooks";
import { t } from "../../i18n/index.js";

/**
 * The API-3 status-query settings as the integration form edits them: the schedule as a list of
 * delays in a readable unit, the timeout in seconds (docs/psp-open-api.md, API-3).
 */
export type StatusQuerySettings = { enabled: boolean; scheduleSeconds: number[]; timeoutMs: number };

export type DelayUnit = "s" | "min" | "h" | "d";
export const DELAY_UNITS: DelayUnit[] = ["s", "min", "h", "d"];
const UNIT_SECONDS: Record<DelayUnit, number> = { s: 1, min: 60, h: 3600, d: 86_400 };

export interface DelayRow {
  uid: string;
  value: number | string;
  unit: DelayUnit;
}

/** The spec's default schedule (the server's DEFAULT_STATUS_QUERY_SCHEDULE): 1 min, 5 min ×5, 1 h, 1 day. */
export const DEFAULT_SCHEDULE_SECONDS: readonly number[] = [60, 300, 300, 300, 300, 300, 3600, 86_400];
export const STATUS_QUERY_DEFAULTS: StatusQuerySettings = {
  enabled: false,
  scheduleSeconds: [...DEFAULT_SCHEDULE_SECONDS],
  timeoutMs: 10_000,
};
const MIN_DELAY = 10;
const MAX_DELAY = 604_800;
const MAX_STEPS = 20;

/** A delay in the largest unit that holds it whole: 300 → 5 min, 90 → 90 s. */
export function delayRow(seconds: number): DelayRow {
  const unit = [...DELAY_UNITS].reverse().find((u) => seconds % UNIT_SECONDS[u] === 0) ?? "s";
  return { uid: randomId(), value: seconds / UNIT_SECONDS[unit], unit };
}

export const secondsOf = (row: DelayRow): number => Number(row.value) * UNIT_SECONDS[row.unit];

/** A schedule for people: runs of the same delay folded, "1 min, 5 min ×5, 1 h, 1 d". */
export function describeSchedule(seconds: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < seconds.length; ) {
    let j = i;
    while (seconds[j + 1] === seconds[i]) j++;
    const row = delayRow(seconds[i]!);
    const run = j - i + 1;
    parts.push(`${row.value} ${row.unit}${run > 1 ? ` ×${run}` : ""}`);
    i = j + 1;
  }
  return parts.join(", ");
}

/** Problems of the schedule's rows, by form path under `prefix` (the server checks the same). */
export function scheduleErrors(rows: DelayRow[], prefix: string): Record<string, string> {
  const errors: Record<string, string> = {};
  if (rows.length < 1 || rows.length > MAX_STEPS) errors[prefix] = t("statusQuery.stepsRange");
  rows.forEach((r, i) => {
    const s = secondsOf(r);
    if (!Number.isInteger(s) || s < MIN_DELAY || s > MAX_DELAY) {
      errors[`${prefix}.${i}.value`] = t("statusQuery.stepRange");
    }
  });
  return errors;
}
